/**
 * Scenario: the relay's holdq and `mta limit`, against scripted receivers (test/fake-mx.ts) on
 * 127.0.0.x and a DNS server of the test's own.
 * - holdq (`mta max-deferred 2`): three messages for a domain whose MX is down are deferred
 *   (next try minutes away); once the MX is up, a new message gets through and two of the
 *   three deferred ones go at once with it; the third waits for its own retry.
 * - `mta limit for domain D max-conn-per-host 2`: a slow MX for D never sees more than two
 *   connections at once, while another domain's MX takes more (the default route limit, 5).
 * - `mta limit session-mail-max 2`: six messages in a row to one MX use three connections.
 * - `mta limit for domain D inet6`: an MX with only IPv4 addresses is not used (deferred).
 * - SRS (`srs key`, `relay srs`): mail an alias sends on leaves with an SRS0 sender in the
 *   alias's domain; a bounce to that address goes back to the original sender; a forged one
 *   is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fromRoot } from './helpers';
import { assertRoot, ensureUser, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { startFakeDns, type FakeDns } from './fake-dns';
import { startFakeMx, type FakeMx, type Script } from './fake-mx';
import { sendOne } from './smtp-send';
import { RawSmtp } from './smtp-raw';
import { waitFor } from './wait-for';

let d: DaemonRun;
let dns: FakeDns;
let port = 0;
let mxPort = 0;
const mxs = new Map<string, FakeMx>();

/** the end of DATA answered after 400 ms: deliveries overlap */
const slow: Script = (c) => (c === '.' ? { delayMs: 400, reply: '250 2.0.0 Ok: queued' } : undefined);

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  mxPort = await freePort();
  mxs.set('slow', await startFakeMx('127.0.0.52', mxPort, slow));
  mxs.set('fast', await startFakeMx('127.0.0.53', mxPort, slow));
  mxs.set('serial', await startFakeMx('127.0.0.54', mxPort));
  mxs.set('remote', await startFakeMx('127.0.0.55', mxPort));
  mxs.set('origin', await startFakeMx('127.0.0.56', mxPort));
  dns = await startFakeDns({
    'held.test': { mx: [[10, 'mx.held.test']] },
    'mx.held.test': { a: ['127.0.0.51'] },
    'slow.test': { mx: [[10, 'mx.slow.test']] },
    'mx.slow.test': { a: ['127.0.0.52'] },
    'fast.test': { mx: [[10, 'mx.fast.test']] },
    'mx.fast.test': { a: ['127.0.0.53'] },
    'serial.test': { mx: [[10, 'mx.serial.test']] },
    'mx.serial.test': { a: ['127.0.0.54'] },
    'v6only.test': { mx: [[10, 'mx.serial.test']] },
    'remote.test': { mx: [[10, 'mx.remote.test']] },
    'mx.remote.test': { a: ['127.0.0.55'] },
    'origin.test': { mx: [[10, 'mx.origin.test']] },
    'mx.origin.test': { a: ['127.0.0.56'] },
  });
  port = await freePort();
  d = await startDaemon({
    conf: [
      `listen on 127.0.0.1 port ${port}`,
      'mta max-deferred 2',
      'mta limit session-mail-max 2',
      'mta limit for domain "slow.test" max-conn-per-host 2',
      'mta limit for domain "v6only.test" inet6',
      'srs key "a-secret-of-the-test"',
      'table aliases { "fwd" = "far@remote.test" }',
      'action "local" maildir alias <aliases>',
      'action "out" relay srs',
      'match from any for domain "here.test" action "local"',
      'match from local for any action "out"',
      'match from src 127.0.0.1 for any action "out"',
      '',
    ].join('\n'),
    args: ['--resolver', dns.address, '--mx-port', String(mxPort)],
  });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
  for (const m of mxs.values()) await m.close();
  await dns.close();
});

function ctl(...args: string[]): string {
  const r = spawnSync(process.execPath, [fromRoot('bin', 'smtpctl'), '-s', d.socket, ...args], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const relayed = (msgid: string) => new RegExp(`mta\\[\\d+\\] info relayed evpid=${msgid}[0-9a-f]{8} `);

test('holdq: mail deferred while the MX was down (up to max-deferred 2) goes at once when a delivery there works again', async () => {
  const deferred: string[] = [];
  for (const rcpt of ['a', 'b', 'c']) {
    const msgid = await sendOne(port, `${rcpt}@held.test`, `held ${rcpt}`);
    await d.waitLog(new RegExp(`mta\\[\\d+\\] info deferred evpid=${msgid}[0-9a-f]{8} .*ECONNREFUSED`));
    deferred.push(msgid);
  }
  // each is now due again in minutes (400 s backoff), not seconds
  assert.equal(ctl('show', 'queue').trim().split('\n').length, 3);
  const mx = await startFakeMx('127.0.0.51', mxPort);
  mxs.set('held', mx);
  const fresh = await sendOne(port, 'd@held.test', 'held d');
  await d.waitLog(relayed(fresh));
  await d.waitLog(/queue\[\d+\] info holdq-released count=2|scheduler\[\d+\] info holdq-released count=2/);
  await waitFor('two held messages relayed', () => (mx.messages.length === 3 ? true : undefined));
  const got = mx.messages.map((m) => m.rcpts[0]).sort();
  assert.deepEqual(got, ['a@held.test', 'b@held.test', 'd@held.test'], 'the first two deferred (max-deferred 2), and the new one');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(mx.messages.length, 3, 'the third waits for its own retry');
  const left = ctl('show', 'queue');
  assert.match(left, /c@held\.test/);
  assert.equal(left.trim().split('\n').length, 1);
});

test('mta limit for domain: max-conn-per-host 2 holds a slow MX to two connections; another domain gets more', async () => {
  const sendAll = (domain: string) => Promise.all([1, 2, 3, 4, 5, 6].map((i) => sendOne(port, `u${i}@${domain}`, `burst ${i}`)));
  const [slowIds, fastIds] = await Promise.all([sendAll('slow.test'), sendAll('fast.test')]);
  for (const id of [...slowIds, ...fastIds]) await d.waitLog(relayed(id), 30_000);
  const slowMx = mxs.get('slow')!;
  const fastMx = mxs.get('fast')!;
  assert.equal(slowMx.messages.length, 6);
  assert.equal(fastMx.messages.length, 6);
  assert.ok(slowMx.peak <= 2, `slow.test peak ${slowMx.peak}`);
  assert.ok(fastMx.peak > 2, `fast.test peak ${fastMx.peak}: not held to the other domain's limit`);
  assert.ok(fastMx.peak <= 5, `fast.test peak ${fastMx.peak}: max-conn-per-route 5 by default`);
});

test('mta limit session-mail-max 2: six messages in a row to one MX take three connections', async () => {
  const mx = mxs.get('serial')!;
  for (let i = 1; i <= 6; i++) {
    const msgid = await sendOne(port, `s${i}@serial.test`, `serial ${i}`);
    await d.waitLog(relayed(msgid));
  }
  assert.equal(mx.messages.length, 6);
  assert.equal(mx.connections, 3);
});

test('mta limit for domain inet6: an MX with IPv4 addresses only is not used; the mail is deferred with the reason', async () => {
  const msgid = await sendOne(port, 'x@v6only.test', 'v6 only');
  const line = await d.waitLog(new RegExp(`mta\\[\\d+\\] info deferred evpid=${msgid}[0-9a-f]{8} rcpt=x@v6only\\.test result=.*`));
  assert.match(line, /451 4\.4\.4 v6only\.test: no MX address of the family `mta limit` allows/);
  assert.match(ctl('show', 'queue'), /x@v6only\.test/);
});

test('SRS: mail an alias sends elsewhere leaves with an SRS0 sender of the alias\'s domain; a bounce to it returns to the sender', async () => {
  const remote = mxs.get('remote')!;
  const msgid = await sendOne(port, 'fwd@here.test', 'forwarded', { from: 'someone@origin.test' });
  await d.waitLog(relayed(msgid));
  const m = remote.messages.find((x) => x.rcpts.includes('far@remote.test'))!;
  assert.match(m.from, /^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=origin\.test=someone@here\.test$/);
  // the far end bounces it: the report comes back to the SRS address, from the null sender
  const origin = mxs.get('origin')!;
  const back = await sendOne(port, m.from, 'the bounce', { from: '' });
  await d.waitLog(relayed(back));
  const returned = origin.messages.find((x) => x.data.includes('Subject: the bounce'))!;
  assert.deepEqual(returned.rcpts, ['someone@origin.test']);
  assert.equal(returned.from, '');
});

test('SRS: a bounce to a forged SRS address is refused at RCPT; mail sent straight out keeps its sender', async () => {
  const c = await RawSmtp.connect(port);
  try {
    assert.equal((await c.reply()).code, 220);
    assert.equal((await c.cmd('EHLO client.test')).code, 250);
    assert.equal((await c.cmd('MAIL FROM:<>')).code, 250);
    const r = await c.cmd('RCPT TO:<SRS0=AAAA=AA=origin.test=someone@here.test>');
    assert.equal(r.code, 550, r.text);
  } finally {
    c.close();
  }
  const remote = mxs.get('remote')!;
  const msgid = await sendOne(port, 'direct@remote.test', 'straight out', { from: 'someone@origin.test' });
  await d.waitLog(relayed(msgid));
  assert.equal(remote.messages.find((x) => x.rcpts.includes('direct@remote.test'))!.from, 'someone@origin.test');
});
