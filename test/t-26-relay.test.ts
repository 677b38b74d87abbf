/**
 * Scenario: outbound relay by MX, against real receivers on loopback: Postfix's smtp-sink on
 * several 127.0.0.x addresses (one accepts and keeps each message, one refuses recipients
 * for good, one for now) and a DNS server of the test's own (smtpd --resolver) serving MX, A
 * and AAAA records; smtpd --mx-port sends to the sinks' port. Covered: delivery to the MX with
 * envelope and body intact; a dead first MX skipped for the next preference; no MX but an
 * address (the domain itself); a null MX (bounce 5.1.10 at once); no such domain (bounce
 * 5.1.2); a 5xx at RCPT (bounce with the server's words); a 4xx at RCPT (deferred, kept,
 * with the error line). Every bounce goes to the local sender's maildir.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromRoot } from './helpers';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { startFakeDns, type FakeDns } from './fake-dns';
import { sendOne } from './smtp-send';
import { waitFor } from './wait-for';

let d: DaemonRun;
let dns: FakeDns;
let port = 0;
let mxPort = 0;
let dumps = '';
const sinks: ChildProcess[] = [];
let dave: { name: string; uid: number; gid: number; home: string };

/** smtp-sink on `address`:mxPort; `flags` make it refuse (-f rcpt: 5xx, -r rcpt: 4xx) */
async function sink(address: string, flags: string[] = []): Promise<void> {
  const p = spawn('/usr/sbin/smtp-sink', ['-u', 'nobody', '-d', `${dumps}/${address}-%M.`, ...flags, `${address}:${mxPort}`, '20'], { stdio: 'ignore' });
  sinks.push(p);
  const net = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((res) => {
      const s = net.connect(mxPort, address, () => (s.end(), res(true)));
      s.on('error', () => res(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`smtp-sink on ${address}:${mxPort} did not start`);
}

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  dave = ensureUserWithHome('tsmtpd-dave');
  fs.rmSync(path.join(dave.home, 'Maildir'), { recursive: true, force: true });
  dumps = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-sink-'));
  fs.chmodSync(dumps, 0o777);
  mxPort = await freePort();
  await sink('127.0.0.1');
  await sink('127.0.0.3', ['-f', 'rcpt', '-B', '550 5.1.1 No such mailbox here']);
  await sink('127.0.0.4', ['-r', 'rcpt', '-b', '452 4.2.2 Mailbox full, try later']);
  dns = await startFakeDns({
    'remote.test': { mx: [[10, 'mx.remote.test']] },
    'mx.remote.test': { a: ['127.0.0.1'] },
    // the first MX is down (nothing listens on 127.0.0.2), the second takes the mail
    'backup.test': { mx: [[10, 'dead.backup.test'], [20, 'mx.remote.test']] },
    'dead.backup.test': { a: ['127.0.0.2'] },
    'nomx.test': { a: ['127.0.0.1'] },
    'nomail.test': { mx: [[0, '.']] },
    'reject.test': { mx: [[10, 'mx.reject.test']] },
    'mx.reject.test': { a: ['127.0.0.3'] },
    'defer.test': { mx: [[10, 'mx.defer.test']] },
    'src.test': { mx: [[10, 'mx.remote.test']] },
    // this host is a backup MX (me.test) of bk1.test, and the best MX of bk2.test
    'bk1.test': { mx: [[10, 'mx.remote.test'], [20, 'me.test']] },
    'bk2.test': { mx: [[10, 'me.test'], [20, 'mx.remote.test']] },
    'me.test': { a: ['127.0.0.9'] },
    'mx.defer.test': { a: ['127.0.0.4'] },
  });
  port = await freePort();
  const conf = [
    `listen on 127.0.0.1 port ${port}`,
    'action "local" maildir',
    'action "out" relay',
    'action "fromsrc" relay src { 127.0.0.5 } helo-src { 127.0.0.5 = out5.test }',
    'action "backup" relay backup mx me.test',
    'match from any for domain "local.test" action "local"',
    'match from src 127.0.0.1 for domain "src.test" action "fromsrc"',
    'match from src 127.0.0.1 for domain { bk1.test, bk2.test } action "backup"',
    'match from src 127.0.0.1 for any action "out"',
    '',
  ];
  d = await startDaemon({ conf: conf.join('\n'), args: ['--resolver', dns.address, '--mx-port', String(mxPort)] });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
  for (const s of sinks) s.kill();
  await dns.close();
  fs.rmSync(dumps, { recursive: true, force: true });
});

/** what the sink on `address` kept (one file per transaction) */
function dumped(address: string): string[] {
  return fs.readdirSync(dumps).filter((f) => f.startsWith(`${address}-`)).map((f) => fs.readFileSync(path.join(dumps, f), 'latin1'));
}

/** the delivery report in dave's maildir about `subject` */
function bounceAbout(subject: string): string | undefined {
  const dir = path.join(dave.home, 'Maildir', 'new');
  if (!fs.existsSync(dir)) return undefined;
  return fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'latin1')).find((m) => /report-type=delivery-status/i.test(m) && m.includes(`Subject: ${subject}`));
}

const sender = () => `${dave.name}@local.test`;

test('MX delivery: the message reaches the MX of its domain, envelope and body intact, and leaves the queue', async () => {
  const msgid = await sendOne(port, 'bob@remote.test', 'to the mx', { from: sender(), body: 'line one\r\n..dot line\r\nline three' });
  const got = await waitFor('the sink', () => dumped('127.0.0.1').find((m) => m.includes('Subject: to the mx')));
  assert.match(got, new RegExp(`^X-Mail-Args: <${sender()}>`, 'm'));
  assert.match(got, /^X-Rcpt-Args: <bob@remote\.test>/m);
  assert.ok(got.includes('\nSubject: to the mx\n\nline one\n.dot line\nline three\n'), got);
  await d.waitLog(new RegExp(`mta\\[\\d+\\] info relayed evpid=${msgid}`));
  assert.ok(dns.queries.has('remote.test/15'), 'the MX was asked of our DNS server');
});

test('MX preference: a first MX that refuses connections is skipped for the next one', async () => {
  const msgid = await sendOne(port, 'carl@backup.test', 'via the backup', { from: sender() });
  await waitFor('the sink', () => dumped('127.0.0.1').find((m) => m.includes('Subject: via the backup')));
  await d.waitLog(/mta-connect-failed: 421 4\.4\.1 cannot connect to dead\.backup\.test \[127\.0\.0\.2\]:\d+: ECONNREFUSED/);
  await d.waitLog(new RegExp(`relayed evpid=${msgid}`));
});

test('a domain without MX but with an address gets the mail itself', async () => {
  await sendOne(port, 'x@nomx.test', 'implicit mx', { from: sender() });
  const got = await waitFor('the sink', () => dumped('127.0.0.1').find((m) => m.includes('Subject: implicit mx')));
  assert.match(got, /^X-Rcpt-Args: <x@nomx\.test>/m);
});

test('F21: a null MX (RFC 7505): bounced at once with 5.1.10, no connection tried', async () => {
  await sendOne(port, 'y@nomail.test', 'to a null mx', { from: sender() });
  const report = await waitFor('the bounce', () => bounceAbout('to a null mx'));
  assert.match(report, /^Status: 5\.1\.10/m);
  assert.match(report, /Final-Recipient: rfc822; y@nomail\.test/);
  assert.doesNotMatch(d.logs(), /mta-connect-failed.*nomail|(?:relayed|deferred) .*rcpt=y@nomail\.test/);
});

test('F20: no such domain (NXDOMAIN): bounced with 5.1.2', async () => {
  await sendOne(port, 'z@nowhere.test', 'to nowhere', { from: sender() });
  const report = await waitFor('the bounce', () => bounceAbout('to nowhere'));
  assert.match(report, /^Status: 5\.1\.2/m);
});

test('a 5xx at RCPT: bounced with the server\'s words', async () => {
  await sendOne(port, 'gone@reject.test', 'refused for good', { from: sender() });
  const report = await waitFor('the bounce', () => bounceAbout('refused for good'));
  assert.match(report, /^Status: 5\.\d\.\d/m);
  assert.match(report, /550 5\.1\.1 No such mailbox here/);
});

test('a 4xx at RCPT: deferred, kept in the queue with the server\'s words as its error line', async () => {
  const msgid = await sendOne(port, 'full@defer.test', 'try later', { from: sender() });
  await d.waitLog(new RegExp(`mta\\[\\d+\\] info deferred evpid=${msgid}[0-9a-f]{8} rcpt=full@defer\\.test result=".*452 4\\.2\\.2 Mailbox full`));
  const bucket = path.join(d.spool, 'queue', msgid.slice(0, 2), msgid);
  const files = await waitFor('the updated envelope', () => {
    const f = fs.existsSync(bucket) ? fs.readdirSync(bucket).filter((x) => x !== 'message') : [];
    const e = f.map((x) => JSON.parse(fs.readFileSync(path.join(bucket, x), 'utf8')) as { retry: number; errorline?: string }).find((x) => x.retry > 0);
    return e;
  });
  assert.match(String(files.errorline), /452 4\.2\.2 Mailbox full/);
  assert.equal(bounceAbout('try later'), undefined, 'no bounce for a temporary failure');
});

test('smtpctl show hosts, hoststats, routes and relays tell what the mta did; resume route refuses an unknown id', async () => {
  const ctl = (...args: string[]) => spawnSync(process.execPath, [fromRoot('bin', 'smtpctl'), '-s', d.socket, ...args], { encoding: 'utf8', timeout: 20_000 });
  const hosts = ctl('show', 'hosts');
  assert.equal(hosts.status, 0, hosts.stderr);
  assert.match(hosts.stdout, /^127\.0\.0\.1 mx\.remote\.test refcount=\d+ nconn=\d+ lastconn=\w+$/m);
  assert.match(hosts.stdout, /^127\.0\.0\.2 dead\.backup\.test refcount=1 nconn=0 lastconn=\w+$/m);
  const stats = ctl('show', 'hoststats').stdout;
  assert.match(stats, /^remote\.test\|\d{10}\|delivered to mx\.remote\.test \[127\.0\.0\.1\]: 250 /m);
  assert.match(stats, /^reject\.test\|\d{10}\|mx\.reject\.test said at RCPT TO: 550 5\.1\.1 No such mailbox here$/m);
  const routes = ctl('show', 'routes').stdout;
  assert.match(routes, /^\d+\. 0\.0\.0\.0 <-> 127\.0\.0\.1 \(mx\.remote\.test\) -[-D][-Q][-K] nconn=\d+ nerror=0 penalty=0 timeout=-$/m);
  assert.match(routes, /^\d+\. 0\.0\.0\.0 <-> 127\.0\.0\.2 \(dead\.backup\.test\) N--- nconn=0 nerror=1 penalty=0 timeout=-$/m);
  assert.match(ctl('show', 'relays').stdout, /^\[mx:remote\.test\] refcount=0 ntask=0 nconn=\d+ lastconn=\w+$/m);
  const bad = ctl('resume', 'route', '999');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /no route 999 \(smtpctl show routes lists them\)/);
});

test('relay src and helo-src: the connection comes from the src address, with the EHLO name helo-src gives it', async () => {
  await sendOne(port, 'x@src.test', 'from src', { from: sender() });
  const got = await waitFor('the sink', () => dumped('127.0.0.1').find((m) => m.includes('Subject: from src')));
  assert.match(got, /^X-Client-Addr: 127\.0\.0\.5$/m);
  assert.match(got, /^X-Helo-Args: out5\.test$/m);
});

test('relay backup mx: only exchangers preferred to this host are used; none: deferred', async () => {
  await sendOne(port, 'x@bk1.test', 'to a primary', { from: sender() });
  await waitFor('the sink', () => dumped('127.0.0.1').find((m) => m.includes('Subject: to a primary')));
  const msgid = await sendOne(port, 'x@bk2.test', 'we are the best', { from: sender() });
  const line = await d.waitLog(new RegExp(`mta\\[\\d+\\] info deferred evpid=${msgid}.*`));
  assert.match(line, /451 4\.4\.4 bk2\.test: no MX is preferred to this backup MX \(me\.test\)/);
});
