/**
 * Scenario: `lmtp` delivery to a real Dovecot LMTP server (Debian's dovecot-lmtpd) that the
 * test starts on loopback with its own configuration: over TCP with the local user name as
 * RCPT TO, over its Unix socket with `rcpt-to` (the whole address), a user Dovecot does not
 * know (its 550 is a permanent failure, with its words), and a server that is not there (a
 * temporary failure: the envelope stays).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { sendOne } from './smtp-send';

let d: DaemonRun;
let dovecot: ChildProcess;
let dir = '';
let port = 0;
let erin: { name: string; uid: number; gid: number; home: string };

function dovecotConf(lmtpPort: number): string {
  return [
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    'protocols = lmtp',
    // the user part only: the whole address (rcpt-to) names the same user
    'auth_username_format = %Ln',
    'listen = 127.0.0.1',
    'ssl = no',
    'mail_location = maildir:~/Maildir',
    `passdb {\n  driver = passwd-file\n  args = ${dir}/users\n}`,
    `userdb {\n  driver = passwd-file\n  args = ${dir}/users\n}`,
    `service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = ${lmtpPort}\n  }\n  unix_listener lmtp {\n    mode = 0666\n  }\n}`,
    '',
  ].join('\n');
}

async function waitPort(p: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(p, '127.0.0.1', () => (s.end(), res(true)));
      s.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dovecot is not listening on ${p}: ${fs.readFileSync(path.join(dir, 'dovecot.log'), 'utf8')}`);
}

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  erin = ensureUserWithHome('tsmtpd-erin');
  ensureUserWithHome('tsmtpd-gone'); // a system user Dovecot does not know
  fs.rmSync(path.join(erin.home, 'Maildir'), { recursive: true, force: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-dovecot-'));
  fs.chmodSync(dir, 0o755);
  for (const sub of ['run', 'state']) fs.mkdirSync(path.join(dir, sub), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'users'), `${erin.name}::${erin.uid}:${erin.gid}::${erin.home}::\n`);
  const lmtpPort = await freePort();
  fs.writeFileSync(path.join(dir, 'dovecot.conf'), dovecotConf(lmtpPort));
  dovecot = spawn('dovecot', ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  await waitPort(lmtpPort);
  port = await freePort();
  const nobody = await freePort();
  const conf = [
    `listen on 127.0.0.1 port ${port}`,
    `action "tcp" lmtp "127.0.0.1:${lmtpPort}"`,
    `action "unix" lmtp "${dir}/run/lmtp" rcpt-to`,
    `action "down" lmtp "127.0.0.1:${nobody}"`,
    ...['tcp', 'unix', 'down'].map((a) => `match from any for domain "${a}.test" action "${a}"`),
    '',
  ].join('\n');
  d = await startDaemon({ conf });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
  dovecot?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  fs.rmSync(dir, { recursive: true, force: true });
});

function send(rcpt: string, subject: string): Promise<string> {
  return sendOne(port, rcpt, subject, { body: `..a line with a leading dot\r\nbody of ${subject}` });
}

function delivered(subject: string): string | undefined {
  const newDir = path.join(erin.home, 'Maildir', 'new');
  for (const f of fs.existsSync(newDir) ? fs.readdirSync(newDir) : []) {
    const text = fs.readFileSync(path.join(newDir, f), 'latin1');
    if (text.includes(`Subject: ${subject}\r\n`) || text.includes(`Subject: ${subject}\n`)) return text;
  }
  return undefined;
}

test('lmtp over TCP: Dovecot stores the message in the user\'s Maildir, whole (a leading dot kept)', async () => {
  const msgid = await send(`${erin.name}@tcp.test`, 'over tcp');
  await d.waitLog(new RegExp(`delivered evpid=${msgid}[0-9a-f]{8} .*result="delivered by lmtp 127\\.0\\.0\\.1:\\d+: 250 2\\.0\\.0 `));
  const text = delivered('over tcp');
  assert.ok(text, 'in Maildir/new');
  // Dovecot's own Delivered-To names what it was given as RCPT TO: the user name
  assert.match(text, new RegExp(`^Return-Path: <s@remote\\.test>\\r?\\nDelivered-To: ${erin.name}\\r?\\n`));
  assert.match(text, new RegExp(`\\nDelivered-To: ${erin.name}@tcp\\.test\\r?\\nReceived: from client\\.test `), 'ours, above our Received');
  assert.match(text, /\n\.a line with a leading dot\r?\nbody of over tcp\r?\n$/);
});

test('lmtp over a Unix socket with rcpt-to: the whole address is the RCPT TO', async () => {
  const msgid = await send(`${erin.name}@unix.test`, 'over unix');
  await d.waitLog(new RegExp(`delivered evpid=${msgid}`));
  assert.match(delivered('over unix') ?? '', new RegExp(`^Return-Path: <s@remote\\.test>\\r?\\nDelivered-To: ${erin.name}@unix\\.test\\r?\\n`));
});

test('a user the LMTP server does not know: its 5xx is a permanent failure with its words', async () => {
  const msgid = await send('tsmtpd-gone@tcp.test', 'unknown there');
  await d.waitLog(new RegExp(`failed evpid=${msgid}[0-9a-f]{8} .*result="550 5\\.1\\.1 `));
});

test('no LMTP server: a temporary failure, and the envelope stays queued', async () => {
  const msgid = await send(`${erin.name}@down.test`, 'server down');
  await d.waitLog(new RegExp(`deferred evpid=${msgid}[0-9a-f]{8} .*result="451 4\\.4\\.1 lmtp 127\\.0\\.0\\.1:\\d+: ECONNREFUSED"`));
  const queued = fs.readdirSync(path.join(d.spool, 'queue')).flatMap((b) => fs.readdirSync(path.join(d.spool, 'queue', b)));
  assert.ok(queued.includes(msgid));
});
