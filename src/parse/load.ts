/**
 * Loading smtpd.conf: read, preprocess, parse, check, and return a frozen Config or the list of
 * every error found.
 *
 * Purpose: the one entry point of src/parse/ (`smtpd -n`, the parent at start and on SIGHUP).
 * Never throws for a bad configuration: every problem is a Diagnostic. Nothing is applied when
 * there is an error: `config` is absent. I/O: reads the file, its includes and the files it
 * names (tables, certificates), unless `checkFiles` is false.
 */
import * as fs from 'node:fs';
import type { Config } from './config';
import { Diagnostics, type Diagnostic } from './diagnostics';
import { BuildContext, type FileAccess } from './build-context';
import { buildConfig, deepFreeze } from './build';
import { Preprocessor } from './preprocess';
import { describeError } from '../util/errno';

export interface LoadOptions {
  /** `-D name=value` macros */
  readonly macros?: Readonly<Record<string, string>>;
  /** check that files named by tables, pki, ca exist, and read file tables (default true) */
  readonly checkFiles?: boolean;
  /** warn about unused macros (smtpd -v) */
  readonly verbose?: boolean;
  /** file access, replaceable in tests */
  readonly files?: FileAccess;
}

export interface LoadResult {
  /** present only when there is no error */
  readonly config?: Config;
  readonly diagnostics: readonly Diagnostic[];
  readonly errorCount: number;
  /** the configuration file and every included file */
  readonly files: readonly string[];
}

export const nodeFiles: FileAccess = {
  readFile: (file) => fs.readFileSync(file, 'utf8'),
  mode: (file) => fs.statSync(file).mode,
  checkReadable: (file) => {
    if (!fs.statSync(file).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    fs.accessSync(file, fs.constants.R_OK);
  },
};

/** Parse configuration text that comes from `file` (which is not read). */
export function parseConfigText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const diags = new Diagnostics();
  const files = opts.files ?? nodeFiles;
  const pre = new Preprocessor({
    macros: opts.macros ?? {},
    readFile: (f) => files.readFile(f),
    diags,
    warnUnusedMacros: opts.verbose ?? false,
  });
  pre.run(file, text);
  const ctx = new BuildContext(diags, opts.checkFiles ?? true, files);
  const lines = text.split('\n');
  const end = { file, line: Math.max(lines.length - (text.endsWith('\n') ? 1 : 0), 1), col: 1 };
  const config = buildConfig(ctx, pre.statements, end);
  pre.reportUnused();
  // In reading order: main-file diagnostics by position; those in an included or table file
  // at the main-file statement that led there (their anchor), in the order found.
  const key = (d: Diagnostic, i: number): number[] => {
    const main = d.pos.file === file;
    const a = main ? d.pos : (d.anchor ?? d.pos);
    return [a.line, a.col, main ? 0 : 1, i];
  };
  const keyed = diags.list.map((d, i) => ({ d, k: key(d, i) }));
  keyed.sort((x, y) => {
    for (let j = 0; j < x.k.length; j++) if (x.k[j] !== y.k[j]) return x.k[j]! - y.k[j]!;
    return 0;
  });
  const diagnostics = keyed.map(({ d: { anchor: _anchor, ...rest } }) => rest);
  const result = { diagnostics, errorCount: diags.errorCount, files: pre.files };
  return diags.errorCount === 0 ? { ...result, config: deepFreeze(config) } : result;
}

export function loadConfig(file: string, opts: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = (opts.files ?? nodeFiles).readFile(file);
  } catch (e) {
    const diagnostics = [{ severity: 'error' as const, pos: { file, line: 0, col: 0 }, message: `cannot read configuration: ${describeError(e)}` }];
    return { diagnostics, errorCount: 1, files: [file] };
  }
  return parseConfigText(text, file, opts);
}
