import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asctime, deliverToMbox, mboxEntry, STALE_LOCK_MS } from './mbox';

const when = new Date(Date.UTC(2025, 0, 1, 0, 0, 0));

test('an mbox entry: From_ line, LF line ends, From lines quoted (mboxrd), an empty line after', () => {
  const e = mboxEntry('a@remote.test', Buffer.from('Subject: s\r\n\r\nhi\r\nFrom evil@x Thu Jan  1 00:00:00 2025\r\n>From quoted\r\nFromage\r\n'), when).toString('latin1');
  assert.equal(e, 'From a@remote.test Wed Jan  1 00:00:00 2025\nSubject: s\n\nhi\n>From evil@x Thu Jan  1 00:00:00 2025\n>>From quoted\nFromage\n\n');
  assert.match(mboxEntry('', Buffer.from('x'), when).toString(), /^From MAILER-DAEMON Wed Jan {2}1 00:00:00 2025\nx\n\n$/);
  assert.match(mboxEntry('a b\n@x', Buffer.from('x\r\n'), when).toString(), /^From a_b_@x /, 'the sender cannot break the From_ line');
  assert.equal(asctime(new Date(Date.UTC(2026, 10, 22, 13, 4, 5))), 'Sun Nov 22 13:04:05 2026');
});

test('deliverToMbox creates the mailbox 0600, appends under a lock it removes, and breaks a stale lock', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbox-'));
  const file = path.join(dir, 'user');
  const uid = process.getuid!();
  await deliverToMbox(file, uid, 'a@b', Buffer.from('Subject: one\r\n\r\n1\r\n'), when);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  fs.writeFileSync(`${file}.lock`, '');
  const old = new Date(Date.now() - STALE_LOCK_MS - 1000);
  fs.utimesSync(`${file}.lock`, old, old);
  await deliverToMbox(file, uid, 'c@d', Buffer.from('Subject: two\r\n\r\n2\r\n'), when);
  assert.equal(fs.readFileSync(file, 'latin1'), 'From a@b Wed Jan  1 00:00:00 2025\nSubject: one\n\n1\n\nFrom c@d Wed Jan  1 00:00:00 2025\nSubject: two\n\n2\n\n');
  assert.ok(!fs.existsSync(`${file}.lock`));
});

test('deliverToMbox refuses a mailbox that is a symlink, has another link, or is not the user\'s', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbox-'));
  const uid = process.getuid!();
  fs.writeFileSync(path.join(dir, 'target'), 'keep');
  fs.symlinkSync(path.join(dir, 'target'), path.join(dir, 'sym'));
  await assert.rejects(deliverToMbox(path.join(dir, 'sym'), uid, 'a@b', Buffer.from('x'), when), { code: 'ELOOP' });
  fs.linkSync(path.join(dir, 'target'), path.join(dir, 'hard'));
  await assert.rejects(deliverToMbox(path.join(dir, 'hard'), uid, 'a@b', Buffer.from('x'), when), { code: 'EUNSAFE' });
  fs.writeFileSync(path.join(dir, 'other'), '');
  await assert.rejects(deliverToMbox(path.join(dir, 'other'), uid + 1, 'a@b', Buffer.from('x'), when), { code: 'EUNSAFE' });
  assert.equal(fs.readFileSync(path.join(dir, 'target'), 'utf8'), 'keep');
  assert.ok(!fs.existsSync(path.join(dir, 'hard.lock')) && !fs.existsSync(path.join(dir, 'other.lock')), 'locks released');
});

test('concurrent deliveries to one mailbox take turns: every message whole, in the order asked, the lock released', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbox-'));
  const file = path.join(dir, 'user');
  const uid = process.getuid!();
  const n = 20;
  await Promise.all(Array.from({ length: n }, (_, i) => deliverToMbox(file, uid, 'a@b', Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`), when)));
  const entries = fs.readFileSync(file, 'latin1').split('From a@b Wed Jan  1 00:00:00 2025\n').slice(1);
  assert.deepEqual(entries, Array.from({ length: n }, (_, i) => `Subject: m${i}\n\nbody ${i}\n\n`));
  assert.ok(!fs.existsSync(`${file}.lock`));
});

test('a delivery that fails does not stop the next one to the same mailbox', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbox-'));
  const file = path.join(dir, 'user');
  const uid = process.getuid!();
  const bad = deliverToMbox(file, uid + 1, 'a@b', Buffer.from('x\r\n'), when); // not the owner: refused
  const good = deliverToMbox(file, uid, 'c@d', Buffer.from('y\r\n'), when);
  await assert.rejects(bad, { code: 'EUNSAFE' });
  assert.equal(await good, file);
  assert.match(fs.readFileSync(file, 'latin1'), /^From c@d .*\ny\n\n$/);
});
