/**
 * Fuzzing the configuration loader: random token soups and mutations of real configurations.
 * The loader must always answer with a Config or with errors that have a real position: it
 * never throws and never hangs (each test has a time limit). Every configuration that loads
 * must also survive the round trip through its normalized dump.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dumpConfig } from '../src/parse/dump';
import { parseConfigText, type LoadResult } from '../src/parse/load';
import { KEYWORDS } from '../src/parse/tokens';
import { fromRoot } from './helpers';

/** mulberry32: a small seeded generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const noFiles = {
  readFile: (f: string): string => {
    throw Object.assign(new Error(`no ${f}`), { code: 'ENOENT' });
  },
  mode: () => 0o600,
  checkReadable: () => undefined,
};

const PIECES = [
  ...KEYWORDS, '{', '}', '<', '>', '!', ',', '=', '=>', '\n', '\\\n', '#', '"', "'", '$x', '$', '(', ')',
  '"quoted value"', 'word', '25', '4h', '35M', '/etc/x', 'file:/x', 'db:/x', 'smtp+tls://a@b:587', '*', '\0',
  '\u00e9', ' ', '\t', 'x'.repeat(300), '{ a, b }', '{ k = v }', '<t>', 'regex', '"^a.*$"', '"(unclosed"',
];

const SEEDS = [
  fs.readFileSync(fromRoot('etc', 'smtpd.conf'), 'utf8'),
  [
    'x = "lo"',
    'table t { a, b }',
    'table m { k = v, k2 => v2 }',
    'pki mail cert /c key /k',
    'listen on $x port 2525 tls pki mail auth-optional <m> tag T filter { f1 }',
    'listen on socket mask-src',
    'filter f1 phase connect match !rdns regex { "^x" } disconnect "550 no"',
    'filter f2 phase rcpt-to match rcpt-to <t> reject "550 no"',
    'filter c chain { f1, f2 }',
    'action "a" maildir "~/M" junk alias <m> ttl 4h',
    'action "r" relay host "smtp://h:25" tls no-verify mail-from "x@y"',
    'match from src { 10.0.0.0/8 } for domain <t> action "a"',
    'match !from local for rcpt-to regex "^a" tag "T" !tls action "r"',
    'match auth reject',
    'bounce warn-interval 1h, 2h',
    'smtp limit max-mails 10 max-rcpt 20',
    'mta limit for domain example.org max-conn-per-host 3 inet4',
    '',
  ].join('\n'),
];

function soup(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)] + (r() < 0.7 ? ' ' : '');
  return s;
}

function mutate(r: () => number, text: string): string {
  let s = text;
  const rounds = 1 + Math.floor(r() * 4);
  for (let i = 0; i < rounds; i++) {
    const at = Math.floor(r() * (s.length + 1));
    const len = Math.floor(r() * 12);
    switch (Math.floor(r() * 5)) {
      case 0: s = s.slice(0, at) + s.slice(at + len); break;
      case 1: s = s.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)] + s.slice(at); break;
      case 2: s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(at); break;
      case 3: {
        const lines = s.split('\n');
        const a = Math.floor(r() * lines.length);
        const b = Math.floor(r() * lines.length);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        s = lines.join('\n');
        break;
      }
      default: s = s.slice(0, at) + s.slice(at, at + len).repeat(3) + s.slice(at);
    }
  }
  return s;
}

function assertSane(text: string, r: LoadResult): void {
  const context = `input: ${JSON.stringify(text).slice(0, 400)}`;
  assert.equal(r.config === undefined, r.errorCount > 0, `config xor errors; ${context}`);
  for (const d of r.diagnostics) {
    assert.ok(Number.isInteger(d.pos.line) && d.pos.line >= 1, `bad line in "${d.message}"; ${context}`);
    assert.ok(Number.isInteger(d.pos.col) && d.pos.col >= 1, `bad column in "${d.message}"; ${context}`);
    assert.ok(d.message.length > 0 && !d.message.includes('\n'), `multi-line message ${JSON.stringify(d.message)}; ${context}`);
  }
  if (r.config) {
    const dump = dumpConfig(r.config);
    const again = parseConfigText(dump, 'dump.conf', { files: noFiles, checkFiles: false });
    assert.equal(again.errorCount, 0, `dump does not parse back (${context}): ${again.diagnostics.map((d) => d.message).join('; ')}\n${dump}`);
    assert.equal(dumpConfig(again.config!), dump, `dump is not stable\n${dump}`);
  }
}

function load(text: string): LoadResult {
  return parseConfigText(text, path.join('/fuzz', 'smtpd.conf'), { files: noFiles, checkFiles: false });
}

test('random token soups never throw and report real positions', { timeout: 120_000 }, () => {
  const r = rng(20261122);
  for (let i = 0; i < 1500; i++) {
    const text = soup(r, 1 + Math.floor(r() * 60));
    assertSane(text, load(text));
  }
});

test('mutated real configurations never throw; those that load survive the dump round trip', { timeout: 120_000 }, () => {
  const r = rng(7);
  let loaded = 0;
  for (let i = 0; i < 1500; i++) {
    const text = mutate(r, SEEDS[i % SEEDS.length]!);
    const res = load(text);
    assertSane(text, res);
    if (res.config) loaded++;
  }
  assert.ok(loaded > 0, 'some mutations should still be valid configurations');
});

test('pathological inputs: deep braces, huge words, binary, no newline at the end', { timeout: 60_000 }, () => {
  for (const text of [
    'table t ' + '{'.repeat(5000),
    'table t { ' + 'a, '.repeat(20000) + '}',
    'admd ' + 'x'.repeat(100000),
    '\0\x01\x02\xff\ufeff',
    '"'.repeat(1001),
    '\\\n'.repeat(1000),
    'match for any action "a"',
    'x = "$x"\nadmd $x\n',
  ]) {
    assertSane(text, load(text));
  }
});
