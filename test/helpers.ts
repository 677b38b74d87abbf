/**
 * Helpers shared by the end-to-end and corpus tests: where the checkout is, and parsing a
 * configuration file with the diagnostics as plain strings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatDiagnostic } from '../src/parse/diagnostics';
import { loadConfig, type LoadOptions, type LoadResult } from '../src/parse/load';

/** The root of the tsmtpd checkout: the nearest parent of this file (or of the working
 * directory) whose package.json is named tsmtpd. */
export function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (;;) {
      const pkg = path.join(dir, 'package.json');
      if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'tsmtpd') return dir;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('cannot find the tsmtpd checkout');
}

export function fromRoot(...parts: string[]): string {
  return path.join(repoRoot(), ...parts);
}

export interface Checked extends LoadResult {
  /** diagnostics as `line:col: message` (errors) or `line:col: warning: message`, file name dropped */
  readonly lines: string[];
  /** diagnostics as printed by smtpd -n: `file:line:col: message` */
  readonly printed: string[];
}

export function check(file: string, opts: LoadOptions = {}): Checked {
  const r = loadConfig(file, opts);
  const printed = r.diagnostics.map(formatDiagnostic);
  const lines = r.diagnostics.map((d) => formatDiagnostic(d).slice(d.pos.file.length + 1));
  return { ...r, lines, printed };
}
