/**
 * Golden tests of the configuration dump (`smtpd -n -v`): each test/golden/NAME.conf must
 * load without errors, give exactly the warnings it announces, dump to NAME.out, and dump to
 * the same text again when its dump is loaded back.
 *
 * Conventions of a case:
 * - `$fixtures` is a macro for the absolute path of test/golden/files; in the dumps that
 *   path is written `$FIXTURES`, so the .out files do not depend on the checkout location.
 * - `# expect-warning: LINE:COL: warning: message` lines list the expected warnings.
 * - `# golden-contents` also compares what was read from each file table with
 *   NAME.contents.out (the dump only names the file).
 * - NAME.macros, if present, holds extra `-D` macros, one `name=value` a line; `$FIXTURES`
 *   in a value is replaced by the fixtures path.
 * `UPDATE_GOLDEN=1` rewrites the .out files instead of failing; read them before committing.
 * Built outside the checkout (tsc --outDir /tmp/x), run it with NODE_PATH=<checkout>/node_modules.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Config, StaticTable } from '../src/parse/config';
import { dumpConfig } from '../src/parse/dump';
import { check, fromRoot } from './helpers';

const GOLDEN = fromRoot('test', 'golden');
const FIXTURES = path.join(GOLDEN, 'files');
const PLACEHOLDER = '$FIXTURES';
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** The names of the cases: every NAME.conf directly in test/golden, sorted. */
function caseNames(): string[] {
  return fs.readdirSync(GOLDEN).filter((f) => f.endsWith('.conf')).map((f) => f.slice(0, -5)).sort();
}

function casePath(name: string, ext: string): string {
  return path.join(GOLDEN, `${name}${ext}`);
}

function readIfExists(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

/** Git keeps only 644 or 755: make the secret fixtures 600, as smtpd wants them. */
function protectSecrets(): void {
  const dir = path.join(FIXTURES, 'private');
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o600);
}

/** `$fixtures` plus the case's NAME.macros. */
function caseMacros(name: string): Record<string, string> {
  const macros: Record<string, string> = { fixtures: FIXTURES };
  const text = readIfExists(casePath(name, '.macros')) ?? '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `${name}.macros: "${line}" is not name=value`);
    macros[line.slice(0, eq)] = line.slice(eq + 1).split(PLACEHOLDER).join(FIXTURES);
  }
  return macros;
}

/** The text of the `# expect-warning: ...` lines. */
function expectedWarnings(conf: string): string[] {
  return conf.split('\n').flatMap((l) => {
    const m = /^#\s*expect-warning:\s*(.*\S)\s*$/.exec(l);
    return m ? [m[1]!] : [];
  });
}

function normalize(text: string): string {
  return text.split(FIXTURES).join(PLACEHOLDER);
}

/** What was read from each file table: `table NAME TYPE PATH`, then one line per entry. */
function tableContents(config: Config): string {
  const files = config.tables.filter((t): t is StaticTable => t.kind === 'static' && t.path !== undefined);
  const lines = files.flatMap((t) => [
    `table ${t.name} ${t.type} ${t.path}`,
    ...(t.type === 'list' ? t.keys.map((k) => `\t${k}`) : t.pairs.map(([k, v]) => `\t${k} => ${v}`)),
  ]);
  return normalize(lines.map((l) => `${l}\n`).join(''));
}

/** Compare with a golden file, or write it under UPDATE_GOLDEN=1. */
function compareGolden(file: string, actual: string): void {
  if (UPDATE) {
    fs.writeFileSync(file, actual);
    return;
  }
  const expected = readIfExists(file);
  assert.ok(expected !== undefined, `${path.basename(file)} is missing: run with UPDATE_GOLDEN=1, then read it`);
  assert.equal(actual, expected, `${path.basename(file)} differs`);
}

/** Load a configuration and fail on any error, showing them all. */
function loadClean(file: string, macros: Record<string, string>): { config: Config; warnings: string[] } {
  const r = check(file, { macros });
  assert.equal(r.errorCount, 0, `errors in ${file}:\n${r.printed.join('\n')}`);
  assert.ok(r.config);
  return { config: r.config, warnings: r.lines };
}

/** Load the dump again: no errors, and the same dump. */
function assertRoundTrip(dir: string, name: string, dump: string): void {
  const file = path.join(dir, `${name}.dump.conf`);
  fs.writeFileSync(file, dump);
  const again = loadClean(file, {});
  assert.equal(dumpConfig(again.config), dump, 'the dump of the dump differs from the dump');
}

function runCase(name: string, tmp: string): void {
  const confFile = casePath(name, '.conf');
  const conf = fs.readFileSync(confFile, 'utf8');
  const { config, warnings } = loadClean(confFile, caseMacros(name));
  assert.deepEqual(warnings, expectedWarnings(conf), 'warnings differ from the expect-warning lines');
  const dump = dumpConfig(config);
  compareGolden(casePath(name, '.out'), normalize(dump));
  if (/^#\s*golden-contents\s*$/m.test(conf)) compareGolden(casePath(name, '.contents.out'), tableContents(config));
  assertRoundTrip(tmp, name, dump);
}

// ---- coverage: at least one case per statement kind ------------------------------------

const NAME = '"[^"]*"';

/** Statement kinds, recognized in the dumps (one normalized statement per line). */
const DUMP_KINDS: readonly (readonly [string, RegExp])[] = [
  ['table (inline)', /^table \S+ \{/m],
  ['table (file)', /^table \S+ "file:/m],
  ['table (proc backend with argument)', /^table \S+ "(?!file:)[a-z][a-z0-9_-]*:\S/m],
  ['table (proc backend without argument)', /^table \S+ "[a-z][a-z0-9_-]*"$/m],
  ['pki', /^pki /m],
  ['ca', /^ca /m],
  ['admd', /^admd /m],
  ['bounce', /^bounce warn-interval /m],
  ['mda wrapper', /^mda wrapper /m],
  ['mda limit', /^mda limit /m],
  ['mta max-deferred', /^mta max-deferred /m],
  ['mta limit', /^mta limit (?!for )/m],
  ['mta limit for domain', /^mta limit for domain /m],
  ['proc', /^proc /m],
  ['queue compression', /^queue compression$/m],
  ['queue encryption (key)', /^queue encryption "/m],
  ['queue encryption (stdin)', /^queue encryption stdin$/m],
  ['queue encryption (prompt)', /^queue encryption$/m],
  ['queue ttl', /^queue ttl /m],
  ['scheduler limit', /^scheduler limit /m],
  ['smtp limit', /^smtp limit /m],
  ['smtp ciphers', /^smtp ciphers /m],
  ['smtp max-message-size', /^smtp max-message-size /m],
  ['smtp sub-addr-delim', /^smtp sub-addr-delim /m],
  ['srs key', /^srs key "/m],
  ['srs key backup', /^srs key backup /m],
  ['srs ttl', /^srs ttl /m],
  ['listen on socket', /^listen on socket ./m],
  ['listen on interface', /^listen on "/m],
  ...['mbox', 'maildir', 'lmtp', 'mda', 'forward-only', 'expand-only', 'relay'].map(
    (m) => [`action ${m}`, new RegExp(`^action ${NAME} ${m}\\b`, 'm')] as const,
  ),
  ['match', /^match /m],
  ['match reject', /^match .* reject$/m],
  ['filter proc', new RegExp(`^filter ${NAME} proc "`, 'm')],
  ['filter proc-exec', new RegExp(`^filter ${NAME} proc-exec `, 'm')],
  ['filter phase', new RegExp(`^filter ${NAME} phase `, 'm')],
  ['filter chain', new RegExp(`^filter ${NAME} chain `, 'm')],
];

/** Kinds that only the inputs show: the dump has them resolved away. */
function missingInputKinds(names: readonly string[]): string[] {
  const texts = names.map((n) => fs.readFileSync(casePath(n, '.conf'), 'utf8'));
  const missing: string[] = [];
  if (!texts.some((t) => /^\s*include\s/m.test(t))) missing.push('include');
  if (!texts.some((t) => /^\s*\w+\s*=\s*\S/m.test(t))) missing.push('macro definition');
  const overridden = names.some((n, i) =>
    Object.keys(caseMacros(n)).some((m) => m !== 'fixtures' && new RegExp(`^\\s*${m}\\s*=`, 'm').test(texts[i]!)),
  );
  if (!overridden) missing.push('macro overridden by -D (NAME.macros)');
  return missing;
}

describe('golden configurations', () => {
  let tmp = '';
  before(() => {
    protectSecrets();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-golden-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const name of caseNames()) {
    test(name, () => runCase(name, tmp));
  }

  test('every statement kind has a golden case', () => {
    const names = caseNames();
    const dumps = names.map((n) => dumpConfig(loadClean(casePath(n, '.conf'), caseMacros(n)).config)).join('');
    const missing = DUMP_KINDS.filter(([, re]) => !re.test(dumps)).map(([kind]) => kind);
    assert.deepEqual([...missing, ...missingInputKinds(names)], []);
  });

  test('every golden output has its input', () => {
    const outs = fs.readdirSync(GOLDEN).filter((f) => f.endsWith('.out') || f.endsWith('.macros'));
    const names = new Set(caseNames());
    const orphans = outs.filter((f) => !names.has(f.replace(/(\.contents)?\.out$|\.macros$/, '')));
    assert.deepEqual(orphans, []);
  });
});
