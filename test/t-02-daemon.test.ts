/**
 * Scenario: the daemon's processes. Started as root, only the parent stays root and every
 * worker runs as its user, titled `smtpd: NAME`; started as a normal user, everything runs as
 * that user with one warning. Each worker killed with SIGKILL comes back and the daemon still
 * answers; SIGHUP reloads a good configuration and keeps the old one on a broken one; SIGTERM
 * stops everything with status 0; a worker that keeps dying stops the daemon. A client
 * arriving while lka restarts is greeted once lka is back, and its recipient is accepted
 * (not 421 for a missing peer).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlClient } from '../src/ctl/client';
import { fromRoot } from './helpers';
import { RawSmtp } from './smtp-raw';
import {
  assertRoot,
  ensureUser,
  freePort,
  localTestConf,
  processTable,
  SIMPLE_CONF,
  startDaemon,
  stopDaemon,
  WORKER_NAMES,
  type DaemonRun,
  WORKERS_AS_NOBODY,
} from './daemon-harness';

const runs: DaemonRun[] = [];
after(async () => {
  for (const r of runs) await stopDaemon(r);
});

async function start(...args: Parameters<typeof startDaemon>): Promise<DaemonRun> {
  const r = await startDaemon(...args);
  runs.push(r);
  return r;
}

function children(parentPid: number) {
  return processTable().filter((p) => p.ppid === parentPid);
}

test('as root: only the parent runs as root; each worker as its user, titled smtpd: NAME', async () => {
  assertRoot();
  const daemonUser = ensureUser('_smtpd');
  const queueUser = ensureUser('_smtpq');
  const d = await start();
  const pids = await d.waitHealthy();
  const parent = processTable().find((p) => p.pid === pids.parent)!;
  assert.equal(parent.user, 'root');
  assert.equal(parent.args, 'smtpd: parent');
  const kids = children(pids.parent!);
  assert.deepEqual(kids.map((k) => k.args).sort(), WORKER_NAMES.map((n) => `smtpd: ${n}`).sort());
  for (const k of kids) {
    const expected = k.args === 'smtpd: queue' ? queueUser.name : daemonUser.name;
    assert.equal(k.user, expected, `${k.args} runs as ${k.user}`);
  }
  assert.equal(Number(fs.readFileSync(d.pidfile, 'utf8')), pids.parent);
  const sock = fs.statSync(d.socket);
  assert.equal(sock.mode & 0o777, 0o660);
  assert.equal(sock.gid, queueUser.gid);
  const spool = fs.statSync(d.spool);
  assert.equal(spool.uid, queueUser.uid);
  // searchable, not readable, by local users: they reach offline/ (sticky, write-only for them)
  assert.equal(spool.mode & 0o777, 0o711);
  const offline = fs.statSync(path.join(d.spool, 'offline'));
  assert.equal(offline.mode & 0o7777, 0o1733);
  assert.equal(offline.uid, 0);
  for (const sub of ['queue', 'incoming', 'corrupt']) assert.equal(fs.statSync(path.join(d.spool, sub)).mode & 0o777, 0o700, sub);
  assert.match(d.logs(), /lka\[\d+\] info worker-started uid=\d+ gid=\d+/);
});

test('kill -9 of each worker in turn: it is restarted and the daemon still answers', async () => {
  const d = await start();
  let pids = await d.waitHealthy();
  for (const name of WORKER_NAMES) {
    process.kill(pids[name]!, 'SIGKILL');
    pids = await d.waitHealthy(10_000, { [name]: pids[name]! });
    await d.waitLog(new RegExp(`worker ${name} died \\(signal SIGKILL\\): restarting it`));
  }
  assert.equal(children(pids.parent!).length, WORKER_NAMES.length);
});

test('a session opened while lka restarts waits for it: greeted when lka is back, its recipient accepted', async () => {
  const port = await freePort();
  const d = await start({ conf: localTestConf([`listen on 127.0.0.1 port ${port}`]) });
  const pids = await d.waitHealthy();
  process.kill(pids.lka!, 'SIGKILL');
  // smtp has seen lka go: before the fix, a session now got 421 4.3.0 at RCPT
  await d.waitLog(/smtp\[\d+\] info peer-closed peer=lka/);
  const c = await RawSmtp.connect(port);
  const banner = await c.reply(15_000);
  assert.equal(banner.code, 220);
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  assert.equal((await c.cmd('MAIL FROM:<someone@example.org>')).code, 250);
  const rcpt = await c.cmd('RCPT TO:<alice@local.test>');
  assert.equal(rcpt.code, 250, `RCPT: ${rcpt.code} ${rcpt.text}`);
  assert.equal((await c.cmd('QUIT')).code, 221);
  await d.waitHealthy(10_000, { lka: pids.lka! });
});

test('SIGHUP: a good configuration is applied; a broken one is refused with every error and the old one kept', async () => {
  const d = await start();
  const pids = await d.waitHealthy();
  fs.writeFileSync(d.conf, `table domains { example.org }\n${SIMPLE_CONF}match for domain <domains> action "local"\n`);
  process.kill(pids.parent!, 'SIGHUP');
  await d.waitLog(/parent\[\d+\] info config-reloaded/);
  await d.waitLog(/lka\[\d+\] info config-reloaded/);
  fs.writeFileSync(d.conf, 'acton "local" mbox\nmatch for local action "nope"\n');
  process.kill(pids.parent!, 'SIGHUP');
  await d.waitLog(/reload-failed: configuration not reloaded \(2 problems\): still running the previous one/);
  assert.match(d.logs(), /config-error: \S+smtpd\.conf:1:1: unknown keyword \\?"acton\\?", did you mean \\?"action\\?"\?/);
  assert.deepEqual(await d.waitHealthy(), pids, 'nothing was restarted');
});

test('SIGTERM: every process stops, exit status 0, pid file and socket removed', async () => {
  const d = await start();
  const pids = await d.waitHealthy();
  process.kill(pids.parent!, 'SIGTERM');
  const { code } = await d.exited;
  assert.equal(code, 0);
  await d.waitLog(/daemon-stopped status=0/);
  assert.ok(!fs.existsSync(d.pidfile));
  assert.ok(!fs.existsSync(d.socket));
  const alive = new Set(processTable().map((p) => p.pid));
  for (const name of WORKER_NAMES) assert.ok(!alive.has(pids[name]!), `${name} is gone`);
});

test('a worker that dies 5 times within 60 seconds stops the daemon with a clear message', async () => {
  const d = await start();
  let pids = await d.waitHealthy();
  for (let i = 0; i < 4; i++) {
    process.kill(pids.lka!, 'SIGKILL');
    pids = await d.waitHealthy(10_000, { lka: pids.lka! });
  }
  process.kill(pids.lka!, 'SIGKILL');
  const { code } = await d.exited;
  assert.equal(code, 1);
  assert.match(d.logs(), /worker lka died 5 times within 60 seconds \(last: signal SIGKILL\): stopping the daemon/);
});

test('as a normal user: every process runs as that user, with one warning', async () => {
  assertRoot();
  const user = ensureUser('tsmtpd-test');
  const d = await start({ as: user });
  const pids = await d.waitHealthy();
  const procs = [pids.parent!, ...WORKER_NAMES.map((n) => pids[n]!)].map((pid) => processTable().find((p) => p.pid === pid)!);
  for (const p of procs) assert.equal(p.user, user.name, `${p.args} runs as ${p.user}`);
  assert.equal(d.logs().match(/not-root/g)?.length, 1);
  assert.match(d.logs(), /warn not-root: not started as root: every worker runs as uid \d+, without privilege separation/);
});

test('a missing worker user is a clear error naming the fix', async () => {
  assertRoot();
  const d = await start({ args: ['--user', 'tsmtpd-no-such-user'] });
  const { code } = await d.exited;
  assert.equal(code, 1);
  assert.match(d.logs(), /the daemon user \\?"tsmtpd-no-such-user\\?" does not exist: create it \(useradd --system/);
});

test('without -d or -F smtpd detaches: the command returns, the daemon runs and logs JSON to --log-file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-detach-'));
  fs.chmodSync(dir, 0o755);
  const conf = path.join(dir, 'smtpd.conf');
  fs.writeFileSync(conf, SIMPLE_CONF);
  const socket = path.join(dir, 'smtpd.sock');
  const pidfile = path.join(dir, 'smtpd.pid');
  const logFile = path.join(dir, 'smtpd.log');
  const args = [fromRoot('bin', 'smtpd'), '-f', conf, '--spool', path.join(dir, 'spool'), '--socket', socket, '--pidfile', pidfile, '--log-file', logFile];
  if (process.getuid?.() === 0) args.push('--user', ensureUser('_smtpd').name, '--queue-user', ensureUser('_smtpq').name);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  let pid = 0;
  for (let i = 0; i < 100 && !pid; i++) {
    await new Promise((res) => setTimeout(res, 100));
    try {
      const c = await ControlClient.connect(socket, 1000);
      const s = await c.status(2000);
      c.close();
      if (Object.values(s).filter((v) => v.startsWith('ok')).length === 8) pid = Number(fs.readFileSync(pidfile, 'utf8'));
    } catch {
      // starting
    }
  }
  assert.ok(pid > 0, `the detached daemon did not answer; log:\n${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}`);
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && fs.existsSync(pidfile); i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(!fs.existsSync(pidfile), 'the pid file is removed at stop');
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event?: string; worker?: string });
  assert.ok(lines.some((l) => l.event === 'daemon-starting' && l.worker === 'parent'));
  assert.ok(lines.some((l) => l.event === 'worker-started' && l.worker === 'queue'));
  assert.ok(lines.some((l) => l.event === 'daemon-stopped'));
});

test('a broken configuration: smtpd does not start, prints every error and exits 1', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-broken-'));
  const conf = path.join(dir, 'smtpd.conf');
  fs.writeFileSync(conf, 'listen on lo port 0\nmatch for local action "x"\n');
  const r = spawnSync(process.execPath, [fromRoot('bin', 'smtpd'), '-f', conf, '--log-file', path.join(dir, 'log')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, [
    `${conf}:1:19: invalid port "0": expected 1 to 65535 or a service name`,
    `${conf}:2:24: no such action "x"`,
    `${conf}: 2 errors, configuration not loaded`,
    '',
  ].join('\n'));
  assert.ok(!fs.existsSync(path.join(dir, 'log')), 'nothing started');
});

test('-F: every process logs JSON lines on stdout, nothing on stderr', async () => {
  const d = await start({ mode: '-F', ...WORKERS_AS_NOBODY });
  await d.waitHealthy();
  await stopDaemon(d);
  assert.equal(d.stderr(), '');
  const lines = d.stdout().trim().split('\n').map((l) => JSON.parse(l) as { worker: string; event: string; pid: number; time: string });
  const workers = new Set(lines.filter((l) => l.event === 'worker-started').map((l) => l.worker));
  assert.deepEqual([...workers].sort(), [...WORKER_NAMES].sort());
  assert.ok(lines.every((l) => typeof l.pid === 'number' && /^\d{4}-\d\d-\d\dT/.test(l.time)));
});

test('a spool the queue user cannot reach is a clear error at start, not a crash loop', async () => {
  assertRoot();
  const locked = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-locked-'));
  fs.chmodSync(locked, 0o700);
  const d = await start({ args: ['--spool', path.join(locked, 'spool'), '--user', 'nobody', '--queue-user', 'nobody'] });
  const { code } = await d.exited;
  assert.equal(code, 1);
  assert.match(d.logs(), new RegExp(`the queue user \\\\?"nobody\\\\?" cannot reach the spool ${locked}/spool: ${locked} is not searchable by it \\(chmod o\\+x ${locked}, or choose another --spool\\)`));
  assert.ok(!/worker-died/.test(d.logs()));
});
