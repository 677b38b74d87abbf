import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { deliverToMaildir } from './maildir';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'maildir-'));
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

test('a missing maildir is made (tmp, new, cur 0700) and the message lands in new/ as 0600, tmp/ left empty', async () => {
  const dir = path.join(tmpdir(), 'Maildir');
  const file = await deliverToMaildir(dir, Buffer.from('Subject: a\r\n\r\nbody\r\n'), false);
  assert.equal(path.dirname(file), path.join(dir, 'new'));
  assert.equal(fs.readFileSync(file, 'latin1'), 'Subject: a\r\n\r\nbody\r\n');
  assert.equal(mode(file), 0o600);
  for (const sub of ['tmp', 'new', 'cur']) assert.equal(mode(path.join(dir, sub)), 0o700, sub);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'tmp')), []);
});

test('a maildir with tmp/ but without new/ still gets the message', async () => {
  const dir = path.join(tmpdir(), 'Maildir');
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const file = await deliverToMaildir(dir, Buffer.from('x\r\n'), false);
  assert.equal(fs.readFileSync(file, 'latin1'), 'x\r\n');
  assert.ok(fs.existsSync(path.join(dir, 'cur')));
});

test('junk goes to .Junk when asked, and only then', async () => {
  const dir = path.join(tmpdir(), 'Maildir');
  const spam = Buffer.from('X-Spam: yes\r\n\r\nbuy\r\n');
  assert.equal(path.dirname(await deliverToMaildir(dir, spam, true)), path.join(dir, '.Junk', 'new'));
  assert.equal(path.dirname(await deliverToMaildir(dir, spam, false)), path.join(dir, 'new'));
});

test('deliveries into one maildir at once all land, and share the fsync of new/ (one per file, fewer for the directory)', async (t) => {
  const dir = path.join(tmpdir(), 'Maildir');
  await deliverToMaildir(dir, Buffer.from('first\r\n'), false);
  let fsyncs = 0;
  // the module object itself (the namespace import only reads through to it)
  const nodeFs = createRequire(__filename)('node:fs') as typeof fs;
  const real = nodeFs.fsync;
  t.mock.method(nodeFs, 'fsync', (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
    fsyncs++;
    real(fd, cb);
  });
  const files = await Promise.all(Array.from({ length: 20 }, (_, i) => deliverToMaildir(dir, Buffer.from(`m${i}\r\n`), false)));
  assert.equal(new Set(files).size, 20);
  assert.equal(fs.readdirSync(path.join(dir, 'new')).length, 21);
  assert.ok(fsyncs >= 21 && fsyncs < 40, `20 file fsyncs and fewer than 20 of new/ (saw ${fsyncs} in all)`);
});
