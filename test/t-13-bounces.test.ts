/**
 * Scenario: bounces. A recipient that keeps failing temporarily until its action's ttl (3 s)
 * is over, and one that fails for good (its account was removed while the mail waited: 550
 * 5.1.1 at delivery) both come back to the sender, a local user, as RFC 3464 reports routed by
 * the rules; the failed envelopes are then gone from the spool. A failed bounce (null sender) is
 * not bounced (D09): it is logged and removed. An envelope still failing past `bounce
 * warn-interval` gets its sender a delay warning and stays queued.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertRoot, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';

let d: DaemonRun;
let port = 0;
let conf = '';
let bob: { home: string; uid: number; gid: number };
const GONE = 'tsmtpd-gone';

function send(from: string, rcpts: string[], subject: string): string {
  const py = [
    'import smtplib',
    `s = smtplib.SMTP("127.0.0.1", ${port}, local_hostname="client.test")`,
    `print(s.sendmail(${JSON.stringify(from)}, ${JSON.stringify(rcpts)}, ${JSON.stringify(`Subject: ${subject}\r\nFrom: <${from}>\r\n\r\nsecret body text\r\n`)}.encode()))`,
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

async function mailsWith(home: string, text: string, timeoutMs = 20_000): Promise<string> {
  const dir = path.join(home, 'Maildir', 'new');
  const end = Date.now() + timeoutMs;
  for (;;) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    const hit = files.map((f) => fs.readFileSync(path.join(dir, f), 'latin1')).find((m) => m.includes(text));
    if (hit) return hit;
    if (Date.now() > end) throw new Error(`no message with "${text}" in ${dir}; logs:\n${d.logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function queued(): string[] {
  const q = path.join(d.spool, 'queue');
  return fs.existsSync(q) ? fs.readdirSync(q).flatMap((b) => fs.readdirSync(path.join(q, b))) : [];
}

async function drained(): Promise<void> {
  for (let i = 0; i < 50 && queued().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(queued(), [], 'nothing left in the queue');
}

/** a user whose Maildir's new/ is not writable: every delivery to it fails temporarily */
function unwritableUser(name: string): { home: string; uid: number; gid: number } {
  const u = ensureUserWithHome(name);
  const md = path.join(u.home, 'Maildir');
  fs.rmSync(md, { recursive: true, force: true });
  for (const sub of ['', 'new', 'cur', 'tmp']) {
    fs.mkdirSync(path.join(md, sub), { mode: 0o700 });
    fs.chownSync(path.join(md, sub), u.uid, u.gid);
  }
  fs.chmodSync(path.join(md, 'new'), 0o500);
  return u;
}

function assertReport(m: string): void {
  assert.match(m, /^From: Mail Delivery System <MAILER-DAEMON@/m);
  assert.match(m, /^To: <tsmtpd-bob@local\.test>$/m);
  assert.match(m, /^Content-Type: multipart\/report; report-type=delivery-status;/m);
  assert.match(m, /^Action: failed$/m);
  assert.ok(!m.includes('secret body text'), 'the original body is not sent back');
}

before(async () => {
  assertRoot();
  bob = ensureUserWithHome('tsmtpd-bob');
  fs.rmSync(path.join(bob.home, 'Maildir'), { recursive: true, force: true });
  unwritableUser('tsmtpd-dave');
  port = await freePort();
  conf = [
    'bounce warn-interval 2s',
    `listen on 127.0.0.1 port ${port}`,
    'action "local" maildir',
    'action "slow" maildir ttl 3s',
    'action "patient" maildir ttl 1h',
    'match from any for domain "slow.test" action "slow"',
    'match from any for domain "patient.test" action "patient"',
    'match from any for domain "local.test" action "local"',
    '',
  ].join('\n');
  d = await startDaemon({ conf, args: ['--user', 'nobody', '--queue-user', 'nobody'] });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
  spawnSync('userdel', ['--remove', GONE]);
});

test('an envelope that outlives its ttl bounces to the sender with its last temporary status; then it is gone', async () => {
  assert.match(send('tsmtpd-bob@local.test', ['tsmtpd-dave@slow.test'], 'to a full box'), /^\{\}$/m);
  const m = await mailsWith(bob.home, 'Subject: to a full box');
  assertReport(m);
  assert.match(m, /^Subject: Delivery status notification: delivery time expired$/m);
  assert.match(m, /^Final-Recipient: rfc822; tsmtpd-dave@slow\.test$/m);
  assert.match(m, /^Status: 4\.\d\.\d+$/m);
  await d.waitLog(/envelope-expired/);
  await drained();
});

test('a permanent failure (the account of the recipient was removed while the mail waited) bounces with 5.1.1, after a restart', async () => {
  unwritableUser(GONE);
  assert.match(send('tsmtpd-bob@local.test', [`${GONE}@local.test`], 'to a removed account'), /^\{\}$/m);
  await d.waitLog(new RegExp(`deferred .*rcpt=${GONE}@local\\.test`));
  await stopDaemon(d); // its delivery helper runs as the user: userdel refuses while it does
  const r = spawnSync('userdel', ['--remove', GONE]);
  assert.equal(r.status, 0, r.stderr?.toString());
  d = await startDaemon({ conf, dir: d.dir, args: ['--user', 'nobody', '--queue-user', 'nobody'] });
  await d.waitHealthy();
  const m = await mailsWith(bob.home, 'Subject: to a removed account');
  assertReport(m);
  assert.match(m, /^Subject: Delivery status notification: error$/m);
  assert.match(m, new RegExp(`^Final-Recipient: rfc822; ${GONE}@local\\.test$`, 'm'));
  assert.match(m, /^Status: 5\.1\.1$/m);
  await drained();
});

test('D09: a bounce that fails is not bounced: logged and removed', async () => {
  const before = fs.readdirSync(path.join(bob.home, 'Maildir', 'new')).length;
  assert.match(send('', ['tsmtpd-dave@slow.test'], 'null sender'), /^\{\}$/m);
  await d.waitLog(/bounce-not-sent/);
  await drained();
  assert.equal(fs.readdirSync(path.join(bob.home, 'Maildir', 'new')).length, before, 'nobody got a bounce');
});

test('a delay warning: an envelope still failing past the warn interval gets its sender a "delayed" report, and stays queued', async () => {
  assert.match(send('tsmtpd-bob@local.test', ['tsmtpd-dave@patient.test'], 'waiting long'), /^\{\}$/m);
  // tried at once (too young to warn), then again 10 s later: past the 2 s interval
  const m = await mailsWith(bob.home, 'Subject: waiting long', 30_000);
  assert.match(m, /^Subject: Delivery status notification: delayed$/m);
  assert.match(m, /^Action: delayed$/m);
  assert.match(m, /^Status: 4\.\d\.\d+$/m);
  assert.match(m, /^Will-Retry-Until: /m);
  assert.ok(!m.includes('secret body text'));
  // the warning itself is queued a moment, until it is delivered; the message stays
  for (let i = 0; i < 50 && queued().length > 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(queued().length, 1, 'the message is still queued');
  await d.waitLog(/delay-warning-queued/);
});
