import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makemapMain } from './makemap';

function run(args: string[]) {
  let out = '';
  let err = '';
  const status = makemapMain(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { status, out, err };
}

function file(text: string): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'makemap-')), 'aliases');
  fs.writeFileSync(f, text);
  return f;
}

test('a good aliases file: its entries counted; -U prints key<TAB>value', () => {
  const f = file('# aliases\nroot: alice\nstaff: alice, bob@example.org, "|/usr/bin/log", /var/log/mail.copy, :include:/etc/mail/staff\nabuse: error:550 go away\n');
  const r = run(['-t', 'aliases', f]);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /: 3 entries, no problem/);
  assert.equal(run(['-U', f]).out, 'root\talice\nstaff\talice, bob@example.org, "|/usr/bin/log", /var/log/mail.copy, :include:/etc/mail/staff\nabuse\terror:550 go away\n');
});

test('every problem with its position: a broken line, a bad alias value; nothing else is printed', () => {
  const f = file('root: alice\n[broken\nbad: error:999\nrel: :include:staff\n');
  const r = run(['-t', 'aliases', f]);
  assert.equal(r.status, 1);
  assert.equal(r.out, '');
  assert.deepEqual(r.err.trim().split('\n'), [
    `${f}:2:1: unterminated "[" in key`,
    `${f}:3:1: alias "bad": error: needs a 4xx or 5xx code and a text`,
    `${f}:4:1: alias "rel": :include: needs an absolute path`,
  ]);
});

test('usage errors exit 64; a missing file says so', () => {
  assert.equal(run([]).status, 64);
  assert.equal(run(['-t', 'hash', 'x']).status, 64);
  assert.match(run(['/nonexistent/aliases']).err, /^makemap: \/nonexistent\/aliases: ENOENT\n$/);
});
