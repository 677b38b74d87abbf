/**
 * Scenario: session deadlines and abuse limits, with the daemon's test-sized flags
 * (--smtp-timeout 2s, --data-timeout 2s, --max-sessions-per-ip 20). Byte-exact clients.
 * Covers from the reliability checklist: P05 (HTTP request lines), X04 (slow command), X05
 * (slow DATA), X06 (idle: at connect, after STARTTLS's 220, after EHLO), X07 (connection flood
 * from one address) and X10 (junk commands).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeSelfSigned } from '../scripts/selfsigned';
import { freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { RawSmtp } from './smtp-raw';

let d: DaemonRun;
let port = 0;
let tlsPort = 0;
const PER_IP = 20;

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-sessions-'));
  fs.chmodSync(dir, 0o755);
  const pair = makeSelfSigned('mail.test');
  fs.writeFileSync(path.join(dir, 'cert.pem'), pair.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), pair.key, { mode: 0o600 });
  port = await freePort();
  tlsPort = await freePort();
  const conf = [
    `pki mail.test cert "${dir}/cert.pem" key "${dir}/key.pem"`,
    'table domains { local.test }',
    'table users { alice = "1001:1001:/nonexistent" }',
    `listen on 127.0.0.1 port ${port}`,
    `listen on 127.0.0.1 port ${tlsPort} tls pki mail.test`,
    'action "local" maildir userbase <users>',
    'match from any for domain <domains> action "local"',
    '',
  ].join('\n');
  const limits = ['--smtp-timeout', '2s', '--data-timeout', '2s', '--max-sessions-per-ip', String(PER_IP)];
  d = await startDaemon({ conf, args: [...limits, ...(process.getuid?.() === 0 ? ['--user', 'nobody', '--queue-user', 'nobody'] : [])] });
  await d.waitHealthy();
  await d.waitLog(new RegExp(`smtp-listening address=127\\.0\\.0\\.1 port=${tlsPort}`));
});

after(async () => {
  await stopDaemon(d);
});

function queuedEnvelopes(): number {
  const q = path.join(d.spool, 'queue');
  if (!fs.existsSync(q)) return 0;
  let n = 0;
  for (const b of fs.readdirSync(q)) for (const m of fs.readdirSync(path.join(q, b))) n += fs.readdirSync(path.join(q, b, m)).filter((f) => /^[0-9a-f]{16}$/.test(f)).length;
  return n;
}

async function greeted(from?: string): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port, '127.0.0.1', from);
  assert.equal((await c.reply()).code, 220);
  return c;
}

/** milliseconds until the server closes the connection (or gives up after `limitMs`) */
async function closedWithin(c: RawSmtp, limitMs: number): Promise<number> {
  const t0 = Date.now();
  while (!c.closed && Date.now() - t0 < limitMs) await new Promise((r) => setTimeout(r, 50));
  return Date.now() - t0;
}

test('P05 cross-protocol: an HTTP request line gets 554 5.7.0 and a close, the lines after it are not read', async () => {
  for (const line of ['GET / HTTP/1.1', 'POST /submit HTTP/1.0', 'CONNECT x:80 HTTP/1.1']) {
    const c = await greeted();
    c.send(`${line}\r\nHost: x\r\nNOOP\r\n\r\n`);
    const r = await c.reply();
    assert.equal(r.code, 554, `${line}: ${r.text}`);
    assert.match(r.text, /^5\.7\.0 /);
    const next = await c.reply(2000);
    assert.equal(next.code, 0, `nothing more is answered after ${line}: ${next.text}`);
    assert.ok(c.closed, 'closed');
  }
});

test('X04 slowloris on a command: one byte every 300 ms still ends in 421 4.4.2 within the deadline + 1 s', async () => {
  const c = await greeted();
  const t0 = Date.now();
  let i = 0;
  const drip = setInterval(() => c.send(i++ === 0 ? 'E' : 'x'), 300);
  const r = await c.reply(6000);
  clearInterval(drip);
  const took = Date.now() - t0;
  assert.equal(r.code, 421, r.text);
  assert.match(r.text, /^4\.4\.2 /);
  assert.ok(took < 3000, `closed after ${took} ms, bytes kept arriving`);
  assert.ok(await closedWithin(c, 2000) < 2000);
});

test('X05 slowloris in DATA: a trickle after 354 ends in 421 4.4.2, never 250, nothing queued', async () => {
  const before = queuedEnvelopes();
  const c = await greeted();
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  const drip = setInterval(() => c.send('y'), 300);
  const t0 = Date.now();
  const r = await c.reply(8000);
  clearInterval(drip);
  assert.equal(r.code, 421, r.text);
  assert.match(r.text, /^4\.4\.2 /);
  assert.ok(Date.now() - t0 < 4000, `closed after ${Date.now() - t0} ms`);
  assert.ok(await closedWithin(c, 2000) < 2000);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(queuedEnvelopes(), before, 'the unfinished message was not queued');
});

test('X06 idle: silent at connect, after EHLO, and after the 220 to STARTTLS: closed within the timeout, with 421 4.4.2 in plaintext', async () => {
  const atConnect = await greeted();
  const r1 = await atConnect.reply(4000);
  assert.equal(r1.code, 421, r1.text);
  assert.match(r1.text, /^4\.4\.2 /);

  const afterEhlo = await greeted();
  assert.equal((await afterEhlo.cmd('EHLO client.test')).code, 250);
  const r2 = await afterEhlo.reply(4000);
  assert.equal(r2.code, 421, r2.text);

  const tls = await RawSmtp.connect(tlsPort);
  assert.equal((await tls.reply()).code, 220);
  assert.equal((await tls.cmd('EHLO client.test')).code, 250);
  assert.equal((await tls.cmd('STARTTLS')).code, 220);
  const took = await closedWithin(tls, 5000);
  assert.ok(tls.closed && took < 4000, `the silent TLS handshake was dropped after ${took} ms`);
});

test('X07 connection flood from one address: up to the per-address cap get 220, the rest 421 4.7.0; after release a new connection is served', async () => {
  const conns: RawSmtp[] = [];
  for (let i = 0; i < PER_IP + 480; i++) conns.push(await RawSmtp.connect(port));
  const replies = await Promise.all(conns.map((c) => c.reply()));
  assert.equal(replies.filter((r) => r.code === 220).length, PER_IP);
  const refused = replies.filter((r) => r.code === 421);
  assert.equal(refused.length, 480);
  for (const r of refused) assert.match(r.text, /^4\.7\.0 /);
  const other = await greeted('127.0.0.2');
  assert.equal((await other.cmd('QUIT')).code, 221, 'another address is still served');
  for (const c of conns) c.close();
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  const again = await greeted();
  assert.ok(Date.now() - t0 < 2000);
  assert.equal((await again.cmd('QUIT')).code, 221);
  assert.match(d.logs(), /too-many-sessions/);
});

test('X10 junk commands: NOOP and RSET are answered up to 100 per transaction, then 421 4.7.0', async () => {
  const c = await greeted();
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  c.send('NOOP\r\n'.repeat(150));
  const codes: number[] = [];
  for (;;) {
    const r = await c.reply(3000);
    if (r.code === 0) break;
    codes.push(r.code);
    if (r.code === 421) {
      assert.match(r.text, /^4\.7\.0 /);
      break;
    }
  }
  assert.equal(codes.filter((x) => x === 250).length, 100, 'the first 100 are answered');
  assert.equal(codes.at(-1), 421);
  assert.ok(await closedWithin(c, 2000) < 2000);
  // a real transaction resets the count: a client that sends RSET before each message is fine
  const ok = await greeted('127.0.0.3');
  assert.equal((await ok.cmd('EHLO client.test')).code, 250);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 60; j++) ok.send('RSET\r\n');
    for (let j = 0; j < 60; j++) assert.equal((await ok.reply()).code, 250);
    assert.equal((await ok.cmd('MAIL FROM:<s@remote.test>')).code, 250);
    assert.equal((await ok.cmd('RCPT TO:<alice@local.test>')).code, 250);
    assert.equal((await ok.cmd('DATA')).code, 354);
    assert.equal((await ok.cmd('Subject: x\r\n\r\nbody\r\n.')).code, 250);
  }
  assert.equal((await ok.cmd('QUIT')).code, 221);
});
