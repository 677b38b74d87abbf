/**
 * Scenario: relaying to a real Postfix. The test runs a Postfix instance of its own (its own
 * configuration directory and queue, listening on a loopback high port, local delivery to
 * Maildir/) as the MX of far.test (a DNS server of the test's own; smtpd --mx-port); tsmtpd
 * relays a message with a dot-stuffed line and two recipients (one unknown to Postfix) in one
 * transaction: the known one gets the message intact in its maildir, the unknown one comes back
 * as a report with Postfix's words. Postfix comes from Debian's package (.ci/run installs it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { startFakeDns, type FakeDns } from './fake-dns';
import { waitFor } from './wait-for';

let d: DaemonRun;
let dns: FakeDns;
let pf = '';
let port = 0;
let erin: { name: string; uid: number; gid: number; home: string };
let dave: { name: string; uid: number; gid: number; home: string };

/** Debian's master.cf, without chroot, its smtp service on 127.0.0.1:`smtpPort` */
function masterCf(smtpPort: number): string {
  return fs
    .readFileSync('/usr/share/postfix/master.cf.dist', 'utf8')
    .split('\n')
    .map((l) => {
      if (/^\s|^#|^$/.test(l)) return l;
      const f = l.split(/\s+/);
      if (f.length < 8) return l;
      f[4] = 'n';
      if (f[0] === 'smtp' && f[1] === 'inet') f[0] = `127.0.0.1:${smtpPort}`;
      return f.join(' ');
    })
    .join('\n');
}

function mainCf(dir: string): string {
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/queue`,
    `data_directory = ${dir}/data`,
    'command_directory = /usr/sbin',
    'daemon_directory = /usr/lib/postfix/sbin',
    'meta_directory = /etc/postfix',
    'shlib_directory = /usr/lib/postfix',
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'myhostname = mx.far.test',
    'mydomain = far.test',
    'mydestination = far.test',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'home_mailbox = Maildir/',
    'alias_maps =',
    'alias_database =',
    'biff = no',
    'smtputf8_enable = no',
    `maillog_file = ${dir}/postfix.log`,
    `maillog_file_prefixes = /var, /dev/stdout, ${dir}`,
    '',
  ].join('\n');
}

function postfix(...args: string[]): void {
  const r = spawnSync('postfix', ['-c', path.join(pf, 'etc'), ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `postfix ${args.join(' ')}: ${r.stderr}`);
}

async function listening(p: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((res) => {
      const s = net.connect(p, '127.0.0.1', () => (s.end(), res(true)));
      s.on('error', () => res(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`postfix does not listen on ${p}: ${fs.existsSync(path.join(pf, 'postfix.log')) ? fs.readFileSync(path.join(pf, 'postfix.log'), 'utf8') : ''}`);
}

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  erin = ensureUserWithHome('tsmtpd-erin');
  dave = ensureUserWithHome('tsmtpd-dave');
  for (const u of [erin, dave]) fs.rmSync(path.join(u.home, 'Maildir'), { recursive: true, force: true });
  pf = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-postfix-'));
  fs.chmodSync(pf, 0o755);
  fs.mkdirSync(path.join(pf, 'etc'));
  fs.mkdirSync(path.join(pf, 'queue'), { mode: 0o755 });
  fs.mkdirSync(path.join(pf, 'data'), { mode: 0o700 });
  const postfixUser = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim();
  const postfixGroup = spawnSync('id', ['-g', 'postfix'], { encoding: 'utf8' }).stdout.trim();
  fs.chownSync(path.join(pf, 'data'), Number(postfixUser), Number(postfixGroup));
  const pfPort = await freePort();
  fs.writeFileSync(path.join(pf, 'etc', 'main.cf'), mainCf(pf));
  fs.writeFileSync(path.join(pf, 'etc', 'master.cf'), masterCf(pfPort));
  postfix('check');
  postfix('start');
  await listening(pfPort);
  dns = await startFakeDns({ 'far.test': { mx: [[10, 'mx.far.test']] }, 'mx.far.test': { a: ['127.0.0.1'] } });
  port = await freePort();
  d = await startDaemon({
    conf: [`listen on 127.0.0.1 port ${port}`, 'action "local" maildir', 'action "out" relay', 'match from any for domain "local.test" action "local"', 'match from src 127.0.0.1 for any action "out"', ''].join('\n'),
    args: ['--resolver', dns.address, '--mx-port', String(pfPort)],
  });
  await d.waitHealthy();
});

after(async () => {
  if (d) await stopDaemon(d);
  if (pf) {
    spawnSync('postfix', ['-c', path.join(pf, 'etc'), 'stop'], { stdio: 'ignore', timeout: 60_000 });
    fs.rmSync(pf, { recursive: true, force: true });
  }
  await dns?.close();
});

function maildir(user: { home: string }): string[] {
  const dir = path.join(user.home, 'Maildir', 'new');
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'latin1')) : [];
}

test('relayed to a real Postfix: the known recipient gets the message intact; the unknown one is reported with Postfix\'s words', async () => {
  const py = [
    'import smtplib',
    `s = smtplib.SMTP("127.0.0.1", ${port}, local_hostname="client.test")`,
    `s.sendmail("${dave.name}@local.test", ["${erin.name}@far.test", "nobody-here@far.test"], b"Subject: to postfix\\r\\n\\r\\nfirst line\\r\\n..dotted line\\r\\nlast line\\r\\n")`,
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = await waitFor('the message in erin\'s maildir', () => maildir(erin).find((m) => m.includes('Subject: to postfix')), 30_000);
  // smtplib dot-stuffs what it is given, so the message holds "..dotted line"; each hop stuffs
  // and unstuffs it again (and Postfix adds the Message-Id, Date and From it lacks)
  assert.match(got, /\nSubject: to postfix\n/);
  assert.ok(got.endsWith('\n\nfirst line\n..dotted line\nlast line\n'), got);
  assert.match(got, /^Received: from \S+ \(localhost \[127\.0\.0\.1\]\)\n\tby mx\.far\.test \(Postfix\)/m, 'Postfix took it from tsmtpd');
  assert.match(got, /^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\n\tby \S+ \(tsmtpd\)/m, 'with tsmtpd\'s own Received header');
  const report = await waitFor('the report to dave', () => maildir(dave).find((m) => /report-type=delivery-status/.test(m)), 30_000);
  assert.match(report, /Final-Recipient: rfc822; nobody-here@far\.test/);
  assert.match(report, /^Status: 5\.1\.1/m);
  assert.match(report, /550 5\.1\.1 <nobody-here@far\.test>: Recipient address rejected/);
  assert.ok(!report.includes(erin.name + '@far.test>:'), 'the delivered recipient is not reported');
});
