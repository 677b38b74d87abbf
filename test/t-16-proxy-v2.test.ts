/**
 * Scenario: a `proxy-v2` listener behind a (simulated) haproxy: the session's client address
 * is the one in the PROXY protocol v2 header, in the Received header and for the rules; a
 * connection that does not start with a valid header gets no banner and is closed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SIGNATURE } from '../src/smtp/proxy-v2';
import { freePort, startDaemon, stopDaemon, type DaemonRun, WORKERS_AS_NOBODY } from './daemon-harness';
import { RawSmtp } from './smtp-raw';

let d: DaemonRun;
let port = 0;

function proxyHeader(src: number[], sport: number): Buffer {
  const h = Buffer.alloc(28);
  SIGNATURE.copy(h);
  h[12] = 0x21; // version 2, PROXY
  h[13] = 0x11; // TCP over IPv4
  h.writeUInt16BE(12, 14);
  Buffer.from(src).copy(h, 16);
  Buffer.from([127, 0, 0, 1]).copy(h, 20);
  h.writeUInt16BE(sport, 24);
  h.writeUInt16BE(port, 26);
  return h;
}

before(async () => {
  port = await freePort();
  const conf = [
    'table domains { local.test }',
    'table users { alice = "1001:1001:/nonexistent" }',
    `listen on 127.0.0.1 port ${port} proxy-v2`,
    'action "local" maildir userbase <users>',
    'match from src 203.0.113.0/24 for domain <domains> action "local"',
    '',
  ].join('\n');
  d = await startDaemon({ conf, ...WORKERS_AS_NOBODY });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
});

test('the client address comes from the PROXY v2 header: the rules see it and the Received header names it', async () => {
  const c = await RawSmtp.connect(port);
  c.send(proxyHeader([203, 0, 113, 7], 40000));
  assert.equal((await c.reply()).code, 220);
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250, 'the rule for 203.0.113.0/24 matched');
  assert.equal((await c.cmd('DATA')).code, 354);
  const r = await c.cmd('Subject: proxied\r\n\r\nbody\r\n.');
  assert.equal(r.code, 250);
  const msgid = /^2\.0\.0 ([0-9a-f]{8}) /.exec(r.text)![1]!;
  const stored = fs.readFileSync(path.join(d.spool, 'queue', msgid.slice(0, 2), msgid, 'message'), 'latin1');
  assert.match(stored, /^Received: from client\.test \(unknown \[203\.0\.113\.7\]\)/);
  c.close();
});

test('without a valid PROXY v2 header there is no banner and the connection is closed', async () => {
  for (const start of [Buffer.from('EHLO client.test\r\n'), Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 1 2\r\n'), Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x12, 0, 0])])]) {
    const c = await RawSmtp.connect(port);
    c.send(start);
    const r = await c.reply(3000);
    assert.equal(r.code, 0, `no reply to ${JSON.stringify(start.toString('latin1'))}: ${r.text}`);
    assert.ok(c.closed);
  }
  const other = await RawSmtp.connect(port);
  other.send(proxyHeader([127, 0, 0, 9], 1));
  assert.equal((await other.reply()).code, 220, 'the listener still serves');
  assert.equal((await other.cmd('MAIL FROM:<a@b>')).code, 503);
  other.close();
});
