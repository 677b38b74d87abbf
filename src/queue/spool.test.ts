import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GONE } from './spare-dirs';
import { FLUSH_BYTES, Spool } from './spool';

function spool(): Spool {
  const s = new Spool(fs.mkdtempSync(path.join(os.tmpdir(), 'spool-')), 0);
  s.open();
  return s;
}

const env = { action: 'local', sender: 'a@b', rcpt: 'c@d', dest: 'c@d' };

test('a committed message is in queue/XX/msgid with its envelope; incoming/ is empty', async () => {
  const s = spool();
  const msgid = s.create();
  s.append(msgid, Buffer.from('Subject: x\r\n\r\n'));
  s.append(msgid, Buffer.from('body\r\n'));
  const [e] = await s.commit(msgid, [env]);
  const dir = path.join(s.root, 'queue', msgid.slice(0, 2), msgid);
  assert.equal(fs.readFileSync(path.join(dir, 'message'), 'latin1'), 'Subject: x\r\n\r\nbody\r\n');
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, e!.evpid), 'utf8')).dest, 'c@d');
  assert.deepEqual(fs.readdirSync(path.join(s.root, 'incoming')), []);
});

test('the delivery of a small message reads it from memory; once its last envelope is gone, so is the copy', async () => {
  const s = spool();
  const msgid = s.create();
  s.append(msgid, Buffer.from('Subject: kept\r\n\r\nin memory\r\n'));
  const [e] = await s.commit(msgid, [env]);
  const file = path.join(s.root, 'queue', msgid.slice(0, 2), msgid, 'message');
  fs.writeFileSync(file, 'changed on disk');
  assert.equal((await s.readMessage(msgid)).toString(), 'Subject: kept\r\n\r\nin memory\r\n', 'not read back from disk');
  await s.removeEnvelope(msgid, e!.evpid);
  assert.ok(!fs.existsSync(path.dirname(file)));
  await assert.rejects(s.readMessage(msgid), { code: 'ENOENT' });
});

test('a message written in several pieces is read back from disk, whole', async () => {
  const s = spool();
  const msgid = s.create();
  const big = Buffer.alloc(FLUSH_BYTES + 1000, 0x61);
  s.append(msgid, big.subarray(0, FLUSH_BYTES));
  s.append(msgid, big.subarray(FLUSH_BYTES));
  await s.commit(msgid, [env]);
  fs.appendFileSync(path.join(s.root, 'queue', msgid.slice(0, 2), msgid, 'message'), 'X');
  assert.equal((await s.readMessage(msgid)).length, big.length + 1, 'from disk (no partial copy kept)');
});

test('a failed file operation reaches the commit with its errno code, and nothing is left behind', async () => {
  const s = spool();
  fs.rmSync(path.join(s.root, 'incoming'), { recursive: true });
  const msgid = s.create();
  s.append(msgid, Buffer.from('Subject: lost\r\n\r\nx\r\n'));
  await assert.rejects(s.commit(msgid, [env]), { code: 'ENOENT' });
  assert.ok(!fs.existsSync(path.join(s.root, 'queue', msgid.slice(0, 2), msgid)));
  assert.equal(s.isOpen(msgid), false);
});

test('an aborted message that was partly written leaves no file', async () => {
  const s = spool();
  const msgid = s.create();
  s.append(msgid, Buffer.alloc(FLUSH_BYTES, 0x62));
  await s.abort(msgid);
  assert.deepEqual(fs.readdirSync(path.join(s.root, 'incoming')), []);
});

test('removals run in the background; settled() waits for every one (the queue does before it exits)', async () => {
  const s = spool();
  const ids: { msgid: string; evpid: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const msgid = s.create();
    s.append(msgid, Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`));
    const [e] = await s.commit(msgid, [env]);
    ids.push({ msgid, evpid: e!.evpid });
  }
  for (const { msgid, evpid } of ids) void s.removeEnvelope(msgid, evpid);
  await s.settled();
  const q = path.join(s.root, 'queue');
  assert.deepEqual(fs.readdirSync(q).flatMap((b) => fs.readdirSync(path.join(q, b))), []);
});

test('updates and the removal of one envelope run in the order asked: the last update wins, a removal is never undone by an update still on its way', async () => {
  const s = spool();
  const msgid = s.create();
  s.append(msgid, Buffer.from('Subject: retried\r\n\r\nx\r\n'));
  const [e, f] = await s.commit(msgid, [env, { ...env, rcpt: 'g@h', dest: 'g@h' }]);
  const dir = path.join(s.root, 'queue', msgid.slice(0, 2), msgid);
  void s.updateEnvelope({ ...e!, retry: 1 });
  void s.updateEnvelope({ ...e!, retry: 2 });
  void s.updateEnvelope({ ...f!, retry: 1 });
  void s.removeEnvelope(msgid, f!.evpid);
  await s.settled();
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, e!.evpid), 'utf8')).retry, 2);
  const live = fs.readdirSync(dir).filter((f) => !f.endsWith(GONE)); // a removed envelope's file is kept for reuse
  assert.deepEqual(live.sort(), ['message', e!.evpid].sort(), 'no .tmp left, the removed envelope stays removed');
});

function messageDir(s: Spool, msgid: string): string {
  return path.join(s.root, 'queue', msgid.slice(0, 2), msgid);
}

test('a removed message tree holds the next message: same directory inode, its files emptied and renamed, nothing of the old message left', async () => {
  const s = spool();
  const old = s.create();
  s.append(old, Buffer.from(`Subject: old\r\n\r\n${'x'.repeat(5000)}\r\n`));
  const long = { ...env, rcpt: 'g@h', dest: 'g@h', errorline: 'e'.repeat(300) }; // longer than the next one
  const [e1, e2] = await s.commit(old, [long, long]);
  const inode = fs.statSync(messageDir(s, old)).ino;
  void s.removeEnvelope(old, e1!.evpid);
  void s.removeEnvelope(old, e2!.evpid);
  await s.settled();
  assert.ok(!fs.existsSync(messageDir(s, old)), 'out of the queue');
  assert.equal(fs.readdirSync(path.join(s.root, 'purge')).length, 1, 'one spare tree');

  const next = s.create();
  s.append(next, Buffer.from('Subject: new\r\n\r\nshort\r\n'));
  const [n] = await s.commit(next, [{ ...env, rcpt: 'n@h', dest: 'n@h' }]);
  const dir = messageDir(s, next);
  assert.equal(fs.statSync(dir).ino, inode, 'the directory was reused');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['message', n!.evpid].sort(), 'the second old envelope file is gone');
  assert.equal(fs.readFileSync(path.join(dir, 'message'), 'latin1'), 'Subject: new\r\n\r\nshort\r\n');
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, n!.evpid), 'utf8')).dest, 'n@h');
  assert.equal(fs.statSync(path.join(dir, 'message')).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(path.join(s.root, 'purge')), []);
});

test('a message with more envelopes than its spare tree had gets new files for the rest', async () => {
  const s = spool();
  const old = s.create();
  s.append(old, Buffer.from('Subject: old\r\n\r\nx\r\n'));
  const [e] = await s.commit(old, [env]);
  await s.removeEnvelope(old, e!.evpid);
  const next = s.create();
  s.append(next, Buffer.from('Subject: three\r\n\r\nx\r\n'));
  const stored = await s.commit(next, ['a@h', 'b@h', 'c@h'].map((r) => ({ ...env, rcpt: r, dest: r })));
  assert.deepEqual(fs.readdirSync(messageDir(s, next)).sort(), ['message', ...stored.map((x) => x.evpid)].sort());
  assert.deepEqual(s.load().envelopes.map((x) => x.dest).sort(), ['a@h', 'b@h', 'c@h']);
});

test('at start purge/ is emptied, and a message whose removal was cut short is deleted, not moved to corrupt/', () => {
  const s = spool();
  fs.mkdirSync(path.join(s.root, 'purge', 'sX'));
  fs.writeFileSync(path.join(s.root, 'purge', 'sX', 'message'), '');
  const dir = path.join(s.root, 'queue', 'ab', 'ab000001');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'message'), 'delivered');
  fs.writeFileSync(path.join(dir, `ab00000100000001${GONE}`), '{}');
  assert.deepEqual(s.open().failed, []);
  assert.deepEqual(fs.readdirSync(path.join(s.root, 'purge')), []);
  const { envelopes, corrupt } = s.load();
  assert.deepEqual([envelopes, corrupt], [[], []]);
  assert.ok(!fs.existsSync(dir));
});
