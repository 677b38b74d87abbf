import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
  assert.deepEqual(fs.readdirSync(dir).sort(), ['message', e!.evpid].sort(), 'no .tmp left, the removed envelope stays removed');
});
