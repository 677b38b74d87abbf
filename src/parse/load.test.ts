// Unit tests of loading: files the configuration names (exist, readable, secret), the frozen
// Config, the order of diagnostics, and "nothing applied on error".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatDiagnostic } from './diagnostics';
import { loadConfig, parseConfigText } from './load';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-load-'));
}

function write(dir: string, name: string, text: string, mode = 0o600): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  fs.chmodSync(p, mode);
  return p;
}

/** `LINE:COL` of the first occurrence of `needle` on line `n` (1-based) of `text`. */
function at(text: string, n: number, needle: string): string {
  return `${n}:${text.split('\n')[n - 1]!.indexOf(needle) + 1}`;
}

function messages(r: { diagnostics: readonly Parameters<typeof formatDiagnostic>[0][] }, dir: string): string[] {
  return r.diagnostics.map((d) => formatDiagnostic(d).split(dir).join('DIR'));
}

test('a key or credentials file readable by others gets a warning, not an error', () => {
  const dir = tmpdir();
  write(dir, 'cert.pem', 'x', 0o644);
  write(dir, 'key.pem', 'x', 0o644);
  write(dir, 'creds', 'bob $2b$10$abc\n', 0o640);
  const text = [
    `pki mail cert ${dir}/cert.pem key ${dir}/key.pem`,
    `table creds file:${dir}/creds`,
    'listen on lo tls pki mail auth <creds>',
    'action "a" mbox',
    'match for any action "a"',
    '',
  ].join('\n');
  const conf = write(dir, 'smtpd.conf', text);
  const r = loadConfig(conf);
  assert.ok(r.config, 'warnings do not stop the load');
  assert.deepEqual(messages(r, dir), [
    `DIR/smtpd.conf:${at(text, 1, `${dir}/key`)}: warning: key file "DIR/key.pem" is accessible by group or others (mode 0644): chmod 600 it`,
    'DIR/smtpd.conf:2:7: warning: credentials table file "DIR/creds" is accessible by group or others (mode 0640): chmod 600 it',
  ]);
  fs.chmodSync(path.join(dir, 'key.pem'), 0o600);
  fs.chmodSync(path.join(dir, 'creds'), 0o600);
  assert.deepEqual(loadConfig(conf).diagnostics, []);
});

test('files named by tables, pki and ca must exist', () => {
  const dir = tmpdir();
  const text = [
    `table t file:${dir}/missing`,
    `pki mail cert ${dir}/nocert key ${dir}/nokey`,
    `ca mail cert ${dir}/noca`,
    'action "a" mbox',
    'match for any action "a"',
    '',
  ].join('\n');
  const conf = write(dir, 'smtpd.conf', text);
  const r = loadConfig(conf);
  assert.equal(r.config, undefined);
  assert.deepEqual(messages(r, dir), [
    'DIR/smtpd.conf:1:9: table "t": cannot read "DIR/missing": no such file',
    `DIR/smtpd.conf:${at(text, 2, `${dir}/nocert`)}: cannot read certificate file "DIR/nocert": no such file`,
    `DIR/smtpd.conf:${at(text, 2, `${dir}/nokey`)}: cannot read key file "DIR/nokey": no such file`,
    `DIR/smtpd.conf:${at(text, 3, `${dir}/noca`)}: cannot read ca certificate file "DIR/noca": no such file`,
  ]);
});

test('a missing configuration file is one clear error', () => {
  const r = loadConfig('/nonexistent/smtpd.conf');
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), ['/nonexistent/smtpd.conf:0:0: cannot read configuration: no such file']);
});

test('the Config is deeply frozen', () => {
  const r = parseConfigText('table d { a, b }\naction "a" mbox\nmatch for domain <d> action "a"\n', 'x.conf');
  assert.ok(r.config);
  assert.ok(Object.isFrozen(r.config.rules[0]!.for));
  assert.throws(() => (r.config!.tables as unknown as unknown[]).push(1));
});

test('any error means no Config; diagnostics come sorted by position', () => {
  const r = parseConfigText('admd $x\nacton "a" mbox\naction "a" mbox\nmatch for any action "a"\n', 'x.conf');
  assert.equal(r.config, undefined);
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
    'x.conf:1:6: macro "x" is not defined',
    'x.conf:2:1: unknown keyword "acton", did you mean "action"?',
  ]);
});

test('an empty configuration has no match rule', () => {
  const r = parseConfigText('# nothing\n', 'x.conf');
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
    'x.conf:1:1: no match rules, nothing to do: add at least one "match ... action NAME" rule',
  ]);
});
