// Channels over a real Unix socket pair: request/reply, messages in order, backpressure,
// malformed frames end the channel with an error, closing rejects pending requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Channel, ChannelClosed } from './channel';
import { encodeJson } from './frame';
import { CommonMessage } from './msg-workers';
import { socketPair } from '../util/socketpair';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-pair-'));
}


type Ch = Channel<CommonMessage, CommonMessage>;
function channels(a: net.Socket, b: net.Socket, trace?: string[]): [Ch, Ch] {
  const t = trace ? { trace: (l: string) => trace.push(l) } : {};
  return [
    new Channel({ self: 'lka', peer: 'queue', socket: a, decoder: CommonMessage, ...t }),
    new Channel({ self: 'queue', peer: 'lka', socket: b, decoder: CommonMessage }),
  ];
}

test('request and reply are matched by reqid; other messages reach the handler in order', async () => {
  const [a, b] = await socketPair(tmp());
  const trace: string[] = [];
  const [ca, cb] = channels(a, b, trace);
  cb.onMessage((m) => {
    if (m.type === 'PING') cb.send({ type: 'PONG', re: m.reqid, pid: 42, name: 'queue' });
  });
  const replies = await Promise.all([1, 2, 3].map(() => ca.request({ type: 'PING' })));
  assert.deepEqual(replies.map((r) => r.type === 'PONG' && r.re), [1, 2, 3]);
  assert.equal(trace[0], 'lka -> queue PING {"reqid":1}');
  assert.match(trace.find((l) => l.includes('<-'))!, /^lka <- queue PONG \{"re":\d,"pid":42,"name":"queue"\}$/);
  ca.close();
  cb.close();
});

test('many messages with backpressure all arrive, in order', async () => {
  const [a, b] = await socketPair(tmp());
  const [ca, cb] = channels(a, b);
  const got: number[] = [];
  const done = new Promise<void>((resolve) =>
    cb.onMessage((m) => {
      if (m.type === 'PING') got.push(m.reqid);
      if (got.length === 20000) resolve();
    }),
  );
  for (let i = 0; i < 20000; i++) {
    if (!ca.send({ type: 'PING', reqid: i })) await ca.drained();
  }
  await done;
  assert.deepEqual(got.slice(0, 3), [0, 1, 2]);
  assert.equal(got[19999], 19999);
  ca.close();
  cb.close();
});

test('message bodies large and small, between messages, arrive whole and in order (large ones leave uncopied, in a writev)', async () => {
  const [a, b] = await socketPair(tmp());
  const [ca, cb] = channels(a, b);
  const got: string[] = [];
  const bodies: Buffer[] = [];
  cb.onBytes((id, bytes) => {
    got.push(`bytes ${id} ${bytes.length}`);
    bodies.push(Buffer.from(bytes));
  });
  const done = new Promise<void>((resolve) =>
    cb.onMessage((m) => {
      if (m.type === 'PING') got.push(`ping ${m.reqid}`);
      if (m.type === 'PING' && m.reqid === 3) resolve();
    }),
  );
  const big = Buffer.alloc(300 * 1024, 0x61);
  big.write('start', 0);
  big.write('end', big.length - 3);
  const small = Buffer.from('a small piece');
  ca.send({ type: 'PING', reqid: 1 });
  ca.sendBytes(7, big);
  ca.sendBytes(7, small);
  ca.send({ type: 'PING', reqid: 2 });
  ca.sendBytes(8, big.subarray(0, 20 * 1024));
  ca.send({ type: 'PING', reqid: 3 });
  await done;
  assert.deepEqual(got, ['ping 1', `bytes 7 ${big.length}`, `bytes 7 ${small.length}`, 'ping 2', 'bytes 8 20480', 'ping 3']);
  assert.ok(bodies[0]!.equals(big), 'the large body is intact');
  assert.ok(bodies[1]!.equals(small));
  assert.ok(bodies[2]!.equals(big.subarray(0, 20 * 1024)));
  ca.close();
  cb.close();
});

test('many senders waiting for a drain share one listener on the socket (no listener pile-up)', async () => {
  const [a, b] = await socketPair(tmp());
  b.pause(); // the peer does not read: the socket's buffer fills
  const [ca, cb] = channels(a, b);
  const big = Buffer.alloc(256 * 1024, 0x61);
  while (ca.sendBytes(1, big)) ca.flush();
  const waits = Array.from({ length: 50 }, () => ca.drained());
  assert.ok(a.listenerCount('drain') <= 1, `drain listeners: ${a.listenerCount('drain')}`);
  cb.onBytes(() => undefined);
  b.resume();
  await Promise.all(waits);
  assert.equal(a.listenerCount('drain'), 0);
  ca.close();
  cb.close();
});

test('a malformed message ends the channel with an error naming the peer', async () => {
  const [a, b] = await socketPair(tmp());
  const [, cb] = channels(a, b);
  const err = new Promise<Error>((resolve) => cb.onError(resolve));
  a.write(encodeJson({ type: 'PING', reqid: 'one' }));
  assert.match((await err).message, /malformed message from lka: reqid: expected an integer/);
  assert.ok(cb.isClosed);
});

test('garbage bytes end the channel with an error', async () => {
  const [a, b] = await socketPair(tmp());
  const [, cb] = channels(a, b);
  const err = new Promise<Error>((resolve) => cb.onError(resolve));
  a.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.match((await err).message, /^malformed message from lka: frame of \d+ bytes is over the limit/);
  assert.ok(cb.isClosed);
  a.destroy();
});

test('a pending request is rejected when the channel closes', async () => {
  const [a, b] = await socketPair(tmp());
  const [ca, cb] = channels(a, b);
  const pending = ca.request({ type: 'PING' });
  cb.close();
  await assert.rejects(pending, ChannelClosed);
  assert.ok(ca.isClosed);
});

test('a request without an answer times out', async () => {
  const [a, b] = await socketPair(tmp());
  const [ca, cb] = channels(a, b);
  await assert.rejects(ca.request({ type: 'PING' }, 50), /no answer from queue to PING within 50 ms/);
  ca.close();
  cb.close();
});

test('a peer that dies (connection reset) closes the channel without a protocol error', async () => {
  const [a, b] = await socketPair(tmp());
  const [ca, cb] = channels(a, b);
  let protocolError: Error | undefined;
  cb.onError((e) => (protocolError = e));
  const closed = new Promise<void>((resolve) => cb.onClose(resolve));
  const pending = cb.request({ type: 'PING' });
  b.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  await closed;
  await assert.rejects(pending, /lost: read ECONNRESET/);
  assert.equal(protocolError, undefined);
  ca.close();
});
