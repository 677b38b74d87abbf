/**
 * Table lookups for the ruleset: the configuration's tables and the implicit ones, matched the
 * way each use needs (domain, netaddr, mailaddr, string, regex).
 * Proc tables are not served yet: a lookup in one is a temporary failure (TableError).
 * Privileges: none needed (static tables came with the configuration). No I/O.
 */
import type { Table } from '../parse/config';
import { domainMatches, mailaddrMatches } from '../mail/address';
import { netaddrMatches } from '../mail/netaddr';

export type Service = 'domain' | 'netaddr' | 'mailaddr' | 'string' | 'regex';

export class TableError extends Error {}

export interface LocalIdentity {
  readonly serverName: string;
  readonly addresses: readonly string[];
}

function regexOf(pattern: string): RegExp | undefined {
  const insensitive = pattern.startsWith('(?i)');
  try {
    return new RegExp(insensitive ? pattern.slice(4) : pattern, insensitive ? 'i' : '');
  } catch {
    return undefined;
  }
}

export class Tables {
  private readonly byName: Map<string, Table>;
  private readonly implicit: Map<string, readonly string[]>;
  private readonly regexCache = new Map<string, RegExp | undefined>();

  constructor(tables: readonly Table[], local: LocalIdentity) {
    this.byName = new Map(tables.map((t) => [t.name, t]));
    const addrs = local.addresses;
    this.implicit = new Map<string, readonly string[]>([
      ['<localhost>', ['local', ...addrs]],
      ['<localnames>', ['localhost', local.serverName, ...addrs, ...addrs.map((a) => `[${a}]`)]],
      ['<anyhost>', ['local', '0.0.0.0/0', '::/0']],
      ['<anydestination>', ['*']],
    ]);
  }

  private keys(name: string): readonly string[] {
    const imp = this.implicit.get(name);
    if (imp) return imp;
    const t = this.byName.get(name);
    if (!t) throw new TableError(`no table ${name}`);
    if (t.kind === 'proc') throw new TableError(`table ${name}: proc table backends are not served yet`);
    return t.type === 'list' ? t.keys : t.pairs.map(([k]) => k);
  }

  /** Does `key` match an entry of table `name` for `service`? */
  match(name: string, service: Service, key: string): boolean {
    const entries = this.keys(name);
    switch (service) {
      case 'domain':
        return entries.some((e) => domainMatches(key, e));
      case 'netaddr':
        return key === 'local' ? entries.includes('local') : entries.some((e) => e !== 'local' && netaddrMatches(key, e));
      case 'mailaddr':
        return entries.some((e) => mailaddrMatches(key, e));
      case 'string':
        return entries.some((e) => e === key || e.toLowerCase() === key.toLowerCase());
      case 'regex':
        return entries.some((e) => {
          if (!this.regexCache.has(e)) this.regexCache.set(e, regexOf(e));
          return this.regexCache.get(e)?.test(key) ?? false;
        });
    }
  }

  /** The value of `key` in mapping table `name`, or undefined. */
  lookup(name: string, key: string): string | undefined {
    const t = this.byName.get(name);
    if (!t) throw new TableError(`no table ${name}`);
    if (t.kind === 'proc') throw new TableError(`table ${name}: proc table backends are not served yet`);
    const k = key.toLowerCase();
    for (const [pk, v] of t.pairs) if (pk.toLowerCase() === k) return v;
    return undefined;
  }
}
