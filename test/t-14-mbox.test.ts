/**
 * Scenario: mbox delivery into a mail spool laid out as Debian's /var/mail (root:mail 2775),
 * given with --mail-spool. The recipient's delivery helper creates the mailbox (0600, the
 * user's) and appends under a dot-lock, with the mail group as mail.local has. Covers D03:
 * a body line "From ..." is quoted, and Python's mailbox module reads exactly the messages
 * that were sent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';

let d: DaemonRun;
let port = 0;
let spool = '';
const USER = 'tsmtpd-erin';
let erin: { uid: number };

function send(subject: string, body: string): void {
  const py = [
    'import smtplib',
    `s = smtplib.SMTP("127.0.0.1", ${port}, local_hostname="client.test")`,
    `print(s.sendmail("sender@remote.test", ["${USER}@local.test"], ${JSON.stringify(`Subject: ${subject}\r\n\r\n${body}`)}.encode()))`,
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\{\}$/m);
}

async function delivered(n: number): Promise<void> {
  const re = new RegExp(`delivered .*rcpt=${USER}@local\\.test`, 'g');
  for (let i = 0; i < 100; i++) {
    if ((d.logs().match(re) ?? []).length >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${n} deliveries expected; logs:\n${d.logs()}`);
}

before(async () => {
  assertRoot();
  erin = ensureUserWithHome(USER);
  spool = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-mailspool-'));
  execFileSync('chown', ['root:mail', spool]);
  fs.chmodSync(spool, 0o2775);
  port = await freePort();
  const conf = [`listen on 127.0.0.1 port ${port}`, 'action "mb" mbox', 'match from any for domain "local.test" action "mb"', ''].join('\n');
  d = await startDaemon({ conf, args: ['--mail-spool', spool, '--user', 'nobody', '--queue-user', 'nobody'] });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
});

test('mbox: the mailbox is created 0600 for the user and each message appended; D03 From lines quoted, one message each', async () => {
  send('first', 'hello\r\n');
  await delivered(1);
  send('second', 'hi\r\nFrom evil@x Thu Jan  1 00:00:00 2025\r\nSubject: fake\r\n\r\nx\r\n');
  await delivered(2);
  const box = path.join(spool, USER);
  const st = fs.statSync(box);
  assert.equal(st.uid, erin.uid);
  assert.equal(st.mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(spool), [USER], 'no lock left behind');
  const text = fs.readFileSync(box, 'latin1');
  assert.match(text, /^From sender@remote\.test \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nDelivered-To: tsmtpd-erin@local\.test\nReceived: /);
  assert.match(text, /^>From evil@x Thu Jan {2}1 00:00:00 2025$/m);
  assert.ok(!text.includes('\r'), 'LF line ends');
  const py = `import mailbox\nfor m in mailbox.mbox(${JSON.stringify(box)}):\n    print(repr(m['Subject']))`;
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ["'first'", "'second'"]);
});
