/**
 * Scenario: smtpctl against a daemon holding deferred relay mail, its MX down (nothing listens
 * at the MX's address; a DNS server of the test's own names it): show queue shows the mta
 * envelope with the connection error, show routes and show hoststats the failures, schedule
 * tries again; pause mta holds mail for a working MX (a scripted receiver) and resume mta
 * releases it; pause mta from ADDR for DOMAIN holds one source-domain pair (show mta paused
 * lists it) and its resume sends the mail held at once; remove takes the deferred message away.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fromRoot } from './helpers';
import { assertRoot, ensureUser, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { startFakeDns, type FakeDns } from './fake-dns';
import { startFakeMx, type FakeMx } from './fake-mx';
import { sendOne } from './smtp-send';
import { waitFor } from './wait-for';

let d: DaemonRun;
let dns: FakeDns;
let mx: FakeMx;
let port = 0;
let down = '';

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  const mxPort = await freePort();
  mx = await startFakeMx('127.0.0.42', mxPort);
  dns = await startFakeDns({
    'down.test': { mx: [[10, 'mx.down.test']] },
    'mx.down.test': { a: ['127.0.0.41'] },
    'up.test': { mx: [[10, 'mx.up.test']] },
    'mx.up.test': { a: ['127.0.0.42'] },
  });
  port = await freePort();
  d = await startDaemon({
    conf: [`listen on 127.0.0.1 port ${port}`, 'action "out" relay', 'match from src 127.0.0.1 for any action "out"', ''].join('\n'),
    args: ['--resolver', dns.address, '--mx-port', String(mxPort)],
  });
  await d.waitHealthy();
  down = await sendOne(port, 'x@down.test', 'to a dead mx');
  await d.waitLog(new RegExp(`mta\\[\\d+\\] info deferred evpid=${down}`));
});

after(async () => {
  await stopDaemon(d);
  await mx.close();
  await dns.close();
});

function ctl(...args: string[]): string {
  const r = spawnSync(process.execPath, [fromRoot('bin', 'smtpctl'), '-s', d.socket, ...args], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('deferred relay mail: show queue (an mta envelope with its error), show routes and show hoststats (the failures); schedule tries again', async () => {
  const line = ctl('show', 'queue').trim();
  assert.match(line, new RegExp(`^${down}[0-9a-f]{8}\\|inet4\\|mta\\|\\|s@remote\\.test\\|x@down\\.test\\|x@down\\.test\\|\\d+\\|\\d+\\|\\d+\\|1\\|(?:pending|inflight)\\|\\d*\\|421 4\\.4\\.1 cannot connect to mx\\.down\\.test \\[127\\.0\\.0\\.41\\]:\\d+: ECONNREFUSED$`));
  assert.match(ctl('show', 'routes'), /^\d+\. 0\.0\.0\.0 <-> 127\.0\.0\.41 \(mx\.down\.test\) N--- nconn=0 nerror=1 penalty=0 timeout=-$/m);
  assert.match(ctl('show', 'hoststats'), /^down\.test\|\d{10}\|421 4\.4\.1 cannot connect to mx\.down\.test/m);
  assert.equal(ctl('schedule', down), '1 envelope scheduled\n');
  await waitFor('a second try', () => (/nerror=2 /.test(ctl('show', 'routes')) ? true : undefined));
  assert.match(ctl('show', 'queue'), /\|2\|(?:pending|inflight)\|/);
});

test('pause mta holds relay mail (show status says so); resume mta releases it to the MX', async () => {
  assert.equal(ctl('pause', 'mta'), 'command succeeded\n');
  assert.match(ctl('show', 'status'), /^MTA paused$/m);
  const held = await sendOne(port, 'y@up.test', 'held');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(mx.messages.length, 0, 'nothing relayed while paused');
  assert.match(ctl('show', 'queue'), new RegExp(`^${held}[0-9a-f]{8}\\|inet4\\|mta\\|`, 'm'));
  assert.equal(ctl('resume', 'mta'), 'command succeeded\n');
  await waitFor('the relayed message', () => (mx.messages.length === 1 ? true : undefined));
  assert.deepEqual(mx.messages[0]!.rcpts, ['y@up.test']);
  await waitFor('the queue without it', () => (ctl('show', 'queue').includes(held) ? undefined : true));
});

test('pause mta from ADDR for DOMAIN: mail for that domain waits (show mta paused lists the pair); resume sends it at once', async () => {
  assert.equal(ctl('pause', 'mta', 'from', '0.0.0.0', 'for', 'UP.test'), 'command succeeded\n');
  assert.equal(ctl('show', 'mta', 'paused'), '0.0.0.0 up.test\n');
  const before = mx.messages.length;
  const held = await sendOne(port, 'z@up.test', 'paused pair');
  const line = await d.waitLog(new RegExp(`mta\\[\\d+\\] info deferred evpid=${held}[0-9a-f]{8} rcpt=z@up\\.test result=.*`));
  assert.match(line, /451 4\.4\.5 relaying from 0\.0\.0\.0 for up\.test is paused/);
  assert.equal(mx.messages.length, before, 'nothing relayed to the paused pair');
  assert.equal(ctl('resume', 'mta', 'from', '0.0.0.0', 'for', 'up.test'), 'command succeeded\n');
  assert.equal(ctl('show', 'mta', 'paused'), '');
  await waitFor('the held message relayed at once (not at its retry, minutes away)', () => (mx.messages.length === before + 1 ? true : undefined));
  assert.deepEqual(mx.messages.at(-1)!.rcpts, ['z@up.test']);
});

test('pause mta from/for: a source that is not an address, or resuming a pair not paused, is an error that says so', () => {
  const bad = spawnSync(process.execPath, [fromRoot('bin', 'smtpctl'), '-s', d.socket, 'pause', 'mta', 'from', 'somewhere', 'for', 'up.test'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /not an IP address: "somewhere"/);
  const none = spawnSync(process.execPath, [fromRoot('bin', 'smtpctl'), '-s', d.socket, 'resume', 'mta', 'from', '192.0.2.1', 'for', 'up.test'], { encoding: 'utf8' });
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /relaying from 192\.0\.2\.1 for up\.test is not paused \(smtpctl show mta paused lists what is\)/);
});

test('remove: the deferred message leaves the queue', () => {
  assert.equal(ctl('remove', down), '1 envelope removed\n');
  assert.equal(ctl('show', 'queue'), '');
});
