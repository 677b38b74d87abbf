/**
 * Scenario: the spool's file system fills up. The spool is a 4 MiB tmpfs mounted by the test
 * (root, as in CI). Covers from the reliability checklist:
 * - F07: with less than 5 % free, MAIL gets 452 4.3.1 (never a 5xx), and mail is taken again
 *   once space is freed, without a restart;
 * - F08: a 6 MiB message into the 4 MiB spool: after the final dot 452 4.3.1, never 250; the
 *   partial file is gone; the next message is accepted without a restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { RawSmtp } from './smtp-raw';

let d: DaemonRun | undefined;
let mnt = '';
let port = 0;

before(async () => {
  assertRoot();
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', mnt]);
  port = await freePort();
  const conf = [
    'table domains { local.test }',
    'table users { alice = "1001:1001:/nonexistent" }',
    'smtp max-message-size 10M',
    `listen on 127.0.0.1 port ${port}`,
    'action "local" maildir userbase <users>',
    'match from any for domain <domains> action "local"',
    '',
  ].join('\n');
  d = await startDaemon({ conf, args: ['--spool', path.join(mnt, 'spool'), '--user', 'nobody', '--queue-user', 'nobody'] });
  await d.waitHealthy();
});

after(async () => {
  if (d) await stopDaemon(d);
  if (mnt) {
    execFileSync('umount', [mnt]);
    fs.rmdirSync(mnt);
  }
});

async function session(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  assert.equal((await c.reply()).code, 220);
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  return c;
}

function incomingEntries(): string[] {
  return fs.readdirSync(path.join(mnt, 'spool', 'incoming'));
}

async function mailReply(): Promise<{ code: number; text: string }> {
  const c = await session();
  const r = await c.cmd('MAIL FROM:<s@remote.test>');
  c.close();
  return r;
}

async function until(what: string, f: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('F07 disk nearly full before MAIL: 452 4.3.1 at MAIL, never 5xx; accepted again once space is freed', async () => {
  const filler = path.join(mnt, 'filler');
  const st = fs.statfsSync(mnt);
  // leave about 2 % of the blocks free
  execFileSync('fallocate', ['-l', String(Math.floor(st.bavail * st.bsize - st.blocks * st.bsize * 0.02)), filler]);
  await until('MAIL refused', async () => (await mailReply()).code === 452);
  const r = await mailReply();
  assert.equal(r.code, 452);
  assert.match(r.text, /^4\.3\.1 Insufficient system storage/);
  fs.rmSync(filler);
  await until('MAIL accepted again', async () => (await mailReply()).code === 250);
});

test('F08 disk fills during DATA: 452 4.3.1 after the dot, never 250; the partial file is removed; new mail accepted without a restart', async () => {
  const c = await session();
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  const line = `${'a'.repeat(998)}\r\n`;
  c.send(`Subject: big\r\n\r\n${line.repeat(6 * 1024)}.\r\n`);
  const r = await c.reply(30_000);
  assert.equal(r.code, 452, r.text);
  assert.match(r.text, /^4\.3\.1 /);
  await until('the partial message removed', async () => incomingEntries().length === 0);
  await until('space back', async () => (await mailReply()).code === 250);
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250, 'the same session goes on');
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  const ok = await c.cmd('Subject: small\r\n\r\nfits\r\n.');
  assert.equal(ok.code, 250, ok.text);
  c.close();
});
