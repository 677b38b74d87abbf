/**
 * Scenario: pipelining edge cases and envelopes written as code. Covers from the reliability
 * checklist: P15 (b) a whole transaction in one write, and two in one write; (c) BDAT is not
 * offered and is refused; D01 (shell and expansion syntax in MAIL and RCPT is refused or taken
 * literally, never run, and never stalls); D02 (recipients that try to climb out of a mailbox
 * are refused); and RCPT TO:<postmaster> without a domain (RFC 5321 §4.5.1) is this host's
 * postmaster.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, startDaemon, stopDaemon, type DaemonRun, WORKERS_AS_NOBODY } from './daemon-harness';
import { RawSmtp } from './smtp-raw';

let d: DaemonRun;
let port = 0;

before(async () => {
  port = await freePort();
  const conf = [
    'table domains { local.test }',
    'table users { alice = "1001:1001:/nonexistent" }',
    'table aliases { postmaster = alice }',
    `listen on 127.0.0.1 port ${port}`,
    'action "local" maildir alias <aliases> userbase <users>',
    'match from any for domain <domains> action "local"',
    'match from any for local action "local"',
    '',
  ].join('\n');
  d = await startDaemon({ conf, ...WORKERS_AS_NOBODY });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
});

function stored(): string[] {
  const q = path.join(d.spool, 'queue');
  return fs.existsSync(q) ? fs.readdirSync(q).flatMap((b) => fs.readdirSync(path.join(q, b)).map((m) => fs.readFileSync(path.join(q, b, m, 'message'), 'latin1'))) : [];
}

async function session(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  assert.equal((await c.reply()).code, 220);
  const ehlo = await c.cmd('EHLO client.test');
  assert.equal(ehlo.code, 250);
  assert.match(ehlo.text, /^PIPELINING$/m);
  assert.doesNotMatch(ehlo.text, /CHUNKING/);
  return c;
}

test('P15 (b): a whole transaction in one write gets 250, 250, 354, 250 in order, and the message is stored once', async () => {
  const c = await session();
  c.send('MAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@local.test>\r\nDATA\r\nSubject: p15b\r\n\r\nbody\r\n.\r\n');
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await c.reply()).code);
  assert.deepEqual(codes, [250, 250, 354, 250]);
  assert.equal(stored().filter((m) => m.includes('Subject: p15b')).length, 1);
  assert.equal((await c.cmd('QUIT')).code, 221);
});

test('P15 (b): two whole transactions in one write are both answered, without a stall', async () => {
  const c = await session();
  const t = (n: number) => `MAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@local.test>\r\nDATA\r\nSubject: p15b-${n}\r\n\r\nbody\r\n.\r\n`;
  const t0 = Date.now();
  c.send(t(1) + t(2));
  const codes = [];
  for (let i = 0; i < 8; i++) codes.push((await c.reply(4000)).code);
  assert.deepEqual(codes, [250, 250, 354, 250, 250, 250, 354, 250]);
  assert.ok(Date.now() - t0 < 3000, `answered in ${Date.now() - t0} ms`);
  assert.equal(stored().filter((m) => /Subject: p15b-[12]/.test(m)).length, 2);
});

test('P15 (c): BDAT is not offered, and is refused as an unknown command', async () => {
  const c = await session();
  const r = await c.cmd('BDAT 5');
  assert.ok(r.code === 500 || r.code === 502, `${r.code} ${r.text}`);
  assert.equal((await c.cmd('NOOP')).code, 250);
});

test('D01: shell and expansion syntax in envelopes is refused or literal, never run, never a stall', async () => {
  for (const f of ['/tmp/pwn1', '/tmp/pwn2', '/tmp/pwn3', '/tmp/pwn4', '/tmp/pwn5']) fs.rmSync(f, { force: true });
  const mails = ['<;sleep 10;>', '<;sleep 10;@remote.test>', '<`touch /tmp/pwn1`@remote.test>', '<$(touch /tmp/pwn2)@remote.test>'];
  const rcpts = ['<${run{/bin/touch /tmp/pwn3}}@local.test>', '<"|touch /tmp/pwn4"@local.test>', '<"/tmp/pwn5"@local.test>'];
  for (const m of mails) {
    const c = await session();
    const t0 = Date.now();
    const r = await c.cmd(`MAIL FROM:${m}`);
    assert.ok(Date.now() - t0 < 2000, `${m}: no stall`);
    assert.ok(r.code === 250 || (r.code >= 500 && r.code < 600), `${m}: ${r.code} ${r.text}`);
    c.close();
  }
  const c = await session();
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
  for (const rcpt of rcpts) {
    const t0 = Date.now();
    const r = await c.cmd(`RCPT TO:${rcpt}`);
    assert.ok(Date.now() - t0 < 2000, `${rcpt}: no stall`);
    assert.ok(r.code >= 500 && r.code < 600, `${rcpt}: ${r.code} ${r.text}`);
  }
  c.close();
  await new Promise((r) => setTimeout(r, 500));
  for (const f of ['/tmp/pwn1', '/tmp/pwn2', '/tmp/pwn3', '/tmp/pwn4', '/tmp/pwn5']) assert.ok(!fs.existsSync(f), `${f} was never made`);
});

test('D02: recipients that try to leave the mailbox are refused', async () => {
  const c = await session();
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
  for (const rcpt of ['<../../etc/passwd@local.test>', '<alice+../../x@local.test>', '<"../alice"@local.test>', '<alice/../bob@local.test>', '<"alice/.."@local.test>']) {
    const r = await c.cmd(`RCPT TO:${rcpt}`);
    assert.ok(r.code >= 500 && r.code < 600, `${rcpt}: ${r.code} ${r.text}`);
  }
  c.close();
});

test('RCPT TO:<postmaster> without a domain is accepted, as this host\'s postmaster', async () => {
  const c = await session();
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<postmaster>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<PostMaster>')).code, 250);
  const other = await c.cmd('RCPT TO:<nobody-here>');
  assert.ok(other.code >= 500 && other.code < 600, `other bare names are not: ${other.code} ${other.text}`);
  c.close();
});
