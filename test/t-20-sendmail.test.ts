/**
 * Scenario: local enqueue. The implicit local socket listener (`from local`), reached by the
 * sendmail entry point fed from a shell pipeline as an ordinary user: headers added as
 * OpenSMTPD's enqueuer does (From, Date; Message-ID by smtp), `-t` recipients, `-f`/`-F`, a
 * relay refused with sendmail's exit code, and the offline queue: with smtpd stopped the
 * message waits in <spool>/offline/ and is delivered after the next start.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { fromRoot } from './helpers';

let d: DaemonRun;
let alice: { name: string; uid: number; home: string };
let bob: { name: string; uid: number; gid: number; home: string };
const CONF = ['action "local" maildir', 'match from local for domain "local.test" action "local"', ''].join('\n');

before(async () => {
  assertRoot();
  ensureUser('_smtpq');
  ensureUser('_smtpd');
  alice = ensureUserWithHome('tsmtpd-alice');
  bob = ensureUserWithHome('tsmtpd-bob');
  fs.rmSync(path.join(alice.home, 'Maildir'), { recursive: true, force: true });
  d = await startDaemon({ conf: CONF });
  await d.waitHealthy();
  await d.waitLog(/smtp-listening socket=/);
});

after(async () => {
  await stopDaemon(d);
});

/** `printf INPUT | sendmail ARGS` through /bin/sh, as bob */
function sendmail(input: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('/bin/sh', ['-c', `printf '%s' "$INPUT" | "$NODE" "$SENDMAIL" ${quoted}`], {
    uid: bob.uid,
    gid: bob.gid,
    cwd: '/',
    env: { PATH: '/usr/bin:/bin', INPUT: input, NODE: process.execPath, SENDMAIL: fromRoot('bin', 'sendmail'), SMTPD_SOCKET: d.socket, SMTPD_SPOOL: d.spool },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** the delivered file whose content matches `re` (waits for it) */
async function delivered(re: RegExp): Promise<string> {
  const dir = path.join(alice.home, 'Maildir', 'new');
  for (let i = 0; i < 200; i++) {
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const text = fs.readFileSync(path.join(dir, f), 'latin1');
      if (re.test(text)) return text;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no delivered message matches ${re}`);
}

test('sendmail from a shell pipeline, as an ordinary user: delivered, with From, Date and Message-ID added and a Received line from local', async () => {
  const r = sendmail('Subject: piped\n\nhello from a pipeline\n.. two dots\n', [`${alice.name}@local.test`]);
  assert.equal(r.status, 0, r.stderr);
  const text = await delivered(/Subject: piped/);
  assert.match(text, /^Received: from localhost \(unknown \[local\]\)\r\n\tby \S+ \(tsmtpd\) with ESMTP id [0-9a-f]{8}\r\n\tfor <tsmtpd-alice@local\.test>;/m);
  assert.match(text, new RegExp(`^From: ${bob.name}@\\S+\\r$`, 'm'));
  assert.match(text, /^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r$/m);
  assert.match(text, /^Message-ID: <[^>]+>\r$/m);
  assert.ok(text.endsWith('\r\n\r\nhello from a pipeline\r\n.. two dots\r\n'), JSON.stringify(text.slice(-60)));
  await d.waitLog(/message-accepted .*ip=local/);
});

test('sendmail -t takes the recipients from To, Cc and Bcc and removes Bcc; -f and -F make the sender and From', async () => {
  const input = `To: Alice <${alice.name}@local.test>\nBcc: ${alice.name}+hidden@local.test\nSubject: with -t\n\nbody\n`;
  const r = sendmail(input, ['-t', '-oi', '-f', 'robot@local.test', '-F', 'The Robot']);
  assert.equal(r.status, 0, r.stderr);
  const text = await delivered(/Subject: with -t/);
  assert.doesNotMatch(text, /^Bcc:/im);
  assert.match(text, /^From: "The Robot" <robot@local\.test>\r$/m);
  assert.match(text, /^Delivered-To: tsmtpd-alice(\+hidden)?@local\.test\r$/m);
});

test('a recipient no rule accepts: sendmail says why and exits 67 (EX_NOUSER); nothing is queued offline', async () => {
  const r = sendmail('Subject: relay\n\nx\n', ['someone@elsewhere.test']);
  assert.equal(r.status, 67);
  assert.match(r.stderr, /refused at RCPT: 550 5\.7\.1/);
  assert.deepEqual(fs.readdirSync(path.join(d.spool, 'offline')), []);
});

test('a lone dot ends the input without -i; with -i it is a line of the message', async () => {
  assert.equal(sendmail('Subject: dot stop\n\nkept\n.\nnot sent\n', [`${alice.name}@local.test`]).status, 0);
  const text = await delivered(/Subject: dot stop/);
  assert.ok(text.endsWith('\r\nkept\r\n'), JSON.stringify(text.slice(-30)));
  assert.equal(sendmail('Subject: dot kept\n\nkept\n.\nsent too\n', ['-i', `${alice.name}@local.test`]).status, 0);
  assert.ok((await delivered(/Subject: dot kept/)).endsWith('\r\nkept\r\n.\r\nsent too\r\n'));
});

test('with smtpd stopped, sendmail leaves the message in the offline queue (the user\'s own file) and it is delivered after the next start', async () => {
  await stopDaemon(d);
  const r = sendmail('Subject: while down\n\nwaited\n', ['-v', `${alice.name}@local.test`]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /smtpd is not running: kept in /);
  const files = fs.readdirSync(path.join(d.spool, 'offline'));
  assert.equal(files.length, 1);
  const st = fs.statSync(path.join(d.spool, 'offline', files[0]!));
  assert.equal(st.uid, bob.uid);
  assert.equal(st.mode & 0o777, 0o600);
  d = await startDaemon({ conf: CONF, dir: d.dir });
  await d.waitHealthy();
  const text = await delivered(/Subject: while down/);
  assert.match(text, new RegExp(`^From: ${bob.name}@\\S+\\r$`, 'm'));
  await d.waitLog(/offline-replayed/);
  assert.deepEqual(fs.readdirSync(path.join(d.spool, 'offline')), []);
});
