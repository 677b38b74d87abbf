/**
 * Scenario: mail in. Real clients (Python's smtplib, and a byte-exact client for protocol edge
 * cases) talk to the real daemon; the rules decide each recipient; an accepted message is in
 * the spool, byte for byte behind its Received header, before the 250. Covers from the
 * reliability checklist: P03, P12, P13 (every sequence), R01, R11 (unknown user), the size
 * limit, alias expansion and error: aliases, and the purge of uncommitted data at start.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, stopDaemon, type DaemonRun, freePort, WORKERS_AS_NOBODY } from './daemon-harness';
import { RawSmtp } from './smtp-raw';

let d: DaemonRun;
let port = 0;


function conf(p: number): string {
  return [
    'table domains { local.test }',
    'table users { alice = "1001:1001:/home/alice", bob = "1002:1002:/home/bob" }',
    'table aliases { postmaster = alice, staff = "alice, bob", abuse = "error:550 5.7.1 no abuse here" }',
    'smtp max-message-size 10K',
    `listen on 127.0.0.1 port ${p}`,
    'action "local" maildir alias <aliases> userbase <users>',
    'match from any for domain <domains> action "local"',
    '',
  ].join('\n');
}

interface Stored {
  msgid: string;
  message: string;
  envelopes: Record<string, unknown>[];
}

function spoolMessages(): Stored[] {
  const q = path.join(d.spool, 'queue');
  if (!fs.existsSync(q)) return [];
  const out: Stored[] = [];
  for (const bucket of fs.readdirSync(q)) {
    for (const msgid of fs.readdirSync(path.join(q, bucket))) {
      const dir = path.join(q, bucket, msgid);
      const files = fs.readdirSync(dir);
      out.push({
        msgid,
        message: fs.readFileSync(path.join(dir, 'message'), 'latin1'),
        // envelopes only (not the .tmp of an update in progress: the daemon is live)
        envelopes: files.filter((f) => /^[0-9a-f]{16}$/.test(f)).flatMap((f) => {
          try {
            return [JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
      });
    }
  }
  return out;
}

function stored(msgid: string): Stored {
  const m = spoolMessages().find((s) => s.msgid === msgid);
  assert.ok(m, `message ${msgid} is in the spool`);
  return m;
}

async function session(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  assert.equal((await c.reply()).code, 220);
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  return c;
}

before(async () => {
  port = await freePort();
  d = await startDaemon({ conf: conf(port), ...WORKERS_AS_NOBODY });
  await d.waitHealthy();
  await d.waitLog(/smtp-listening/);
});

after(async () => {
  await stopDaemon(d);
});

test('a real client (Python smtplib): 250 with the msgid, the message in the spool byte for byte behind a Received header', () => {
  const body = 'From: Sender <sender@remote.test>\r\nTo: alice@local.test\r\nSubject: hello\r\n\r\nline one\r\n.line with a leading dot\r\nlast line\r\n';
  const py = [
    'import smtplib, sys',
    `s = smtplib.SMTP("127.0.0.1", ${port}, local_hostname="client.test")`,
    'code, msg = s.ehlo()',
    's.mail("sender@remote.test")',
    'print(s.rcpt("alice@local.test"))',
    `code, msg = s.data(${JSON.stringify(body)}.encode())`,
    'print(code, msg.decode())',
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const m = /^250 2\.0\.0 ([0-9a-f]{8}) Message accepted for delivery$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  const s = stored(m[1]!);
  const received = /^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby \S+ \(tsmtpd\) with ESMTP id [0-9a-f]{8}\r\n\tfor <alice@local\.test>;\r\n\t\w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n/.exec(s.message);
  assert.ok(received, s.message);
  assert.equal(s.message.slice(received[0].length), body);
  assert.equal(s.envelopes.length, 1);
  assert.deepEqual(
    { action: s.envelopes[0]!.action, sender: s.envelopes[0]!.sender, rcpt: s.envelopes[0]!.rcpt, dest: s.envelopes[0]!.dest, helo: s.envelopes[0]!.helo },
    { action: 'local', sender: 'sender@remote.test', rcpt: 'alice@local.test', dest: 'alice@local.test', helo: 'client.test' },
  );
  const mode = fs.statSync(path.join(d.spool, 'queue', m[1]!.slice(0, 2), m[1]!, 'message')).mode & 0o777;
  assert.equal(mode, 0o600);
});

test('R01: relaying for a stranger is refused; R11: an unknown local user is refused', async () => {
  const c = await session();
  assert.equal((await c.cmd('MAIL FROM:<x@remote.test>')).code, 250);
  assert.deepEqual(await c.cmd('RCPT TO:<victim@remote.test>'), { code: 550, text: '5.7.1 Relaying denied' });
  assert.deepEqual(await c.cmd('RCPT TO:<nosuch@local.test>'), { code: 550, text: '5.1.1 Invalid recipient' });
  assert.deepEqual(await c.cmd('DATA'), { code: 503, text: '5.5.1 Error: need RCPT command' });
  c.close();
});

test('aliases: a list gives one envelope per user, error: answers its own reply', async () => {
  const c = await session();
  await c.cmd('MAIL FROM:<x@remote.test>');
  assert.deepEqual(await c.cmd('RCPT TO:<abuse@local.test>'), { code: 550, text: '5.7.1 no abuse here' });
  assert.equal((await c.cmd('RCPT TO:<staff@local.test>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.send('Subject: team\r\n\r\nhi\r\n.\r\n');
  const r = await c.reply();
  assert.equal(r.code, 250);
  const s = stored(/([0-9a-f]{8})/.exec(r.text)![1]!);
  assert.deepEqual(s.envelopes.map((e) => e.dest).sort(), ['alice@local.test', 'bob@local.test']);
  assert.ok(s.envelopes.every((e) => e.rcpt === 'staff@local.test'));
  c.close();
});

test('P03: commands out of sequence get 503', async () => {
  const c = await session();
  assert.equal((await c.cmd('DATA')).code, 503);
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 503);
  assert.equal((await c.cmd('MAIL FROM:<a@remote.test>')).code, 250);
  const nested = await c.cmd('MAIL FROM:<a@remote.test>');
  assert.equal(nested.code, 503);
  assert.match(nested.text, /^5\.5\.1 /);
  c.close();
});

test('P12: dot-stuffing is undone exactly', async () => {
  const c = await session();
  await c.cmd('MAIL FROM:<a@remote.test>');
  await c.cmd('RCPT TO:<alice@local.test>');
  await c.cmd('DATA');
  c.send('.From: x\r\nSubject: s\r\n\r\n.Mu\r\n\r\n..x\r\n\r\n..\r\n\r\n.This\r\n.\r\n');
  const r = await c.reply();
  assert.equal(r.code, 250);
  const s = stored(/([0-9a-f]{8})/.exec(r.text)![1]!);
  const body = s.message.slice(s.message.indexOf('\r\n\r\n') + 4);
  assert.equal(body, 'Mu\r\n\r\n.x\r\n\r\n.\r\n\r\nThis\r\n');
  assert.ok(s.message.includes('\r\nFrom: x\r\nSubject: s\r\n'));
  c.close();
});

const SMUGGLING = ['\n.\n', '\n.\r\n', '\r.\r\n', '\r\n.\n', '\r\n.\r', '\r.\r', '\n.\r', '\r.\n', '\r\n\x00.\r\n'];

for (const seq of SMUGGLING) {
  test(`P13 smuggling ${JSON.stringify(seq)}: never a second message, bob gets nothing`, async () => {
    const before = new Set(spoolMessages().map((m) => m.msgid));
    const c = await session();
    await c.cmd('MAIL FROM:<a@remote.test>');
    await c.cmd('RCPT TO:<alice@local.test>');
    assert.equal((await c.cmd('DATA')).code, 354);
    c.send(`Subject: one\r\n\r\nbody${seq}MAIL FROM:<spoof@remote.test>\r\nRCPT TO:<bob@local.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n`);
    const replies = [await c.reply(3000)];
    while (replies[replies.length - 1]!.code !== 0 && replies.length < 6) replies.push(await c.reply(700));
    const final = replies.filter((r) => r.code !== 0);
    assert.ok(final.length >= 1, 'an answer at the final dot');
    assert.ok(final.filter((r) => r.code === 250).length <= 1, `never a second 250: ${JSON.stringify(final)}`);
    const added = spoolMessages().filter((m) => !before.has(m.msgid));
    assert.ok(added.length <= 1, 'at most one message');
    assert.ok(!added.some((m) => m.envelopes.some((e) => String(e.dest).startsWith('bob@'))), 'bob receives nothing');
    if (/[\r\n]/.test(seq.replace(/\r\n/g, ''))) {
      // a bare CR or LF: refused outright (strict), nothing stored
      assert.ok(final[0]!.code >= 500, `refused, got ${JSON.stringify(final)}`);
      assert.equal(added.length, 0);
    } else {
      // only CRLF around a NUL: one message at the real end, holding the rest as text
      assert.equal(final[0]!.code, 250);
      assert.ok(added[0]!.message.includes('MAIL FROM:<spoof@remote.test>\r\n'));
    }
    c.close();
  });
}

test('a message over the size limit: 552 5.3.4 at the final dot, nothing stored, the session goes on', async () => {
  const before = spoolMessages().length;
  const c = await session();
  await c.cmd('MAIL FROM:<a@remote.test>');
  await c.cmd('RCPT TO:<alice@local.test>');
  await c.cmd('DATA');
  c.send(`Subject: big\r\n\r\n${'a'.repeat(78).concat('\r\n').repeat(200)}.\r\n`);
  const r = await c.reply();
  assert.equal(r.code, 552);
  assert.match(r.text, /^5\.3\.4 /);
  assert.equal(spoolMessages().length, before);
  assert.equal((await c.cmd('NOOP')).code, 250);
  c.close();
});

test('uncommitted data left in incoming/ is purged when the queue starts', async () => {
  const stale = path.join(d.spool, 'incoming', 'deadbeef');
  fs.mkdirSync(stale, { recursive: true });
  fs.writeFileSync(path.join(stale, 'message'), 'half a message');
  const owner = fs.statSync(path.join(d.spool, 'incoming'));
  fs.chownSync(stale, owner.uid, owner.gid);
  fs.chownSync(path.join(stale, 'message'), owner.uid, owner.gid);
  const pids = await d.waitHealthy();
  process.kill(pids.queue!, 'SIGKILL');
  await d.waitHealthy(10_000, { queue: pids.queue! });
  await d.waitLog(/incoming-purged count=1/);
  assert.ok(!fs.existsSync(stale));
});

test('P01: the banner names the server and tsmtpd; QUIT gets 221 and the connection closes', async () => {
  const c = await RawSmtp.connect(port);
  const banner = await c.reply();
  assert.equal(banner.code, 220);
  assert.match(banner.text, /^\S+ ESMTP tsmtpd$/);
  assert.equal((await c.cmd('QUIT')).code, 221);
  assert.equal((await c.reply(2000)).text, 'closed');
});

test('P09: an 8-bit envelope needs SMTPUTF8, and valid UTF-8', async () => {
  const c = await session();
  assert.deepEqual(await c.cmd('MAIL FROM:<jos\xc3\xa9@remote.test>'), { code: 553, text: '5.6.7 8-bit sender address without SMTPUTF8' });
  assert.equal((await c.cmd('MAIL FROM:<jos\xc3\xa9@remote.test> SMTPUTF8')).code, 250);
  const bad = await c.cmd('RCPT TO:<\xff@local.test>');
  assert.ok(bad.code === 553 || bad.code === 501, JSON.stringify(bad));
  c.close();
});

test('P11: RFC 5321 length limits, the same for MAIL and RCPT', async () => {
  const c = await session();
  assert.deepEqual(await c.cmd(`MAIL FROM:<${'a'.repeat(65)}@remote.test>`), { code: 553, text: '5.1.7 The local part of the sender address is too long' });
  assert.equal((await c.cmd(`MAIL FROM:<${'a'.repeat(64)}@remote.test>`)).code, 250);
  assert.deepEqual(await c.cmd(`RCPT TO:<${'a'.repeat(65)}@local.test>`), { code: 553, text: '5.1.3 The local part of the recipient address is too long' });
  assert.deepEqual(await c.cmd(`RCPT TO:<a@${'b'.repeat(64)}.local.test>`), { code: 553, text: '5.1.3 The domain of the recipient address is too long' });
  c.close();
});

test('smtp limit max-rcpt: past the limit 452 4.5.3 (a temporary failure), the accepted ones still go', async () => {
  const p = await freePort();
  const limited = await startDaemon({
    conf: conf(p).replace('smtp max-message-size 10K', 'smtp max-message-size 10K\nsmtp limit max-rcpt 3'),
    ...WORKERS_AS_NOBODY,
  });
  try {
    await limited.waitHealthy();
    await limited.waitLog(/smtp-listening/);
    const c = await RawSmtp.connect(p);
    await c.reply();
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<a@remote.test>');
    const codes = [];
    for (const u of ['alice', 'bob', 'postmaster', 'staff']) codes.push((await c.cmd(`RCPT TO:<${u}@local.test>`)).code);
    assert.deepEqual(codes, [250, 250, 250, 452]);
    const over = await c.cmd('RCPT TO:<alice+x@local.test>');
    assert.deepEqual(over, { code: 452, text: '4.5.3 Too many recipients' });
    await c.cmd('DATA');
    c.send('Subject: three\r\n\r\nx\r\n.\r\n');
    assert.equal((await c.reply()).code, 250);
    c.close();
  } finally {
    await stopDaemon(limited);
  }
});

test('P02: empty or odd HELO/EHLO get 501/500, then a good EHLO works', async () => {
  const c = await RawSmtp.connect(port);
  await c.reply();
  assert.equal((await c.cmd('HELO')).code, 501);
  assert.equal((await c.cmd('EHLO')).code, 501);
  assert.ok([500, 501].includes((await c.cmd(' HELO x')).code));
  assert.equal((await c.cmd('EHLO x')).code, 250);
  c.close();
});

test('P04: unknown commands get 500 5.5.x, then 421 and a close: never answered forever', async () => {
  const c = await session();
  const codes: number[] = [];
  for (let i = 0; i < 25 && !c.closed; i++) {
    c.send('WHATISTHIS\r\n');
    const r = await c.reply(2000);
    codes.push(r.code);
    if (r.code === 0 || r.code === 421) break;
  }
  assert.ok(codes.length < 25, `the server gave up: ${codes.join(',')}`);
  assert.equal(codes[codes.length - 1], 421);
  assert.ok(codes.slice(0, -1).every((x) => x === 500));
  assert.equal((await c.reply(2000)).text, 'closed');
});

test('P06, P07, P08: over-long commands, NUL bytes and bare CR in commands are refused', async () => {
  const c = await RawSmtp.connect(port);
  await c.reply();
  assert.ok((await c.cmd(`EHLO ${'a'.repeat(600)}`)).code >= 500);
  assert.ok((await c.cmd('a'.repeat(1000))).code >= 500);
  await c.cmd('EHLO client.test');
  assert.ok([500, 501].includes((await c.cmd('MAIL FROM:<a@remote.test>\0x')).code));
  assert.equal((await c.cmd('MAIL FROM:<a@remote.test>')).code, 250);
  assert.ok([500, 501].includes((await c.cmd('RCPT TO:<alice@local.test\0@evil.test>')).code));
  c.send('NOOP\rRSET\r\n');
  const first = await c.reply();
  assert.ok(first.code >= 500, JSON.stringify(first));
  assert.equal((await c.reply(700)).text, 'timeout', 'never answered as two commands');
  c.close();
});

test('P15a: a client talking before the banner is told so and dropped', async () => {
  const c = await RawSmtp.connect(port);
  c.send('EHLO client.test\r\n');
  const r = await c.reply();
  assert.ok(r.code === 421 || r.code === 554 || r.code === 220, JSON.stringify(r));
  if (r.code !== 220) assert.equal((await c.reply(2000)).text, 'closed');
  c.close();
});

test('R12: XCLIENT does not re-identify the client, and relaying stays denied', async () => {
  const c = await session();
  assert.ok((await c.cmd('XCLIENT ADDR=10.0.0.1')).code >= 500);
  await c.cmd('MAIL FROM:<x@remote.test>');
  assert.deepEqual(await c.cmd('RCPT TO:<victim@remote.test>'), { code: 550, text: '5.7.1 Relaying denied' });
  c.close();
});
