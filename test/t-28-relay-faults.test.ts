/**
 * Scenario: the outbound faults of the reliability checklist, against scripted receivers
 * (test/fake-mx.ts) on 127.0.0.x and a DNS server of the test's own. Retries are asked for
 * with `smtpctl schedule`, as an operator would, instead of waiting for the backoff.
 * F03 (kill -9 while the MX holds the message unanswered: sent again after the restart, at
 * most two copies, no report), F04 (kill -9 as the MX says 250: at most two copies, never
 * none), F11 (4xx twice, then delivered once), F12 (4xx until the ttl: one report, Action: failed),
 * F13 (5xx: one report quoting the server, no retry), F14 (mixed results in one transaction),
 * F15 (a server silent at the banner: deferred after --mta-timeout), F16 (reset in the middle
 * of DATA: deferred, then delivered once), F17 (421 at the greeting: the next MX), F18
 * (malformed replies: temporary, sanitized, the queue loads after a restart), F19 (DNS
 * SERVFAIL: deferred 4.4.3), F22/D08 (the MX is this host: 5.4.6, no connection to itself).
 * In each, what was accepted is delivered, bounced or still queued: never lost.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromRoot } from './helpers';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { startFakeDns, type FakeDns } from './fake-dns';
import { startFakeMx, type FakeMx, type Script } from './fake-mx';
import { sendOne } from './smtp-send';
import { waitFor } from './wait-for';

let d: DaemonRun;
let dns: FakeDns;
let port = 0;
let mxPort = 0;
const mxs = new Map<string, FakeMx>();
let frank: { name: string; uid: number; gid: number; home: string };

/** F04: kills the daemon, set while its test runs */
let crash: (() => void) | undefined;

const SCRIPTS: Record<string, Script> = {
  // a server that offers DSN
  '127.0.0.33': (c) => (c.startsWith('EHLO') ? '250-fake.test\r\n250-PIPELINING\r\n250-DSN\r\n250 8BITMIME' : undefined),
  // F03: the whole message read, then no reply (the daemon is killed meanwhile)
  '127.0.0.31': (c, n) => (c === '.' && n === 0 ? { silent: true } : undefined),
  // F04: 250, and at that moment the daemon is killed
  '127.0.0.32': (c, n) => {
    if (c === '.' && n === 0) crash?.();
    return undefined;
  },
  // F11: 451 at RCPT for the first two connections
  '127.0.0.11': (c, n) => (c.startsWith('RCPT') && n < 2 ? '451 4.3.0 try again later' : undefined),
  // F12: always 451
  '127.0.0.12': (c) => (c.startsWith('RCPT') ? '451 4.2.1 mailbox busy' : undefined),
  // F13: 550 with a control character to be removed from the stored text
  '127.0.0.13': (c) => (c.startsWith('RCPT') ? '550 5.1.1 <gone> no such\x07 user' : undefined),
  // F14: r1 250, r2 550, r3 451
  '127.0.0.14': (c) => (/^RCPT TO:<r[24]@/.test(c) ? `550 5.1.1 ${c.slice(9, 11)} unknown` : /^RCPT TO:<r3@/.test(c) ? '451 4.2.2 r3 over quota' : undefined),
  // F15: never says anything
  '127.0.0.15': (c) => (c === 'greeting' ? { silent: true } : undefined),
  // F16: reset after 1 KiB of DATA on the first connection
  '127.0.0.16': (c, n) => (c === 'DATA' && n === 0 ? { resetAfterBytes: 1024 } : undefined),
  // F17: busy at the greeting; the second MX (127.0.0.18) is fine
  '127.0.0.17': (c) => (c === 'greeting' ? '421 4.3.2 busy' : undefined),
  '127.0.0.18': () => undefined,
  // F18: malformed replies to RCPT
  '127.0.0.21': (c) => (c.startsWith('RCPT') ? `${'250-x\r\n'.repeat(100_000)}250 y` : undefined),
  '127.0.0.22': (c) => (c.startsWith('RCPT') ? `250 ${'x'.repeat(100 * 1024)}` : undefined),
  '127.0.0.23': (c) => (c.startsWith('RCPT') ? '2x0 ok' : undefined),
  '127.0.0.24': (c) => (c.startsWith('RCPT') ? '450 4.7.1 bad\0\x1b[31m text' : undefined),
  '127.0.0.25': (c) => (c.startsWith('EHLO') ? '250-a\n250 b' : undefined),
};

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  frank = ensureUserWithHome('tsmtpd-frank');
  fs.rmSync(path.join(frank.home, 'Maildir'), { recursive: true, force: true });
  mxPort = await freePort();
  for (const [address, script] of Object.entries(SCRIPTS)) mxs.set(address, await startFakeMx(address, mxPort, script));
  // an LMTP server: the second recipient is refused after the data
  mxs.set('127.0.0.35', await startFakeMx('127.0.0.35', mxPort, (c) => (c === '.l2@lmtp.test' ? '550 5.1.1 l2: no such mailbox' : undefined), true));
  const zone: Parameters<typeof startFakeDns>[0] = {
    'f17.test': { mx: [[10, 'mx17.test'], [20, 'mx18.test']] },
    'mx17.test': { a: ['127.0.0.17'] },
    'mx18.test': { a: ['127.0.0.18'] },
    'f19.test': { servfail: true },
  };
  for (const x of ['11', '12', '13', '14', '15', '16', '21', '22', '23', '24', '25', '31', '32', '33']) {
    zone[`f${x}.test`] = { mx: [[10, `mx${x}.test`]] };
    zone[`mx${x}.test`] = { a: [`127.0.0.${x}`] };
  }
  dns = await startFakeDns(zone);
  port = await freePort();
  d = await startDaemon({
    conf: [
      `listen on 127.0.0.1 port ${port}`,
      'action "local" maildir',
      'action "out" relay',
      'action "short" relay ttl 3s',
      `action "lmtp" relay host "lmtp://127.0.0.35:${mxPort}"`,
      'match from src 127.0.0.1 for domain "lmtp.test" action "lmtp"',
      'match from any for domain "local.test" action "local"',
      'match from src 127.0.0.1 for domain "f12.test" action "short"',
      'match from src 127.0.0.1 for any action "out"',
      '',
    ].join('\n'),
    args: ['--resolver', dns.address, '--mx-port', String(mxPort), '--mta-timeout', '2s'],
  });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
  for (const m of mxs.values()) await m.close();
  await dns.close();
});

const from = () => `${frank.name}@local.test`;

function smtpctl(...args: string[]): string {
  const r = spawnSync(process.execPath, [fromRoot('bin', 'smtpctl'), '-s', d.socket, ...args], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** the delivery reports in frank's maildir about `subject` */
function reports(subject: string): string[] {
  const dir = path.join(frank.home, 'Maildir', 'new');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'latin1')).filter((m) => /report-type=delivery-status/i.test(m) && m.includes(`Subject: ${subject}`));
}

/** the mta's log line about an envelope of `msgid` for `rcpt`, the `n`th of its kind */
async function mtaSaid(event: 'relayed' | 'deferred' | 'failed', msgid: string, rcpt: string, n = 1): Promise<string> {
  const re = new RegExp(`mta\\[\\d+\\] info ${event} evpid=${msgid}[0-9a-f]{8} rcpt=${rcpt.replace(/\./g, '\\.')} .*`, 'g');
  return waitFor(`${event} ${rcpt} x${n}`, () => d.logs().match(re)?.[n - 1]);
}

/** one message to several recipients over one SMTP session (Python's smtplib) */
/** one message to several recipients over one SMTP session (Python's smtplib), with ESMTP
 * options if given: its msgid */
async function sendMany(rcpts: string[], subject: string, mailOptions: string[] = [], rcptOptions: string[] = []): Promise<string> {
  const accepted = /message-accepted msgid=([0-9a-f]{8}) /g;
  const before = (d.logs().match(accepted) ?? []).length;
  const py = [
    'import smtplib',
    `s = smtplib.SMTP("127.0.0.1", ${port}, local_hostname="client.test")`,
    `s.sendmail(${JSON.stringify(from())}, ${JSON.stringify(rcpts)}, b"Subject: ${subject}\\r\\n\\r\\nbody\\r\\n", mail_options=${JSON.stringify(mailOptions)}, rcpt_options=${JSON.stringify(rcptOptions)})`,
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const line = await waitFor('the message accepted', () => d.logs().match(accepted)?.[before]);
  return /msgid=([0-9a-f]{8})/.exec(line)![1]!;
}

test('F11: 451 twice, then delivered on the third try, once', async () => {
  const msgid = await sendOne(port, 'a@f11.test', 'F11', { from: from() });
  await mtaSaid('deferred', msgid, 'a@f11.test', 1);
  smtpctl('schedule', msgid);
  await mtaSaid('deferred', msgid, 'a@f11.test', 2);
  smtpctl('schedule', msgid);
  await mtaSaid('relayed', msgid, 'a@f11.test');
  const mx = mxs.get('127.0.0.11')!;
  assert.equal(mx.connections, 3);
  assert.equal(mx.messages.length, 1, 'delivered once');
  assert.deepEqual(reports('F11'), [], 'no report');
});

test('F12: 451 until the ttl: one report (Action: failed, the 4.x.x status), and the envelope is gone', async () => {
  const msgid = await sendOne(port, 'b@f12.test', 'F12', { from: from() });
  await mtaSaid('deferred', msgid, 'b@f12.test');
  const [report] = await waitFor('the expiry report', () => (reports('F12').length > 0 ? reports('F12') : undefined), 20_000);
  assert.match(report!, /^Action: failed/m);
  assert.match(report!, /^Status: 4\.2\.1/m);
  assert.match(report!, /451 4\.2\.1 mailbox busy/);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(reports('F12').length, 1, 'exactly one report');
  assert.doesNotMatch(smtpctl('show', 'queue'), new RegExp(msgid));
});

test('F13: 550 at RCPT: one report with 5.1.1 quoting the server (control characters removed), no retry', async () => {
  const msgid = await sendOne(port, 'c@f13.test', 'F13', { from: from() });
  await mtaSaid('failed', msgid, 'c@f13.test');
  const [report] = await waitFor('the report', () => (reports('F13').length > 0 ? reports('F13') : undefined));
  assert.match(report!, /^Status: 5\.1\.1/m);
  assert.match(report!, /550 5\.1\.1 <gone> no such user/);
  assert.ok(!report!.includes('\x07'));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(mxs.get('127.0.0.13')!.connections, 1, 'not tried again');
});

test('F14: mixed results in one transaction: r1 delivered once, r2 reported alone, r3 kept for a retry', async () => {
  const msgid = await sendMany(['r1@f14.test', 'r2@f14.test', 'r3@f14.test'], 'F14');
  assert.match(msgid, /^[0-9a-f]{8}$/);
  await mtaSaid('relayed', msgid, 'r1@f14.test');
  await mtaSaid('failed', msgid, 'r2@f14.test');
  await mtaSaid('deferred', msgid, 'r3@f14.test');
  const mx = mxs.get('127.0.0.14')!;
  assert.equal(mx.connections, 1, 'one transaction for the three');
  assert.deepEqual(mx.messages.map((m) => m.rcpts), [['r1@f14.test']]);
  const [report] = await waitFor('the report', () => (reports('F14').length > 0 ? reports('F14') : undefined));
  const status = report!.split(/^Content-Type: text\/rfc822-headers/im)[0]!;
  assert.match(status, /r2@f14\.test/);
  assert.ok(!/r1@f14\.test|r3@f14\.test/.test(status), 'only r2 is in the report');
  assert.match(smtpctl('show', 'queue'), /r3@f14\.test/);
});

test('DSN RET=FULL: the failure report returns the whole message (message/rfc822), RET=HDRS its headers', async () => {
  const full = await sendMany(['c@f13.test'], 'return it whole', ['RET=FULL']);
  await mtaSaid('failed', full, 'c@f13.test');
  const [report] = await waitFor('the report', () => (reports('return it whole').length > 0 ? reports('return it whole') : undefined));
  assert.match(report!, /^Content-Type: message\/rfc822\r\n\r\nReceived: [\s\S]*Subject: return it whole\r\n\r\nbody\r\n/m);
  assert.ok(!/text\/rfc822-headers/.test(report!));
  const hdrs = await sendMany(['c@f13.test'], 'headers only', ['RET=HDRS']);
  await mtaSaid('failed', hdrs, 'c@f13.test');
  const [short] = await waitFor('the report', () => (reports('headers only').length > 0 ? reports('headers only') : undefined));
  assert.match(short!, /^Content-Type: text\/rfc822-headers/m);
  assert.ok(!/message\/rfc822|\r\nbody\r\n/.test(short!), 'no body');
});

test('two recipients of one message refused for good: one report naming both', async () => {
  const msgid = await sendMany(['r2@f14.test', 'r4@f14.test', 'r1@f14.test'], 'two refused');
  await mtaSaid('failed', msgid, 'r4@f14.test');
  const [report] = await waitFor('the report', () => (reports('two refused').length > 0 ? reports('two refused') : undefined));
  assert.match(report!, /Final-Recipient: rfc822; r2@f14\.test[\s\S]*Final-Recipient: rfc822; r4@f14\.test|Final-Recipient: rfc822; r4@f14\.test[\s\S]*Final-Recipient: rfc822; r2@f14\.test/);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(reports('two refused').length, 1, 'one report, not one per recipient');
});

test('DSN NOTIFY=NEVER: a recipient refused for good makes no report', async () => {
  const msgid = await sendMany(['n@f13.test'], 'never tell', [], ['NOTIFY=NEVER']);
  await mtaSaid('failed', msgid, 'n@f13.test');
  await d.waitLog(new RegExp(`bounce-not-requested: .* evpid=${msgid}[0-9a-f]{8} rcpt=n@f13\\.test notify=NEVER`));
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(reports('never tell'), []);
});

test('DSN NOTIFY=SUCCESS to a server without DSN: a "relayed" notice with the ENVID and ORCPT', async () => {
  const msgid = await sendMany(['s@f17.test'], 'tell me relayed', ['RET=HDRS', 'ENVID=env-42'], ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;orig@f17.test']);
  await mtaSaid('relayed', msgid, 's@f17.test');
  const [notice] = await waitFor('the notice', () => (reports('tell me relayed').length > 0 ? reports('tell me relayed') : undefined));
  assert.match(notice!, /^Subject: Delivery status notification: relayed/m);
  assert.match(notice!, /^Original-Envelope-Id: env-42/m);
  assert.match(notice!, /^Original-Recipient: rfc822; orig@f17\.test/m);
  assert.match(notice!, /^Action: relayed/m);
  assert.match(notice!, /^Status: 2\.0\.0/m);
});

test('DSN passed on to a server that offers it (RET, ENVID, NOTIFY, ORCPT in xtext); no notice from here', async () => {
  const mx = mxs.get('127.0.0.33')!;
  const msgid = await sendMany(['p@f33.test'], 'passed on', ['RET=HDRS', 'ENVID=a+2Bb'], ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;p+2Bx@f33.test']);
  await mtaSaid('relayed', msgid, 'p@f33.test');
  assert.ok(mx.lines.some((l) => /^MAIL FROM:<[^>]*> .*RET=HDRS ENVID=a\+2Bb$/.test(l)), mx.lines.join('\n'));
  assert.ok(mx.lines.includes('RCPT TO:<p@f33.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;p+2Bx@f33.test'), mx.lines.join('\n'));
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(reports('passed on'), [], 'the next hop reports success, not us');
});

test('DSN NOTIFY=SUCCESS for local delivery: a "delivered" notice', async () => {
  await sendMany([`${frank.name}@local.test`], 'tell me delivered', [], ['NOTIFY=SUCCESS']);
  const [notice] = await waitFor('the notice', () => (reports('tell me delivered').length > 0 ? reports('tell me delivered') : undefined));
  assert.match(notice!, /^Action: delivered/m);
  assert.match(notice!, /^Status: 2\.0\.0/m);
});

test('an lmtp:// relay host: LHLO, and each recipient\'s own reply after the data', async () => {
  const msgid = await sendMany(['l1@lmtp.test', 'l2@lmtp.test'], 'over lmtp');
  const ok = await mtaSaid('relayed', msgid, 'l1@lmtp.test');
  assert.match(ok, /by LMTP: 250 2\.0\.0 Ok: delivered/);
  const no = await mtaSaid('failed', msgid, 'l2@lmtp.test');
  assert.match(no, /550 5\.1\.1 l2: no such mailbox/);
  const mx = mxs.get('127.0.0.35')!;
  assert.ok(mx.lines.some((l) => l.startsWith('LHLO ')));
  assert.deepEqual(mx.messages.map((m) => m.rcpts), [['l1@lmtp.test']]);
});

test('F15: a server silent at the banner: deferred after --mta-timeout, the mail kept', async () => {
  const msgid = await sendOne(port, 'e@f15.test', 'F15', { from: from() });
  const line = await mtaSaid('deferred', msgid, 'e@f15.test');
  assert.match(line, /no reply within 2 s/);
  assert.match(smtpctl('show', 'queue'), /e@f15\.test/);
});

test('F16: reset in the middle of DATA: deferred, then delivered once', async () => {
  const body = Array.from({ length: 100 }, (_, i) => `line ${i} of a message long enough to pass 1 KiB`).join('\r\n');
  const msgid = await sendOne(port, 'f@f16.test', 'F16', { from: from(), body });
  await mtaSaid('deferred', msgid, 'f@f16.test');
  smtpctl('schedule', msgid);
  await mtaSaid('relayed', msgid, 'f@f16.test');
  assert.equal(mxs.get('127.0.0.16')!.messages.length, 1);
});

test('F17: 421 at the greeting of the first MX: the second one takes the mail', async () => {
  const [first, second] = [mxs.get('127.0.0.17')!, mxs.get('127.0.0.18')!];
  const before = [first.connections, second.messages.length];
  const msgid = await sendOne(port, 'g@f17.test', 'F17', { from: from() });
  const line = await mtaSaid('relayed', msgid, 'g@f17.test');
  assert.match(line, /mx18\.test \[127\.0\.0\.18\]/);
  assert.equal(first.connections, before[0]! + 1);
  assert.equal(second.messages.length, before[1]! + 1);
});

test('F18: malformed replies are temporary failures with printable text (or parsed safely); the queue loads after a restart', async () => {
  const cases: [string, RegExp][] = [
    ['h@f21.test', /protocol error: a reply of more than 100 lines/],
    ['h@f22.test', /protocol error: a reply line longer than 2048 bytes/],
    ['h@f23.test', /protocol error: not an SMTP reply: 2x0 ok/],
    ['h@f24.test', /450 4\.7\.1 bad \[31m text/],
  ];
  for (const [rcpt, why] of cases) {
    const msgid = await sendOne(port, rcpt, `F18 ${rcpt}`, { from: from() });
    const line = await mtaSaid('deferred', msgid, rcpt);
    assert.match(line, why, rcpt);
    assert.ok(![...line].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), `${rcpt}: printable`);
  }
  // bare LF line ends are read as line ends: delivered
  const ok = await sendOne(port, 'h@f25.test', 'F18 bare lf', { from: from() });
  await mtaSaid('relayed', ok, 'h@f25.test');
  await stopDaemon(d);
  d = await startDaemon({ dir: d.dir, conf: fs.readFileSync(d.conf, 'utf8'), args: ['--resolver', dns.address, '--mx-port', String(mxPort), '--mta-timeout', '2s'] });
  await d.waitHealthy();
  const q = smtpctl('show', 'queue');
  for (const [rcpt] of cases) assert.match(q, new RegExp(rcpt.replace('.', '\\.')), `${rcpt} still queued after the restart`);
});

test('F19: DNS SERVFAIL: deferred with 4.4.3', async () => {
  const msgid = await sendOne(port, 'i@f19.test', 'F19', { from: from() });
  const line = await mtaSaid('deferred', msgid, 'i@f19.test');
  assert.match(line, /451 4\.4\.3 f19\.test: MX lookup failed/);
});

test('F22/D08: the MX is this host: bounced with 5.4.6, never a connection to itself', async () => {
  const loopPort = await freePort();
  const loopDns = await startFakeDns({ 'loop.test': { mx: [[10, 'mx.loop.test']] }, 'mx.loop.test': { a: ['127.0.0.1'] } });
  const loop = await startDaemon({
    conf: [`listen on 127.0.0.1 port ${loopPort}`, 'action "local" maildir', 'action "out" relay', 'match from any for domain "local.test" action "local"', 'match from src 127.0.0.1 for any action "out"', ''].join('\n'),
    args: ['--resolver', loopDns.address, '--mx-port', String(loopPort)],
  });
  try {
    await loop.waitHealthy();
    await sendOne(loopPort, 'j@loop.test', 'F22', { from: from() });
    const line = await loop.waitLog(/mta\[\d+\] info failed .*rcpt=j@loop\.test .*/);
    assert.match(line, /554 5\.4\.6 loop\.test: its MX mx\.loop\.test is this host/);
    await waitFor('the report', () => (reports('F22').length > 0 ? true : undefined));
    assert.equal((loop.logs().match(/message-accepted/g) ?? []).length, 1, 'only the message itself: nothing came back in by SMTP');
  } finally {
    await stopDaemon(loop);
    await loopDns.close();
  }
});

/** kill -9 every process of the daemon; resolves when it is gone */
function killAll(run: DaemonRun, pids: Record<string, number>): Promise<unknown> {
  for (const pid of [...Object.values(pids), run.proc.pid!]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return run.exited;
}

async function restart(): Promise<void> {
  d = await startDaemon({ dir: d.dir, conf: fs.readFileSync(d.conf, 'utf8'), args: ['--resolver', dns.address, '--mx-port', String(mxPort), '--mta-timeout', '2s'] });
  await d.waitHealthy();
}

test('F03: kill -9 while the MX holds the whole message unanswered: sent again after the restart, at most two copies, no report', async () => {
  const pids = await d.waitHealthy();
  const mx = mxs.get('127.0.0.31')!;
  const msgid = await sendOne(port, 'k@f31.test', 'F03', { from: from() });
  await waitFor('the message at the MX', () => (mx.messages.length === 1 ? true : undefined));
  await killAll(d, pids);
  await restart();
  await mtaSaid('relayed', msgid, 'k@f31.test');
  assert.ok(mx.messages.length >= 1 && mx.messages.length <= 2, `${mx.messages.length} copies`);
  assert.deepEqual(reports('F03'), []);
  // at the restart the queue hands the mail over at once, maybe before mta's lka channel is
  // up: mta waits for it instead of deferring the mail for a whole backoff step
  assert.doesNotMatch(d.logs(), /lookups are not available/);
  assert.doesNotMatch(smtpctl('show', 'queue'), new RegExp(msgid));
});

test('F04: kill -9 as the MX answers 250: at most two copies, never none', async () => {
  const pids = await d.waitHealthy();
  const mx = mxs.get('127.0.0.32')!;
  let killed: Promise<unknown> | undefined;
  const before = d;
  crash = () => (killed ??= killAll(before, pids));
  const msgid = await sendOne(port, 'l@f32.test', 'F04', { from: from() });
  await waitFor('the kill', () => killed);
  await killed;
  crash = undefined;
  await restart();
  // sent again (the 250 never reached the queue), or already done: either way, not lost
  await waitFor('no envelope left', () => (smtpctl('show', 'queue').includes(msgid) ? undefined : true)).catch((e: Error) => {
    throw new Error(`${e.message}; queue: ${smtpctl('show', 'queue')}; logs before the crash: ${before.logs().slice(-3000)}; after: ${d.logs().slice(-3000)}`);
  });
  assert.ok(mx.messages.length >= 1 && mx.messages.length <= 2, `${mx.messages.length} copies`);
  assert.deepEqual(reports('F04'), []);
  assert.doesNotMatch(d.logs(), /lookups are not available/);
});
