/**
 * The shipped documentation is true to the parser: etc/smtpd.conf and every complete example
 * of man/smtpd.conf.5 (its `.Bd -literal` blocks) load, and the man pages are valid mdoc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeSelfSigned } from '../scripts/selfsigned';
import { formatDiagnostic } from '../src/parse/diagnostics';
import { loadConfig, parseConfigText } from '../src/parse/load';
import { fromRoot } from './helpers';

/** The `.Bd -literal` blocks of an mdoc page, as plain text (mdoc escapes undone). */
export function literalBlocks(mdoc: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const lines = mdoc.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\.Bd\s+-literal\b/.test(lines[i]!)) continue;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\.Ed\b/.test(lines[i]!); i++) body.push(lines[i]!);
    const text = body
      .filter((l) => !l.startsWith('.\\"'))
      .map((l) => l.replace(/^\\&/, '').replace(/\\e/g, '\\').replace(/\\\(dq/g, '"').replace(/\\-/g, '-').replace(/\\&/g, ''))
      .join('\n');
    blocks.push({ line: start, text: `${text}\n` });
  }
  return blocks;
}

test('etc/smtpd.conf parses as shipped (its files are those of a real server)', () => {
  const r = loadConfig(fromRoot('etc', 'smtpd.conf'), { checkFiles: false });
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
  assert.ok(r.config);
  assert.equal(r.config.rules.length, 4);
  assert.deepEqual(r.config.listeners.filter((l) => l.kind === 'inet').map((l) => l.kind === 'inet' && `${l.port}:${l.tls}:${l.auth}`), [
    '25:starttls:none',
    '587:require:required',
  ]);
});

test('etc/smtpd.conf loads with its files, as npm start runs it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-etc-'));
  const pair = makeSelfSigned('localhost');
  fs.writeFileSync(path.join(dir, 'cert.pem'), pair.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), pair.key, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'passwd'), '', { mode: 0o600 });
  const r = loadConfig(fromRoot('etc', 'smtpd.conf'), {
    macros: {
      etc: fromRoot('etc'),
      certfile: path.join(dir, 'cert.pem'),
      keyfile: path.join(dir, 'key.pem'),
      passwdfile: path.join(dir, 'passwd'),
      listen_addr: '127.0.0.1',
      mx_port: '2525',
      submission_port: '2587',
    },
    verbose: true,
  });
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
  const aliases = r.config!.tables.find((t) => t.name === 'aliases');
  assert.ok(aliases?.kind === 'static' && aliases.pairs.some(([k, v]) => k === 'mailer-daemon' && v === 'postmaster'));
});

test('every complete example in man/smtpd.conf.5 parses', () => {
  const page = fromRoot('man', 'smtpd.conf.5');
  const blocks = literalBlocks(fs.readFileSync(page, 'utf8'));
  assert.ok(blocks.length >= 4, `expected at least 4 example blocks, found ${blocks.length}`);
  for (const b of blocks) {
    const r = parseConfigText(b.text, `${page}:${b.line}`, { checkFiles: false });
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), [], `example at ${page}:${b.line}:\n${b.text}`);
    assert.ok(r.config);
  }
});

test('man pages are valid mdoc (mandoc -T lint, warnings and worse)', () => {
  const pages = fs.readdirSync(fromRoot('man')).map((f) => fromRoot('man', f));
  assert.ok(pages.length >= 2);
  // mandoc is installed by .ci/run; a missing mandoc fails here with ENOENT.
  const out = execFileSync('mandoc', ['-T', 'lint', '-W', 'warning', ...pages], { encoding: 'utf8' });
  assert.equal(out, '');
});
