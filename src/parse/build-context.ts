/**
 * The state of one configuration build: what has been declared so far, and the helpers every
 * statement builder uses (option repetition, numbers, file checks).
 *
 * Purpose: shared by the build-*.ts files. I/O: only through `FileAccess` (stat and read of
 * files the configuration names), so tests can run without the files.
 */
import type { Opt, Str } from './ast';
import type { Action, Ca, Filter, Listener, MatchRule, MtaLimits, Proc, Table } from './config';
import type { Diagnostics, Position } from './diagnostics';
import { describeError } from '../util/errno';
import { parseCount } from '../util/units';

export interface FileAccess {
  readFile(file: string): string;
  /** mode bits, or throws like fs.statSync */
  mode(file: string): number;
  /** throws like fs.accessSync(file, R_OK) */
  checkReadable(file: string): void;
}

export interface PkiDraft {
  name: string;
  pos: Position;
  cert?: Str;
  key?: Str;
  dhe: 'none' | 'auto' | 'legacy';
}

/** Something named that must exist once every statement is read. */
export interface PendingRef {
  kind: 'pki' | 'ca' | 'filter';
  name: Str;
  anchor?: Position;
}

export function where(pos: Position): string {
  return `${pos.file}:${pos.line}`;
}

export class BuildContext {
  readonly tables = new Map<string, Table>();
  readonly tablePos = new Map<string, Position>();
  /** file tables not read (file checks off): their type is unknown, so uses are not checked */
  readonly unloaded = new Set<string>();
  anonTables = 0;
  anonChains = 0;
  readonly pki = new Map<string, PkiDraft>();
  readonly ca = new Map<string, Ca & { pos: Position }>();
  readonly procs = new Map<string, Proc>();
  readonly procPos = new Map<string, Position>();
  readonly filters = new Map<string, Filter>();
  readonly filterPos = new Map<string, Position>();
  readonly wrappers = new Map<string, string>();
  readonly actions = new Map<string, Action>();
  readonly actionPos = new Map<string, Position>();
  /** every action name in the file with where it is defined, to explain use-before-define */
  readonly laterActions = new Map<string, Position>();
  readonly listeners: Listener[] = [];
  socketListenerPos?: Position;
  readonly rules: MatchRule[] = [];
  readonly pending: PendingRef[] = [];
  /** `table:NAME`, `action:NAME`, `filter:NAME` of definitions that had errors: their uses
   * are not reported again as undefined */
  readonly broken = new Set<string>();
  readonly secrecyChecked = new Set<string>();
  srsNeededAt?: Position;

  // global options
  admd?: string;
  bounceWarnInterval?: number[];
  readonly mdaLimits: Record<string, number> = {};
  mtaMaxDeferred?: number;
  mtaLimits: { family?: 'inet4' | 'inet6'; values: Record<string, number> } = { values: {} };
  readonly domainLimits: Record<string, { family?: 'inet4' | 'inet6'; values: Record<string, number> }> = {};
  queueCompression = false;
  queueEncryption?: { key?: string; fromStdin: boolean };
  queueTtl?: number;
  readonly schedulerLimits: Record<string, number> = {};
  readonly smtp: { maxMails?: number; maxRcpt?: number; ciphers?: string; maxMessageSize?: number; subAddrDelim?: string } = {};
  srsKey?: string;
  srsKeyBackup?: string;
  srsTtlDays?: number;

  constructor(
    readonly diags: Diagnostics,
    readonly checkFiles: boolean,
    readonly files: FileAccess,
  ) {}

  /** Each option name at most once (names in the same `group` count as one option).
   * Returns the options by name; repetitions are reported and dropped. */
  once(opts: readonly Opt[], owner: string, groups: Readonly<Record<string, string>> = {}): Map<string, Opt> {
    const seen = new Map<string, Opt>();
    const byGroup = new Map<string, Opt>();
    for (const o of opts) {
      const group = groups[o.name] ?? o.name;
      const prev = byGroup.get(group);
      if (prev) {
        const what = prev.name === o.name ? `"${o.name}"` : `"${o.name}" (with "${prev.name}")`;
        this.diags.error(o.pos, `${what} already specified for this ${owner}`);
        continue;
      }
      byGroup.set(group, o);
      seen.set(o.name, o);
    }
    return seen;
  }

  /** A decimal integer in [min, max], or an error naming `what`. */
  count(s: Str, what: string, min = 0, max = 2 ** 31 - 1): number | undefined {
    const n = parseCount(s.value, max);
    if (n === undefined || n < min) {
      this.diags.error(s.pos, `invalid ${what} "${s.value}": expected a number from ${min} to ${max}`);
      return undefined;
    }
    return n;
  }

  /** A file named by the configuration must exist and be readable. */
  readable(s: Str, what: string): boolean {
    if (!this.checkFiles) return true;
    if (!s.value.startsWith('/')) {
      this.diags.error(s.pos, `${what} "${s.value}" must be an absolute path`);
      return false;
    }
    try {
      this.files.checkReadable(s.value);
      return true;
    } catch (e) {
      this.diags.error(s.pos, `cannot read ${what} "${s.value}": ${describeError(e)}`);
      return false;
    }
  }

  /** Secrets (keys, credentials) should not be readable by group or others. */
  secrecy(s: Str, what: string): void {
    if (!this.checkFiles || this.secrecyChecked.has(s.value)) return;
    this.secrecyChecked.add(s.value);
    try {
      const mode = this.files.mode(s.value) & 0o777;
      if (mode & 0o077) {
        const octal = mode.toString(8).padStart(4, '0');
        this.diags.warning(s.pos, `${what} "${s.value}" is accessible by group or others (mode ${octal}): chmod 600 it`);
      }
    } catch {
      // readable() reports missing files
    }
  }
}

export type { MtaLimits };
