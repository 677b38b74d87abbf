/**
 * The bad-configuration corpus: each test/bad-config/NN-name.conf must fail to load with
 * exactly the errors that its header comments list, in order.
 *
 * Header of a case (its leading `#` lines):
 *   # what: what the case tests
 *   # expect: LINE:COL: message                  an error in the case file itself
 *   # expect-file: files/x.conf:LINE:COL: message  an error in another file (path relative to
 *                                                  test/bad-config/)
 *   # expect-warning: LINE:COL: warning: message  when present, the warnings must match too
 * `# expect` and `# expect-file` lines together give every error, in the order reported.
 * In messages, BADCONF stands for the case file's path and FIXTURES for the absolute path of
 * test/bad-config/files (the `$fixtures` macro that the runner defines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, fromRoot, type Checked } from './helpers';

const CASE_RE = /^\d{2,3}-[a-z0-9-]+\.conf$/;
const MIN_CASES = 30;

interface Case {
  readonly name: string;
  readonly file: string;
  readonly what: string;
  /** `# expect` and `# expect-file` lines, in order */
  readonly errors: string[];
  /** `# expect-warning` lines */
  readonly warnings: string[];
}

function corpusDir(): string {
  return fromRoot('test', 'bad-config');
}

function fixturesDir(): string {
  return path.join(corpusDir(), 'files');
}

function caseNames(): string[] {
  return fs.readdirSync(corpusDir()).filter((n) => CASE_RE.test(n)).sort();
}

/** The leading comment lines of a case, parsed. */
function readCase(name: string): Case {
  const file = path.join(corpusDir(), name);
  const c = { name, file, what: '', errors: [] as string[], warnings: [] as string[] };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('#')) break;
    const m = /^# (what|expect|expect-file|expect-warning): (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'what') c.what = m[2]!;
    else if (m[1] === 'expect-warning') c.warnings.push(m[2]!);
    else c.errors.push(m[2]!);
  }
  return c;
}

/** A diagnostic as a case writes it: `LINE:COL: ...` in the case file, `files/x:LINE:COL: ...`
 * elsewhere; the case path and the fixtures path become BADCONF and FIXTURES. */
function shown(r: Checked, i: number, c: Case): string {
  const d = r.diagnostics[i]!;
  const text = d.pos.file === c.file
    ? r.lines[i]!
    : path.relative(corpusDir(), d.pos.file) + r.printed[i]!.slice(d.pos.file.length);
  return text.split(c.file).join('BADCONF').split(fixturesDir()).join('FIXTURES');
}

function diagnosticsOf(r: Checked, c: Case, severity: 'error' | 'warning'): string[] {
  return r.diagnostics.flatMap((d, i) => (d.severity === severity ? [shown(r, i, c)] : []));
}

function runCase(c: Case): void {
  assert.notEqual(c.what, '', `${c.name}: missing "# what:" line`);
  const r = check(c.file, { macros: { fixtures: fixturesDir() } });
  const errors = diagnosticsOf(r, c, 'error');
  assert.deepEqual(errors, c.errors, `${c.name}: errors differ from the "# expect" lines`);
  if (c.warnings.length > 0) {
    assert.deepEqual(diagnosticsOf(r, c, 'warning'), c.warnings, `${c.name}: warnings differ`);
  }
  assert.equal(r.config, undefined, `${c.name}: a configuration was built despite the errors`);
  assert.ok(r.errorCount > 0, `${c.name}: errorCount is 0`);
  assert.equal(r.errorCount, errors.length, `${c.name}: errorCount does not match the errors listed`);
}

test(`the bad-config corpus has at least ${MIN_CASES} cases`, () => {
  const names = caseNames();
  assert.ok(names.length >= MIN_CASES, `only ${names.length} cases in ${corpusDir()}`);
  const numbers = names.map((n) => Number.parseInt(n, 10));
  assert.equal(new Set(numbers).size, numbers.length, 'two cases share a number');
});

test('every .conf file in test/bad-config is named NN-short-name.conf', () => {
  const conf = fs.readdirSync(corpusDir()).filter((n) => n.endsWith('.conf'));
  assert.deepEqual(conf.filter((n) => !CASE_RE.test(n)), []);
});

for (const name of caseNames()) {
  test(name, () => runCase(readCase(name)));
}
