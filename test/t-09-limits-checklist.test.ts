/**
 * Scenario: the resource and syntax cases of the reliability checklist against the real
 * daemon with its default limits (max-message-size 35M, max-rcpt 1000, max-mails 100):
 * X01 (100 recipients, delivered to a real Maildir), X02 (recipient cap), X03 (transactions
 * per session), X08 (a 100 MB line in DATA), X09 (header bombs), P10 (address and parameter
 * syntax), P14 (an oversized message keeps its framing), P16 (CR/LF through ESMTP
 * parameters), R02 (relay tricks). Recipients go to a userbase table whose deliveries wait
 * in the queue (tempfail), so the envelopes can be read from the spool; X01 uses a second
 * daemon delivering to a real user's Maildir. After each case the smtp worker is the same
 * process and serves a new connection.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SMTP } from '../src/parse/defaults';
import { assertRoot, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { RawSmtp, type Reply } from './smtp-raw';
import { TlsRawSmtp } from './smtp-tls-raw';

let d: DaemonRun;
let port = 0;
let smtpPid = 0;
const runs: DaemonRun[] = [];

const USERS = ['alice', 'bob', 'victim'];
const workerArgs = process.getuid?.() === 0 ? { args: ['--user', 'nobody', '--queue-user', 'nobody'] } : {};

before(async () => {
  port = await freePort();
  const conf = [
    'table domains { local.test }',
    `table users { ${USERS.map((u, i) => `${u} = "${1001 + i}:${1001 + i}:/nonexistent"`).join(', ')} }`,
    `listen on 127.0.0.1 port ${port}`,
    'action "local" maildir userbase <users>',
    'match from any for domain <domains> action "local"',
    '',
  ].join('\n');
  d = await startDaemon({ conf, ...workerArgs });
  runs.push(d);
  smtpPid = (await d.waitHealthy()).smtp!;
  await d.waitLog(/smtp-listening/);
});

after(async () => {
  for (const r of runs) await stopDaemon(r);
});

interface Stored {
  msgid: string;
  message: string;
  /** each envelope file as it is on disk */
  raw: string[];
  envelopes: Record<string, unknown>[];
}

function spoolMessages(run: DaemonRun = d): Stored[] {
  const q = path.join(run.spool, 'queue');
  if (!fs.existsSync(q)) return [];
  const out: Stored[] = [];
  for (const bucket of fs.readdirSync(q)) {
    for (const msgid of fs.readdirSync(path.join(q, bucket))) {
      const dir = path.join(q, bucket, msgid);
      const raw = fs.readdirSync(dir).filter((f) => /^[0-9a-f]{16}$/.test(f)).flatMap((f) => {
        try {
          return [fs.readFileSync(path.join(dir, f), 'utf8')];
        } catch {
          return []; // replaced by a retry update right now
        }
      });
      out.push({ msgid, message: fs.readFileSync(path.join(dir, 'message'), 'latin1'), raw, envelopes: raw.map((r) => JSON.parse(r) as Record<string, unknown>) });
    }
  }
  return out;
}

function stored(msgid: string): Stored {
  const m = spoolMessages().find((s) => s.msgid === msgid);
  assert.ok(m, `message ${msgid} is in the spool`);
  return m;
}

function msgidOf(r: Reply): string {
  const m = /^2\.0\.0 ([0-9a-f]{8}) /.exec(r.text);
  assert.ok(r.code === 250 && m, JSON.stringify(r));
  return m[1]!;
}

async function session(p = port): Promise<RawSmtp> {
  const c = await RawSmtp.connect(p);
  assert.equal((await c.reply()).code, 220);
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  return c;
}

/** resident and peak memory of a process, in KiB */
function memory(pid: number): { rss: number; hwm: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/^VmRSS:\s+(\d+)/m.exec(s)![1]), hwm: Number(/^VmHWM:\s+(\d+)/m.exec(s)![1]) };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
    const p = path.join(dir, e.name);
    try {
      n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
    } catch {
      // removed meanwhile
    }
  }
  return n;
}

/** the smtp worker is the process it was at the start, and a new session works to the end */
async function assertServing(): Promise<void> {
  assert.equal((await d.waitHealthy()).smtp, smtpPid, 'the smtp worker was not restarted');
  assert.ok(!/worker smtp died/.test(d.logs()), d.logs());
  const c = await session();
  assert.equal((await c.cmd('MAIL FROM:<after@remote.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<bob@local.test>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.send('Subject: still serving\r\n\r\nok\r\n.\r\n');
  msgidOf(await c.reply());
  assert.equal((await c.cmd('QUIT')).code, 221);
  c.close();
}

test('X01 100 local recipients: every RCPT 250, DATA 250, 100 copies delivered', async () => {
  assertRoot();
  const user = ensureUserWithHome('tsmtpd-x01');
  const maildir = path.join(user.home, 'Maildir');
  fs.rmSync(maildir, { recursive: true, force: true });
  const p = await freePort();
  const real = await startDaemon({
    conf: ['table domains { local.test }', `listen on 127.0.0.1 port ${p}`, 'action "local" maildir', 'match from any for domain <domains> action "local"', ''].join('\n'),
    ...workerArgs,
  });
  runs.push(real);
  await real.waitHealthy();
  await real.waitLog(/smtp-listening/);
  // 100 distinct recipient addresses of the user (sub-addresses): 100 envelopes, 100 deliveries
  const rcpts = Array.from({ length: 100 }, (_, i) => `${user.name}+r${i}@local.test`);
  const body = 'From: s@remote.test\r\nSubject: x01\r\n\r\none hundred\r\n';
  const py = [
    'import smtplib',
    `s = smtplib.SMTP("127.0.0.1", ${p}, local_hostname="client.test")`,
    's.ehlo()',
    'print("mail", s.mail("sender@remote.test")[0])',
    `print("rcpt", *[s.rcpt(r)[0] for r in ${JSON.stringify(rcpts)}])`,
    `code, msg = s.data(${JSON.stringify(body)}.encode())`,
    'print("data", code, msg.decode())',
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^mail 250$/m);
  assert.equal(/^rcpt (.*)$/m.exec(r.stdout)![1], Array(100).fill('250').join(' '));
  assert.match(r.stdout, /^data 250 2\.0\.0 [0-9a-f]{8} Message accepted for delivery$/m);
  const end = Date.now() + 30_000;
  let files: string[] = [];
  while (Date.now() < end) {
    files = fs.existsSync(path.join(maildir, 'new')) ? fs.readdirSync(path.join(maildir, 'new')) : [];
    if (files.length >= 100) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(files.length, 100, 'one copy per recipient');
  for (const f of files) assert.ok(fs.readFileSync(path.join(maildir, 'new', f), 'latin1').endsWith(body));
  // the files are in new/ a moment before each delivery is reported
  const reported = () => new Set([...real.logs().matchAll(/mda\[\d+\] info delivered evpid=[0-9a-f]{16} rcpt=(\S+)/g)].map((m) => m[1]));
  for (let i = 0; i < 100 && reported().size < rcpts.length; i++) await new Promise((res) => setTimeout(res, 100));
  assert.deepEqual([...reported()].sort(), [...rcpts].sort());
  await stopDaemon(real);
});

test('X02 recipient cap: 452 4.5.3 past the limit, DATA 250 for those accepted', async () => {
  const c = await session();
  assert.equal((await c.cmd('MAIL FROM:<a@remote.test>')).code, 250);
  const before = memory(smtpPid);
  const total = 5000;
  for (let i = 0; i < total; i += 500) {
    c.send(Array.from({ length: 500 }, (_, j) => `RCPT TO:<alice+${i + j}@local.test>\r\n`).join(''));
  }
  const replies: Reply[] = [];
  for (let i = 0; i < total; i++) replies.push(await c.reply(10_000));
  const limit = DEFAULT_SMTP.maxRcpt;
  assert.ok(replies.slice(0, limit).every((r) => r.code === 250), 'the first max-rcpt are accepted');
  const over = replies.slice(limit);
  assert.ok(over.every((r) => r.code === 452 && r.text === '4.5.3 Too many recipients'), JSON.stringify(over.find((r) => r.code !== 452)));
  assert.equal((await c.cmd('DATA')).code, 354);
  c.send('Subject: x02\r\n\r\nmany\r\n.\r\n');
  const s = stored(msgidOf(await c.reply(30_000)));
  assert.equal(new Set(s.envelopes.map((e) => e.dest)).size, limit, 'one envelope per accepted recipient');
  const grown = memory(smtpPid).rss - before.rss;
  assert.ok(grown < 32 * 1024, `smtp worker RSS grew by ${grown} KiB`);
  c.close();
  await assertServing();
});

test('X03 200 transactions on one connection: 250 up to max-mails, then 452 4.5.3', async () => {
  const c = await session();
  const codes: string[] = [];
  let warm = { rss: 0, hwm: 0 };
  for (let i = 0; i < 200; i++) {
    const m = await c.cmd('MAIL FROM:<a@remote.test>');
    if (m.code !== 250) {
      codes.push(`${m.code} ${m.text}`);
      if (m.code === 421 || m.code === 0) break;
      continue;
    }
    assert.equal((await c.cmd('RCPT TO:<bob@local.test>')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    c.send(`Subject: x03 ${i}\r\n\r\nbody ${i}\r\n.\r\n`);
    const r = await c.reply(10_000);
    codes.push(String(r.code));
    if (i === 20) warm = memory(smtpPid);
  }
  const cap = DEFAULT_SMTP.maxMails;
  assert.deepEqual(codes.slice(0, cap), Array(cap).fill('250'));
  assert.ok(codes.slice(cap).every((x) => x === '452 4.5.3 Too many messages sent'), codes.slice(cap).join(','));
  assert.equal(codes.length, 200, 'the session stays open past the cap');
  const grown = memory(smtpPid).rss - warm.rss;
  assert.ok(grown < 20 * 1024, `smtp worker RSS flat after the warm-up: grew by ${grown} KiB`);
  assert.equal(spoolMessages().filter((s) => /^Subject: x03 \d+\r$/m.test(s.message)).length, cap);
  c.close();
  await assertServing();
});

test('X08 100 MB without LF inside DATA: 552 at the end, memory and spool bounded, the worker serves on', async () => {
  const c = await TlsRawSmtp.connect(port); // its socket is at hand, for the writes' backpressure
  assert.equal((await c.reply()).code, 220);
  await c.cmd('EHLO client.test');
  await c.cmd('MAIL FROM:<a@remote.test>');
  await c.cmd('RCPT TO:<alice@local.test>');
  assert.equal((await c.cmd('DATA')).code, 354);
  const before = memory(smtpPid);
  const incoming = path.join(d.spool, 'incoming');
  const chunk = Buffer.alloc(1 << 20, 'a');
  const sock = c.socket;
  let peakIncoming = 0;
  for (let i = 0; i < 100 && !c.closed; i++) {
    if (!sock.write(chunk)) await new Promise<void>((r) => sock.once('drain', () => r()));
    if (i % 5 === 0) peakIncoming = Math.max(peakIncoming, dirBytes(incoming));
  }
  c.send('\r\n.\r\n');
  const r = await c.reply(60_000);
  assert.ok(r.code === 552 || r.code === 554 || (r.code === 0 && r.text === 'closed'), JSON.stringify(r));
  const after = memory(smtpPid);
  assert.ok(after.hwm - before.hwm < 64 * 1024, `smtp worker peak RSS grew by ${after.hwm - before.hwm} KiB for 100 MB`);
  const limit = DEFAULT_SMTP.maxMessageSize;
  assert.ok(peakIncoming < limit + 4 * 1024 * 1024, `the spool held ${peakIncoming} bytes of a message over the ${limit} byte limit`);
  if (r.code !== 0) assert.equal((await c.cmd('NOOP')).code, 250, 'the session goes on');
  c.close();
  await new Promise((res) => setTimeout(res, 300));
  assert.deepEqual(fs.readdirSync(incoming), [], 'the refused message is gone from incoming/');
  await assertServing();
});

test('X09 (a) 100k header lines: accepted within the size limit, stored whole, in bounded time', async () => {
  const c = await session();
  await c.cmd('MAIL FROM:<a@remote.test>');
  await c.cmd('RCPT TO:<alice@local.test>');
  assert.equal((await c.cmd('DATA')).code, 354);
  const t0 = Date.now();
  c.send(`Subject: x09a\r\n${'X-A: b\r\n'.repeat(100_000)}\r\nbody\r\n.\r\n`);
  const r = await c.reply(20_000);
  assert.ok(Date.now() - t0 < 10_000, `answered in ${Date.now() - t0} ms`);
  if (r.code !== 552 && r.code !== 554) {
    const s = stored(msgidOf(r));
    assert.equal(s.message.match(/^X-A: b\r$/gm)?.length, 100_000);
    assert.ok(s.message.endsWith('\r\n\r\nbody\r\n'));
  }
  c.close();
  await assertServing();
});

test('X09 (b) one header folded into 10 MB: accepted within the size limit, memory bounded', async () => {
  const c = await session();
  await c.cmd('MAIL FROM:<a@remote.test>');
  await c.cmd('RCPT TO:<alice@local.test>');
  assert.equal((await c.cmd('DATA')).code, 354);
  const before = memory(smtpPid);
  const folds = Math.ceil((10 * 1024 * 1024) / 80);
  const t0 = Date.now();
  c.send(`Subject: x09b\r\n${`${' x'.repeat(39)}\r\n`.repeat(folds)}\r\nbody\r\n.\r\n`);
  const r = await c.reply(30_000);
  assert.ok(Date.now() - t0 < 20_000, `answered in ${Date.now() - t0} ms`);
  if (r.code !== 552 && r.code !== 554) {
    const s = stored(msgidOf(r));
    assert.ok(s.message.length > 10 * 1024 * 1024);
    assert.ok(s.message.endsWith('\r\n\r\nbody\r\n'));
  }
  const grown = memory(smtpPid).hwm - before.hwm;
  assert.ok(grown < 64 * 1024, `smtp worker peak RSS grew by ${grown} KiB`);
  c.close();
  await assertServing();
});

/** [command, 'ok' (a valid command: 250) or 'refused' (5xx)] */
const MAIL_MATRIX: [string, 'ok' | 'refused'][] = [
  ['MAIL FROM:a@remote.test', 'refused'],
  ['MAIL FROM:<a@remote.test', 'refused'],
  ['MAIL FROM:<<a@remote.test>>', 'refused'],
  ['MAIL FROM:<a b@remote.test>', 'refused'],
  ['MAIL FROM:<a@remote.test>x', 'refused'],
  ['MAIL FROM:<a@>', 'refused'],
  ['MAIL FROM:<@remote.test>', 'refused'],
  ['MAIL FROM:<a@@remote.test>', 'refused'],
  ['MAIL FROM:<a@remote..test>', 'refused'],
  ['MAIL FROM:<a@-remote.test>', 'refused'],
  ['MAIL FROM:<a@remote.test->', 'refused'],
  ['MAIL FROM:<.a@remote.test>', 'refused'],
  ['MAIL FROM:<a.@remote.test>', 'refused'],
  ['MAIL FROM:<a..b@remote.test>', 'refused'],
  ['MAIL FROM:<"unterminated@remote.test>', 'refused'],
  ['MAIL FROM:<a"b@remote.test>', 'refused'],
  ['MAIL FROM:<a\\@remote.test>', 'refused'],
  ['MAIL FROM:<a(comment)@remote.test>', 'refused'],
  ['MAIL FROM:<a,b@remote.test>', 'refused'],
  ['MAIL FROM:<a@[1.2.3]>', 'refused'],
  ['MAIL FROM:<a@[999.1.1.1]>', 'refused'],
  ['MAIL FROM:<a@[IPv6:zz]>', 'refused'],
  ['MAIL FROM:<a@remote.test> SIZE=abc', 'refused'],
  ['MAIL FROM:<a@remote.test> SIZE=-1', 'refused'],
  ['MAIL FROM:<a@remote.test> SIZE=', 'refused'],
  ['MAIL FROM:<a@remote.test> SIZE=99999999999999999999', 'refused'],
  ['MAIL FROM:<a@remote.test> BODY=9BIT', 'refused'],
  ['MAIL FROM:<a@remote.test> BODY=', 'refused'],
  ['MAIL FROM:<a@remote.test> RET=XYZ', 'refused'],
  ['MAIL FROM:<a@remote.test> RET=FULL RET=HDRS', 'refused'],
  ['MAIL FROM:<a@remote.test> SMTPUTF8=yes', 'refused'],
  ['MAIL FROM:<a@remote.test> ENVID=a+00b', 'refused'],
  ['MAIL FROM:<a@remote.test>', 'ok'],
  ['MAIL FROM:<>', 'ok'],
  ['MAIL FROM:<a+tag@remote.test>', 'ok'],
  ['MAIL FROM:<"quoted"@remote.test>', 'ok'],
  ['MAIL FROM:<o\'brien@remote.test>', 'ok'],
  ['MAIL FROM:<a@[127.0.0.1]>', 'ok'],
  ['MAIL FROM:<a@[IPv6:::1]>', 'ok'],
  ['MAIL FROM:<@relay.test:a@remote.test>', 'ok'],
  ['MAIL FROM:<a@remote.test> SIZE=1000 BODY=8BITMIME', 'ok'],
  ['MAIL FROM:<a@remote.test> RET=HDRS ENVID=QQ+2Bx', 'ok'],
];

const RCPT_MATRIX: [string, 'ok' | 'refused'][] = [
  ['RCPT TO:alice@local.test', 'refused'],
  ['RCPT TO:<alice@local.test', 'refused'],
  ['RCPT TO:<>', 'refused'],
  ['RCPT TO:<alice>', 'refused'],
  ['RCPT TO:<alice@>', 'refused'],
  ['RCPT TO:<@local.test>', 'refused'],
  ['RCPT TO:<alice@@local.test>', 'refused'],
  ['RCPT TO:<alice@local..test>', 'refused'],
  ['RCPT TO:<alice @local.test>', 'refused'],
  ['RCPT TO:<alice@-local.test>', 'refused'],
  ['RCPT TO:<"alice@local.test>', 'refused'],
  ['RCPT TO:<ali\\ce@local.test>', 'refused'],
  ['RCPT TO:<nosuch@local.test>', 'refused'],
  ['RCPT TO:<alice@remote.test>', 'refused'],
  ['RCPT TO:<alice@local.test> NOTIFY=NEVER,SUCCESS', 'refused'],
  ['RCPT TO:<alice@local.test> NOTIFY=BOGUS', 'refused'],
  ['RCPT TO:<alice@local.test> NOTIFY=', 'refused'],
  ['RCPT TO:<alice@local.test> ORCPT=bogus', 'refused'],
  ['RCPT TO:<alice@local.test> ORCPT=rfc822;a+00b', 'refused'],
  ['RCPT TO:<alice@local.test>', 'ok'],
  ['RCPT TO:<ALICE@LOCAL.TEST>', 'ok'],
  ['RCPT TO:<alice+tag@local.test>', 'ok'],
  ['RCPT TO:<@relay.test:bob@local.test>', 'ok'],
  ['RCPT TO:<bob@local.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@local.test', 'ok'],
];

test('P10 address and parameter syntax matrix: 5xx for each malformed one, 250 only for valid ones, then a normal message', async () => {
  const c = await session();
  const wrong: string[] = [];
  for (const [line, want] of MAIL_MATRIX) {
    const r = await c.cmd(line);
    const ok = want === 'ok' ? r.code === 250 : r.code >= 500 && r.code < 600;
    if (!ok) wrong.push(`${line} -> ${r.code} ${r.text}`);
    if (r.code === 250) await c.cmd('RSET');
    if (r.code === 0 || r.code === 421) break;
  }
  assert.equal((await c.cmd('MAIL FROM:<a@remote.test>')).code, 250);
  for (const [line, want] of RCPT_MATRIX) {
    const r = await c.cmd(line);
    const ok = want === 'ok' ? r.code === 250 : r.code >= 500 && r.code < 600;
    if (!ok) wrong.push(`${line} -> ${r.code} ${r.text}`);
    if (r.code === 0 || r.code === 421) break;
  }
  assert.deepEqual(wrong, []);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.send('Subject: p10\r\n\r\nafter the matrix\r\n.\r\n');
  const s = stored(msgidOf(await c.reply()));
  // ALICE@LOCAL.TEST is the recipient alice@local.test spelled again: one envelope, one copy
  assert.deepEqual(s.envelopes.map((e) => e.dest).sort(), ['alice+tag@local.test', 'alice@local.test', 'bob@local.test']);
  c.close();
  await assertServing();
});

test('P14 size overflow keeps framing: exactly one reply, after the final dot, no 214 for the HELPs', async () => {
  const c = await session();
  await c.cmd('MAIL FROM:<a@remote.test>');
  await c.cmd('RCPT TO:<alice@local.test>');
  assert.equal((await c.cmd('DATA')).code, 354);
  const line = `${'a'.repeat(98)}\r\n`;
  c.send(line.repeat(Math.ceil((DEFAULT_SMTP.maxMessageSize + 100) / line.length)));
  c.send('.\n');
  c.send('HELP\r\nHELP\r\n');
  assert.equal((await c.reply(1500)).text, 'timeout', 'no reply before the final dot');
  c.send('.\r\n');
  const r = await c.reply(30_000);
  assert.ok((r.code === 552 && r.text.startsWith('5.3.4 ')) || r.code === 521 || r.code === 550, JSON.stringify(r));
  assert.equal((await c.reply(700)).code, 0, 'exactly one reply');
  if (!c.closed) assert.equal((await c.cmd('NOOP')).code, 250, 'the session goes on');
  c.close();
  await assertServing();
});

test('P16 CR/LF through ENVID, ORCPT and AUTH (xtext +0D+0A) is refused; nothing injected in the queue', async () => {
  const c = await session();
  const inject = 'x+0D+0AX-Injected:+20yes';
  const envid = await c.cmd(`MAIL FROM:<a@remote.test> RET=HDRS ENVID=${inject}`);
  assert.ok(envid.code >= 500 && envid.code < 600, JSON.stringify(envid));
  const auth = await c.cmd(`MAIL FROM:<a@remote.test> AUTH=${inject}`);
  assert.ok(auth.code >= 500 && auth.code < 600, JSON.stringify(auth));
  assert.equal((await c.cmd('MAIL FROM:<a@remote.test> ENVID=p16+2Benvid')).code, 250);
  const orcpt = await c.cmd(`RCPT TO:<alice@local.test> NOTIFY=FAILURE ORCPT=rfc822;alice@local.test+0D+0AX-Injected:+20yes`);
  assert.ok(orcpt.code >= 500 && orcpt.code < 600, JSON.stringify(orcpt));
  assert.equal((await c.cmd('RCPT TO:<alice@local.test> ORCPT=rfc822;alice+2Bp16@local.test')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.send('Subject: p16\r\n\r\nbody\r\n.\r\n');
  const s = stored(msgidOf(await c.reply()));
  assert.match(s.message, /\r\n\r\nbody\r\n$/);
  for (const m of spoolMessages()) {
    assert.ok(!/X-Injected/i.test(m.message), `no injected header in ${m.msgid}`);
    for (const e of m.raw) {
      assert.ok(!/X-Injected/i.test(e), `no injected text in an envelope of ${m.msgid}`);
      assert.equal(e.indexOf('\n'), e.length - 1, 'an envelope is one JSON line');
      assert.ok(!/\r/.test(e));
    }
  }
  c.close();
  await assertServing();
});

const RELAY_TRICKS = [
  'victim%remote.test@local.test',
  '"victim%remote.test"@local.test',
  '"victim@remote.test"@local.test',
  'victim@remote.test@local.test',
  '@local.test:victim@remote.test',
  '@local.test,@relay.test:victim@remote.test',
  'remote.test!victim@local.test',
  'remote.test!victim',
  'victim%remote.test',
  'victim@[1.2.3.4]',
  'victim@[127.0.0.1]',
  'victim@[IPv6:::1]',
  'victim@remote.test.',
  'victim@local.test.',
  'victim@remote.test%local.test',
  'victim\\@remote.test@local.test',
  '"victim"@local.test',
  'victim@LOCAL.TEST',
  'victim@local.test',
];

test('R02 relay tricks never relay: each RCPT is 5xx, or 250 for a local user delivered locally', async () => {
  const outcome: string[] = [];
  for (const rcpt of RELAY_TRICKS) {
    const c = await session();
    assert.equal((await c.cmd('MAIL FROM:<x@remote.test>')).code, 250);
    const r = await c.cmd(`RCPT TO:<${rcpt}>`);
    outcome.push(`${rcpt} ${r.code}`);
    assert.ok(r.code === 250 || (r.code >= 500 && r.code < 600), `${rcpt}: ${JSON.stringify(r)}`);
    if (r.code === 250) {
      assert.equal((await c.cmd('DATA')).code, 354);
      c.send('Subject: r02\r\n\r\nx\r\n.\r\n');
      const s = stored(msgidOf(await c.reply()));
      for (const e of s.envelopes) {
        assert.equal(e.action, 'local', `${rcpt}: delivered by the local action`);
        const m = /^([^@]+)@(.+)$/.exec(String(e.dest));
        assert.ok(m && m[2]!.toLowerCase() === 'local.test' && USERS.includes(m[1]!.toLowerCase()), `${rcpt}: a local user, got ${String(e.dest)}`);
      }
    }
    c.close();
  }
  // no envelope in the whole spool leaves this host
  for (const m of spoolMessages()) {
    for (const e of m.envelopes) assert.equal(e.action, 'local', `${m.msgid}: ${JSON.stringify(e)}`);
  }
  // the plain forms are the control: a local user is accepted
  assert.ok(outcome.includes('victim@local.test 250'), outcome.join('\n'));
  await assertServing();
});

test('P10 ESMTP parameters: unknown ones 555 5.5.4, malformed ones and broken xtext 501 5.5.4', async () => {
  const c = await session();
  const mail: [string, number][] = [
    ['MAIL FROM:<a@remote.test> FOO=BAR', 555],
    ['MAIL FROM:<a@remote.test> X-UNKNOWN', 555],
    ['MAIL FROM:<a@remote.test> AUTH=<>', 555], // AUTH is not offered on this listener
    ['MAIL FROM:<a@remote.test> REQUIRETLS', 555], // not offered
    ['MAIL FROM:<a@remote.test> =x', 501],
    ['MAIL FROM:<a@remote.test> ENVID=a+ZZb', 501],
    ['MAIL FROM:<a@remote.test> ENVID=a+0db', 501], // xtext hex is upper case
    ['MAIL FROM:<a@remote.test> ENVID=a=b', 501],
  ];
  const wrong: string[] = [];
  for (const [line, code] of mail) {
    const r = await c.cmd(line);
    if (r.code !== code || !r.text.startsWith('5.5.4 ')) wrong.push(`${line} -> ${r.code} ${r.text}`);
    if (r.code === 250) await c.cmd('RSET');
  }
  assert.equal((await c.cmd('MAIL FROM:<a@remote.test> ENVID=ok+2Bfine RET=FULL')).code, 250);
  const rcpt: [string, number][] = [
    ['RCPT TO:<alice@local.test> FOO=BAR', 555],
    ['RCPT TO:<alice@local.test> ORCPT=rfc822;a+ZZ', 501],
  ];
  for (const [line, code] of rcpt) {
    const r = await c.cmd(line);
    if (r.code !== code || !r.text.startsWith('5.5.4 ')) wrong.push(`${line} -> ${r.code} ${r.text}`);
  }
  assert.deepEqual(wrong, []);
  assert.equal((await c.cmd('RCPT TO:<alice@local.test> ORCPT=rfc822;alice@local.test')).code, 250);
  c.close();
  await assertServing();
});

test('P10 an IDN domain sent as A-labels is a 7-bit address: accepted without SMTPUTF8 and stored as sent', async () => {
  const c = await session();
  const r = await c.cmd('MAIL FROM:<a@xn--bcher-kva.test>');
  assert.equal(r.code, 250, JSON.stringify(r));
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.send('Subject: idn\r\n\r\nx\r\n.\r\n');
  const s = stored(msgidOf(await c.reply()));
  assert.deepEqual(s.envelopes.map((e) => e.sender), ['a@xn--bcher-kva.test']);
  // raw UTF-8 still needs SMTPUTF8
  assert.equal((await c.cmd('MAIL FROM:<a@b\xc3\xbccher.test>')).code, 553);
  c.close();
});

test('X11 a session that ends in the middle of DATA leaves nothing in the spool\'s incoming/', async () => {
  const incoming = path.join(d.spool, 'incoming');
  const c = await session();
  await c.cmd('MAIL FROM:<a@remote.test>');
  await c.cmd('RCPT TO:<alice@local.test>');
  assert.equal((await c.cmd('DATA')).code, 354);
  // more than the queue keeps in memory (256 KiB), so a partial file is on disk
  c.send(`Subject: unfinished\r\n\r\n${`${'x'.repeat(998)}\r\n`.repeat(400)}half a mess`);
  const end0 = Date.now() + 2000;
  while (fs.readdirSync(incoming).length === 0 && Date.now() < end0) await new Promise((r) => setTimeout(r, 50));
  assert.equal(fs.readdirSync(incoming).length, 1, 'the message was being received');
  c.close();
  const end = Date.now() + 2000;
  while (fs.readdirSync(incoming).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(fs.readdirSync(incoming), [], 'removed once the client is gone');
  assert.ok(!spoolMessages().some((m) => m.message.includes('Subject: unfinished')), 'and never queued');
  await assertServing();
});
