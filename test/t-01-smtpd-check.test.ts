/**
 * Scenario: an operator checks configurations with `smtpd -n` (the real bin/smtpd, run as a
 * separate process): exit status, what goes to stdout and stderr, -v, -D and usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromRoot } from './helpers';

function smtpd(...args: string[]) {
  const r = spawnSync(process.execPath, [fromRoot('bin', 'smtpd'), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function conf(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-cli-'));
  const file = path.join(dir, 'smtpd.conf');
  fs.writeFileSync(file, text);
  return file;
}

const GOOD = 'dom = "example.org"\naction "local" mbox\nmatch from any for domain $dom action "local"\n';

test('a good configuration: "configuration OK" on stdout, exit 0', () => {
  const r = smtpd('-n', '-f', conf(GOOD));
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'configuration OK\n');
  assert.equal(r.stderr, '');
});

test('-v also prints the configuration as understood, one statement per line', () => {
  const r = smtpd('-nv', '-f', conf(GOOD));
  assert.equal(r.status, 0);
  assert.equal(r.stdout, [
    'listen on socket',
    'action "local" mbox',
    'match from any for domain { "example.org" } action "local"',
    'configuration OK',
    '',
  ].join('\n'));
});

test('-D overrides a macro of the file', () => {
  const r = smtpd('-n', '-v', '-D', 'dom=example.net', '-f', conf(GOOD));
  assert.equal(r.status, 0);
  assert.match(r.stdout, /for domain \{ "example\.net" \}/);
});

test('a broken configuration: every error as file:line:col on stderr, exit 1, nothing on stdout', () => {
  const file = conf('acton "x" mbox\nlisten on lo prot 25\naction "local" mbox\nmatch for any action "locl"\n');
  const r = smtpd('-n', '-f', file);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, [
    `${file}:1:1: unknown keyword "acton", did you mean "action"?`,
    `${file}:2:14: unknown keyword "prot", did you mean "port"?`,
    `${file}:4:22: no such action "locl", did you mean "local"?`,
    `${file}: 3 errors, configuration not loaded`,
    '',
  ].join('\n'));
});

test('a missing file and a usage error', () => {
  const missing = smtpd('-n', '-f', '/nonexistent/smtpd.conf');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^\/nonexistent\/smtpd\.conf:0:0: cannot read configuration: no such file$/m);
  const usage = smtpd('-n', '--bogus');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /unknown option '--bogus'/);
  const badMacro = smtpd('-n', '-D', 'novalue', '-f', conf(GOOD));
  assert.equal(badMacro.status, 2);
  assert.match(badMacro.stderr, /invalid macro "novalue": expected -D name=value/);
});

test('-h prints the usage and exits 0', () => {
  const r = smtpd('-h');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: smtpd/);
  assert.match(r.stdout, /-n\s+check the configuration and exit/);
});
