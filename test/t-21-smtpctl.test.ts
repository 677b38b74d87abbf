/**
 * Scenario: smtpctl against a running daemon holding deferred mail (the recipient's maildir
 * cannot be made: every try fails temporarily): show queue (all, one message, and with the
 * daemon stopped, read from the spool), show envelope, show message, schedule and remove of one
 * envelope, one message and all, mailq, and the errors for a bad id; pause and resume of mda
 * (a deliverable message waits, then is delivered), smtp (new sessions get 421) and envelopes
 * (the suspend flag), show status, show stats, monitor, log verbose and --json. Rights on the
 * control socket: a member of the socket's group (not root) may show but not change; a user
 * outside it cannot connect; a forged proof gets nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, localTestConf, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { fromRoot } from './helpers';
import { RawSmtp } from './smtp-raw';
import * as net from 'node:net';
import { Channel } from '../src/bus/channel';
import { ToClient, type FromClient } from '../src/bus/msg-control-client';
import { BUS_VERSION } from '../src/bus/version';
import { sendOne } from './smtp-send';

let d: DaemonRun;
let port = 0;
let carol: { name: string; home: string };
/** alice@local.test is kept in the queue (no maildir can be made); carol@real.test is delivered;
 * alias.test goes through the aliases file */
const aliasFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-aliases-')), 'aliases');
const conf = () =>
  localTestConf([
    `listen on 127.0.0.1 port ${port}`,
    `table aliases file:${aliasFile}`,
    'action "real" maildir',
    'action "aliased" maildir alias <aliases>',
    'match from any for domain "real.test" action "real"',
    'match from any for domain "alias.test" action "aliased"',
  ]);
const LINE = /^([0-9a-f]{16})\|inet4\|mda\|\|s@remote\.test\|alice@local\.test\|alice@local\.test\|(\d+)\|(\d+)\|(\d+)\|(\d+)\|(pending|inflight|offline)\|(\d*)\|(.*)$/;

before(async () => {
  assertRoot();
  port = await freePort();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  carol = ensureUserWithHome('tsmtpd-carol');
  fs.writeFileSync(aliasFile, `other: ${'tsmtpd-carol'}\n`);
  fs.rmSync(path.join(carol.home, 'Maildir'), { recursive: true, force: true });
  d = await startDaemon({ conf: conf() });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
});

function ctl(...args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [fromRoot('bin', path.basename(args[0] === 'mailq' ? 'mailq' : 'smtpctl')), '-s', d.socket, '--spool', d.spool, ...args.slice(args[0] === 'mailq' ? 1 : 0)], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function send(subject: string, rcpt = 'alice@local.test'): Promise<string> {
  return sendOne(port, rcpt, subject, { body: 'body' });
}

let first = '';
let second = '';

test('show queue: one line per envelope in OpenSMTPD\'s format; "sh q MSGID" only that message\'s', async () => {
  first = await send('first');
  second = await send('second');
  await d.waitLog(new RegExp(`deferred evpid=${second}`));
  const r = ctl('show', 'queue');
  assert.equal(r.status, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 2, r.out);
  for (const l of lines) {
    const m = LINE.exec(l);
    assert.ok(m, l);
    assert.equal(Number(m[3]) - Number(m[2]), 4 * 24 * 3600, 'expire = ctime + ttl');
    assert.ok(Number(m[5]) >= 1, 'tried at least once');
    assert.equal(m[6], 'pending');
    assert.match(m[8]!, /^451 /, 'the last error');
  }
  assert.deepEqual(lines.map((l) => l.slice(0, 8)).sort(), [first, second].sort(), 'ordered by ctime, then evpid');
  const one = ctl('sh', 'q', second);
  assert.equal(one.out.trim().split('\n').length, 1);
  assert.ok(one.out.startsWith(second));
  const mailq = ctl('mailq').out.trim().split('\n');
  assert.deepEqual(mailq.map((l) => LINE.exec(l)?.[1]), lines.map((l) => LINE.exec(l)?.[1]), 'mailq is show queue');
});

/** smtpctl as another user (uid, and gid as its only group) */
function ctlAs(user: { uid: number; gid: number }, ...args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [fromRoot('bin', 'smtpctl'), '-s', d.socket, ...args], { encoding: 'utf8', timeout: 20_000, uid: user.uid, gid: user.gid });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('rights: the socket\'s group may show (queue, status, stats) but not change; others cannot connect; keys are root\'s and the group\'s', async () => {
  const ops = ensureUser('tsmtpd-ops');
  const group = { uid: ops.uid, gid: fs.statSync(d.socket).gid };
  assert.equal(fs.statSync(d.socket).gid, ensureUser('_smtpq').gid, 'the socket belongs to the queue user\'s group');
  const rootKey = fs.statSync(`${d.socket}.key-root`);
  const groupKey = fs.statSync(`${d.socket}.key-group`);
  assert.equal(rootKey.mode & 0o777, 0o600);
  assert.equal(rootKey.uid, 0);
  assert.equal(groupKey.mode & 0o777, 0o640);
  assert.equal(groupKey.gid, group.gid);
  const shown = ctlAs(group, 'show', 'queue');
  assert.equal(shown.status, 0, shown.err);
  // the same lines as root sees (but the seconds to the next try, which run on meanwhile)
  const timeless = (s: string) => s.replace(/\|(pending|inflight)\|\d*\|/g, '|$1||');
  assert.equal(timeless(shown.out), timeless(ctl('show', 'queue').out), 'the same lines as root sees');
  assert.equal(ctlAs(group, 'show', 'status').status, 0);
  assert.equal(ctlAs(group, 'show', 'stats').status, 0);
  for (const change of [['schedule', 'all'], ['remove', 'all'], ['pause', 'mda'], ['log', 'verbose']]) {
    const r = ctlAs(group, ...change);
    assert.notEqual(r.status, 0, change.join(' '));
    assert.match(r.err, /permission denied: ".+" changes what smtpd does: run smtpctl as root/, change.join(' '));
  }
  assert.match(ctl('show', 'status').out, /^MDA running$/m, 'nothing was paused');
  const outsider = ctlAs({ uid: ops.uid, gid: ops.gid }, 'show', 'queue');
  assert.notEqual(outsider.status, 0);
  assert.match(outsider.err, /permission denied on .*smtpd\.sock: run as root, or as a member of group _smtpq \(gid \d+\) to show/);
});

test('rights: a client that sends a wrong proof, or none, is refused every request and told what to do', async () => {
  for (const prove of [{ type: 'PROVE', role: 'root', mac: '0'.repeat(64) } as const, undefined]) {
    const socket = net.connect(d.socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    const ch = new Channel<ToClient, FromClient>({ self: 'client', peer: 'control', socket, decoder: ToClient });
    const hello = await new Promise<ToClient>((resolve) => {
      ch.onMessage(resolve);
      ch.send({ type: 'HELLO', version: BUS_VERSION });
    });
    assert.equal(hello.type, 'HELLO');
    assert.match((hello as { nonce?: string }).nonce ?? '', /^[0-9a-f]{32}$/);
    if (prove) ch.send(prove);
    const r = await ch.request({ type: 'SHOW_QUEUE' }, 5000);
    assert.equal(r.type, 'ERROR');
    assert.match((r as { message: string }).message, /permission denied: smtpctl could not read .*smtpd\.sock\.key-group .* run it as root, or as a member of the socket's group/);
    ch.close();
  }
  await d.waitLog(/control-proof-refused/);
});

test('show envelope prints the envelope file, show message the stored message', () => {
  const evpid = ctl('sh', 'q', first).out.split('|')[0]!;
  const env = ctl('show', 'envelope', evpid);
  assert.equal(env.status, 0, env.err);
  assert.equal(JSON.parse(env.out).evpid, evpid);
  const msg = ctl('show', 'message', first);
  assert.match(msg.out, /^Received: from client\.test /);
  assert.match(msg.out, /\r\nSubject: first\r\n\r\nbody\r\n$/);
  const bad = ctl('show', 'envelope', first);
  assert.equal(bad.status, 1);
  assert.match(bad.err, /^smtpctl: not an envelope id \(16 hex digits\): "[0-9a-f]{8}"\n$/);
  assert.match(ctl('show', 'message', 'ffffffff').err, /no message ffffffff in the queue/);
});

test('schedule: one envelope is tried again at once ("1 envelope scheduled"), then all; a bad id is refused', async () => {
  const evpid = ctl('sh', 'q', first).out.split('|')[0]!;
  const before = (d.logs().match(new RegExp(`deferred evpid=${evpid}`, 'g')) ?? []).length;
  const r = ctl('schedule', evpid);
  assert.equal(r.out, '1 envelope scheduled\n');
  for (let i = 0; i < 50 && (d.logs().match(new RegExp(`deferred evpid=${evpid}`, 'g')) ?? []).length === before; i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok((d.logs().match(new RegExp(`deferred evpid=${evpid}`, 'g')) ?? []).length > before, 'tried again');
  // every envelope: both queued messages' envelopes (none is in flight: each failed at once)
  await new Promise((res) => setTimeout(res, 300));
  const all = ctl('schedule', 'all');
  assert.match(all.out, /^\d+ envelopes? scheduled\n$/);
  assert.ok(Number(all.out.split(' ')[0]) >= 1, all.out);
  assert.match(ctl('schedule', 'nope').err, /"nope": use an envelope id \(16 hex digits\), a message id \(8 hex digits\) or "all"/);
});

test('remove: one message, then all; the spool is left empty; with the daemon stopped, show queue reads the spool', async () => {
  const third = await send('third');
  await d.waitLog(new RegExp(`deferred evpid=${third}`));
  let r = ctl('remove', first);
  assert.equal(r.out, '1 envelope removed\n');
  assert.equal(ctl('show', 'queue').out.trim().split('\n').length, 2);
  await stopDaemon(d);
  const offline = ctl('show', 'queue').out.trim().split('\n');
  assert.equal(offline.length, 2);
  for (const l of offline) assert.equal(LINE.exec(l)?.[6], 'offline', l);
  d = await startDaemon({ conf: conf(), dir: d.dir });
  await d.waitHealthy();
  // found at start, they are tried at once: wait until neither is in flight
  await d.waitLog(new RegExp(`deferred evpid=${second}`));
  await d.waitLog(new RegExp(`deferred evpid=${third}`));
  r = ctl('remove', 'all');
  assert.match(r.out, /^2 envelopes removed\n$/);
  assert.equal(ctl('show', 'queue').out, '');
  await new Promise((res) => setTimeout(res, 300));
  const left = fs.readdirSync(path.join(d.spool, 'queue')).flatMap((b) => fs.readdirSync(path.join(d.spool, 'queue', b)));
  assert.deepEqual(left, []);
});

test('pause mda: a deliverable message waits in the queue (show status says so); resume mda delivers it', async () => {
  assert.equal(ctl('pause', 'mda').out, 'command succeeded\n');
  assert.equal(ctl('show', 'status').out, 'MDA paused\nMTA running\nSMTP running\n');
  const msgid = await send('held', `${carol.name}@real.test`);
  await new Promise((res) => setTimeout(res, 1500));
  const newDir = path.join(carol.home, 'Maildir', 'new');
  assert.equal(fs.existsSync(newDir) ? fs.readdirSync(newDir).length : 0, 0, 'not delivered while paused');
  assert.match(ctl('show', 'queue', msgid).out, /\|pending\|\d+\|$/m);
  assert.equal(ctl('resume', 'mda').out, 'command succeeded\n');
  await d.waitLog(new RegExp(`delivered evpid=${msgid}`));
  assert.equal(fs.readdirSync(newDir).length, 1);
  assert.deepEqual(JSON.parse(ctl('show', 'status', '--json').out), { MDA: 'running', MTA: 'running', SMTP: 'running' });
});

test('pause smtp: a new session gets 421 4.3.2; resume smtp: served again', async () => {
  assert.equal(ctl('pause', 'smtp').out, 'command succeeded\n');
  const c = await RawSmtp.connect(port);
  const r = await c.reply();
  assert.equal(r.code, 421);
  assert.match(r.text, /^4\.3\.2 /);
  c.close();
  assert.equal(ctl('show', 'status').out, 'MDA running\nMTA running\nSMTP paused\n');
  ctl('resume', 'smtp');
  const again = await RawSmtp.connect(port);
  assert.equal((await again.reply()).code, 220);
  again.close();
});

test('pause envelope: the suspend flag in show queue, no tries meanwhile; resume envelope lifts it', async () => {
  const msgid = await send('suspended');
  await d.waitLog(new RegExp(`deferred evpid=${msgid}`));
  assert.equal(ctl('pause', 'envelope', msgid).out, '1 envelope paused\n');
  assert.match(ctl('show', 'queue', msgid).out, /^[0-9a-f]{16}\|inet4\|mda\|suspend\|/);
  const tries = () => (d.logs().match(new RegExp(`deferred evpid=${msgid}`, 'g')) ?? []).length;
  const before = tries();
  ctl('schedule', msgid);
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(tries(), before, 'a suspended envelope is not tried, even when scheduled');
  assert.equal(ctl('resume', 'envelope', 'all').out, '1 envelope resumed\n');
  for (let i = 0; i < 50 && tries() === before; i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(tries() > before, 'tried once resumed');
  const json = JSON.parse(ctl('show', 'queue', msgid, '--json').out) as Record<string, unknown>[];
  assert.equal(json.length, 1);
  assert.equal(json[0]!.flags, '');
  assert.equal(typeof json[0]!.ctime, 'number');
});

test('show stats: key=value lines in key order with the counters of every process; monitor prints its header and a row a second', async () => {
  const lines = ctl('show', 'stats').out.trim().split('\n');
  const keys = lines.map((l) => l.split('=')[0]!);
  assert.deepEqual([...keys].sort(), keys, 'in key order');
  const stats = Object.fromEntries(lines.map((l) => l.split('=') as [string, string]));
  for (const k of ['control.session', 'mda.envelope', 'mda.pending', 'mda.running', 'mda.user', 'queue.evpcache.size', 'scheduler.delivery.ok', 'scheduler.delivery.tempfail', 'scheduler.envelope', 'smtp.session', 'uptime', 'uptime.human']) assert.ok(k in stats, k);
  assert.ok(Number(stats['scheduler.delivery.ok']) >= 1, 'the delivery above');
  assert.ok(Number(stats['scheduler.delivery.tempfail']) >= 1);
  assert.equal(stats['control.session'], '1');
  const mon = spawn(process.execPath, [fromRoot('bin', 'smtpctl'), '-s', d.socket, 'monitor']);
  let out = '';
  mon.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise((res) => setTimeout(res, 3500));
  mon.kill();
  const rows = out.split('\n').filter(Boolean);
  assert.equal(rows[0], '--- client ---  -- envelope --   ---- relay/delivery --- ------- misc -------');
  assert.equal(rows[1], 'curr conn disc  curr  enq  deq   ok tmpfail prmfail loop expire remove bounce');
  assert.ok(rows.length >= 4, out);
  for (const r of rows.slice(2)) assert.match(r, /^ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+$/);
});

test('log verbose: debug lines appear (a session opening); log brief: they stop', async () => {
  assert.equal(ctl('log', 'verbose').out, 'command succeeded\n');
  const c = await RawSmtp.connect(port);
  await c.reply();
  c.close();
  await d.waitLog(/smtp\[\d+\] debug smtp-connected/);
  assert.equal(ctl('log', 'brief').out, 'command succeeded\n');
  const count = () => (d.logs().match(/debug smtp-connected/g) ?? []).length;
  const before = count();
  const again = await RawSmtp.connect(port);
  await again.reply();
  again.close();
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(count(), before);
});

test('trace smtp: the smtp worker\'s debug lines only; trace imsg: a line per bus message; untrace all: both stop', async () => {
  const connected = () => (d.logs().match(/smtp\[\d+\] debug smtp-connected/g) ?? []).length;
  const imsg = () => (d.logs().match(/ info imsg: /g) ?? []).length;
  assert.equal(ctl('trace', 'smtp').out, 'command succeeded\n');
  assert.equal(ctl('trace', 'imsg').out, 'command succeeded\n');
  const c = await RawSmtp.connect(port);
  await c.reply();
  c.close();
  await d.waitLog(/smtp\[\d+\] debug smtp-connected/);
  await send('traced');
  await d.waitLog(/info imsg: smtp -> lka LKA_RCPT /);
  assert.equal(ctl('untrace', 'all').out, 'command succeeded\n');
  await new Promise((res) => setTimeout(res, 700)); // lines logged before it are still on their way
  const [c0, i0] = [connected(), imsg()];
  await send('not traced');
  await new Promise((res) => setTimeout(res, 500));
  assert.deepEqual([connected(), imsg()], [c0, i0]);
  const bad = ctl('trace', 'everything');
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /unknown subsystem: "everything" \(imsg, io, smtp/);
});

test('profile imsg: the time each bus message took to handle; profile queue: each commit\'s time; unprofile: they stop', async () => {
  assert.equal(ctl('profile', 'imsg').out, 'command succeeded\n');
  assert.equal(ctl('profile', 'queue').out, 'command succeeded\n');
  const msgid = await send('profiled');
  await d.waitLog(/lka\[\d+\] info profile-imsg from=smtp type=LKA_RCPT ms=[\d.]+/);
  await d.waitLog(new RegExp(`queue\\[\\d+\\] info profile-queue msgid=${msgid} what=commit ms=[\\d.]+`));
  ctl('unprofile', 'imsg');
  ctl('unprofile', 'queue');
  await new Promise((res) => setTimeout(res, 700));
  const count = () => (d.logs().match(/profile-(?:imsg|queue)/g) ?? []).length;
  const before = count();
  await send('not profiled');
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(count(), before);
});

async function rcptReply(rcpt: string): Promise<number> {
  const c = await RawSmtp.connect(port);
  await c.reply();
  await c.cmd('EHLO client.test');
  await c.cmd('MAIL FROM:<s@remote.test>');
  const r = await c.cmd(`RCPT TO:<${rcpt}>`);
  c.close();
  return r.code;
}

test('update table: the aliases file is read again (a new alias works at once); a broken file changes nothing and says where; newaliases and sendmail -bi do the same', async () => {
  assert.equal(await rcptReply('info@alias.test'), 550);
  fs.writeFileSync(aliasFile, `other: ${carol.name}\ninfo: ${carol.name}\n`);
  const r = ctl('update', 'table', 'aliases');
  assert.equal(r.out, 'table aliases: 2 entries\n', r.err);
  assert.equal(await rcptReply('info@alias.test'), 250);
  fs.writeFileSync(aliasFile, `info: ${carol.name}\n[broken\n`);
  const bad = ctl('update', 'table', 'aliases');
  assert.equal(bad.status, 1);
  assert.equal(bad.err, `smtpctl: ${aliasFile}:2:1: unterminated "[" in key\n`);
  assert.equal(await rcptReply('info@alias.test'), 250, 'the table in use is unchanged');
  assert.match(ctl('update', 'table', 'nosuch').err, /no table "nosuch" in the configuration/);
  fs.writeFileSync(aliasFile, `other: ${carol.name}\n`);
  const na = spawnSync(process.execPath, [fromRoot('bin', 'newaliases')], { encoding: 'utf8', env: { ...process.env, SMTPD_SOCKET: d.socket } });
  assert.equal(na.stdout, 'table aliases: 1 entry\n', na.stderr);
  assert.equal(await rcptReply('info@alias.test'), 550);
  const bi = spawnSync(process.execPath, [fromRoot('bin', 'sendmail'), '-bi'], { encoding: 'utf8', env: { ...process.env, SMTPD_SOCKET: d.socket } });
  assert.equal(bi.stdout, 'table aliases: 1 entry\n', bi.stderr);
});

test('discover: a message dropped into the spool by hand is loaded and shown; a second discover finds nothing new', async () => {
  const msgid = await send('to copy');
  await d.waitLog(new RegExp(`deferred evpid=${msgid}`));
  const src = path.join(d.spool, 'queue', msgid.slice(0, 2), msgid);
  const env = JSON.parse(fs.readFileSync(path.join(src, fs.readdirSync(src).find((f) => f !== 'message')!), 'utf8')) as Record<string, unknown>;
  const copy = 'abcdef01';
  const evpid = `${copy}${String(env.evpid).slice(8)}`;
  const dir = path.join(d.spool, 'queue', 'ab', copy);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.copyFileSync(path.join(src, 'message'), path.join(dir, 'message'));
  fs.writeFileSync(path.join(dir, evpid), `${JSON.stringify({ ...env, evpid, msgid: copy })}\n`, { mode: 0o600 });
  const owner = fs.statSync(src);
  for (const p of [path.dirname(dir), dir, path.join(dir, 'message'), path.join(dir, evpid)]) fs.chownSync(p, owner.uid, owner.gid);
  assert.equal(ctl('show', 'queue', copy).out, '', 'not known before discover');
  assert.equal(ctl('discover', copy).out, '1 envelope discovered\n');
  assert.ok(ctl('show', 'queue', copy).out.startsWith(evpid));
  assert.equal(ctl('discover', evpid).out, '0 envelopes discovered\n');
  assert.match(ctl('discover', 'all').err, /not a message or envelope id: "all"/);
});
