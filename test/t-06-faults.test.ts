/**
 * Faults from the reliability checklist, with the real daemon and a real local user:
 * F01 (kill -9 of the whole daemon right after the 250: delivered after the restart, queue
 * empty), F02 (kill -9 during DATA: no 250, nothing delivered, nothing left in incoming/),
 * F06 (corrupt queue entries: quarantined in corrupt/, logged, the good message delivered,
 * no crash loop). Invariant: accepted = delivered.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertRoot, ensureUserWithHome, startDaemon, stopDaemon, type DaemonRun, freePort } from './daemon-harness';
import { RawSmtp } from './smtp-raw';

const runs: DaemonRun[] = [];
after(async () => {
  for (const r of runs) await stopDaemon(r);
});

const ARGS = ['--user', 'nobody', '--queue-user', 'nobody'];


function conf(port: number): string {
  return `table domains { local.test }\nlisten on 127.0.0.1 port ${port}\naction "local" maildir\nmatch from any for domain <domains> action "local"\n`;
}

async function start(port: number, dir?: string): Promise<DaemonRun> {
  const d = await startDaemon({ conf: conf(port), args: ARGS, ...(dir ? { dir } : {}) });
  runs.push(d);
  await d.waitHealthy();
  await d.waitLog(/smtp-listening/);
  return d;
}

function killAll(d: DaemonRun, pids: Record<string, number>): Promise<unknown> {
  for (const pid of Object.values(pids)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return d.exited;
}

function freshMaildir(home: string): string {
  const m = path.join(home, 'Maildir');
  fs.rmSync(m, { recursive: true, force: true });
  return m;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const countNew = (m: string) => (fs.existsSync(path.join(m, 'new')) ? fs.readdirSync(path.join(m, 'new')).length : 0);
const queueEntries = (spool: string) => {
  const q = path.join(spool, 'queue');
  return fs.existsSync(q) ? fs.readdirSync(q).flatMap((b) => fs.readdirSync(path.join(q, b))) : [];
};

async function transaction(port: number, user: string): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  assert.equal((await c.reply()).code, 220);
  await c.cmd('EHLO client.test');
  await c.cmd('MAIL FROM:<s@remote.test>');
  assert.equal((await c.cmd(`RCPT TO:<${user}@local.test>`)).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  return c;
}

/** A daemon delivering to tsmtpd-alice's fresh Maildir, and a client at DATA (354 read). */
async function runningWithOpenData() {
  assertRoot();
  const user = ensureUserWithHome('tsmtpd-alice');
  const maildir = freshMaildir(user.home);
  const port = await freePort();
  const d = await start(port);
  const pids = await d.waitHealthy();
  const c = await transaction(port, user.name);
  return { maildir, port, d, pids, c };
}

test('F01: kill -9 of every process right after the 250: delivered after the restart, queue empty', async () => {
  const { maildir, port, d, pids, c } = await runningWithOpenData();
  c.send('Subject: f01\r\n\r\nsurvives a crash\r\n.\r\n');
  const r = await c.reply();
  await killAll(d, pids); // as soon as the 250 is read
  assert.equal(r.code, 250);
  const d2 = await start(port, d.dir);
  await waitFor(() => countNew(maildir) >= 1, 'the delivery');
  await waitFor(() => queueEntries(d2.spool).length === 0, 'an empty queue');
  assert.ok(countNew(maildir) >= 1, 'delivered at least once');
  const text = fs.readFileSync(path.join(maildir, 'new', fs.readdirSync(path.join(maildir, 'new'))[0]!), 'latin1');
  assert.ok(text.endsWith('Subject: f01\r\n\r\nsurvives a crash\r\n'));
});

test('F02: kill -9 during DATA: no 250, nothing delivered, incoming/ empty after the restart', async () => {
  const { maildir, port, d, pids, c } = await runningWithOpenData();
  c.send(`Subject: f02\r\n\r\n${'half of a body\r\n'.repeat(2000)}`);
  await new Promise((r) => setTimeout(r, 300));
  await killAll(d, pids);
  const r = await c.reply(2000);
  assert.notEqual(r.code, 250);
  const d2 = await start(port, d.dir);
  await new Promise((r2) => setTimeout(r2, 1000));
  assert.deepEqual(fs.readdirSync(path.join(d2.spool, 'incoming')), []);
  assert.deepEqual(queueEntries(d2.spool), []);
  assert.equal(countNew(maildir), 0);
});

test('F06: corrupt queue entries are quarantined and logged; the good message is delivered', async () => {
  assertRoot();
  const user = ensureUserWithHome('tsmtpd-alice');
  const maildir = freshMaildir(user.home);
  for (const sub of ['', 'new', 'cur', 'tmp']) {
    fs.mkdirSync(path.join(maildir, sub), { mode: 0o700 });
    fs.chownSync(path.join(maildir, sub), user.uid, user.gid);
  }
  fs.chmodSync(path.join(maildir, 'new'), 0o500); // deliveries fail for now: the mail stays queued
  const port = await freePort();
  const d = await start(port);
  for (let i = 0; i < 4; i++) {
    const c = await transaction(port, user.name);
    c.send(`Subject: f06 ${i}\r\n\r\nmessage ${i}\r\n.\r\n`);
    assert.equal((await c.reply()).code, 250);
    c.close();
  }
  await waitFor(() => (d.logs().match(/info deferred /g) ?? []).length >= 4, 'four deferrals');
  await stopDaemon(d);
  const q = path.join(d.spool, 'queue');
  const envs = fs.readdirSync(q).flatMap((b) => fs.readdirSync(path.join(q, b)).map((m) => path.join(q, b, m)))
    .map((dir) => path.join(dir, fs.readdirSync(dir).find((f) => /^[0-9a-f]{16}$/.test(f))!))
    .sort();
  assert.equal(envs.length, 4);
  fs.truncateSync(envs[0]!, 0);
  fs.truncateSync(envs[1]!, Math.floor(fs.statSync(envs[1]!).size / 2));
  fs.writeFileSync(envs[2]!, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x7b]));
  const good = fs.readFileSync(path.join(path.dirname(envs[3]!), 'message'), 'latin1');
  fs.chmodSync(path.join(maildir, 'new'), 0o700);
  const d2 = await start(port, d.dir);
  await waitFor(() => countNew(maildir) === 1, 'the good message');
  // the stored message, behind the Delivered-To header local delivery adds
  assert.equal(fs.readFileSync(path.join(maildir, 'new', fs.readdirSync(path.join(maildir, 'new'))[0]!), 'latin1'), `Delivered-To: tsmtpd-alice@local.test\r\n${good}`);
  assert.equal((d2.logs().match(/error envelope-corrupt: moved to corrupt\//g) ?? []).length, 6, d2.logs());
  assert.equal(fs.readdirSync(path.join(d2.spool, 'corrupt')).length, 6, 'three envelopes and their three messages');
  await waitFor(() => queueEntries(d2.spool).length === 0, 'an empty queue');
  assert.ok(!/worker-died|crash-loop/.test(d2.logs()));
});
