/**
 * Scenario: mail to a local user ends in the user's Maildir, written as that user; a delivery
 * that fails temporarily stays in the queue and is delivered after a restart of the daemon.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUserWithHome, startDaemon, stopDaemon, type DaemonRun, freePort } from './daemon-harness';

const runs: DaemonRun[] = [];
after(async () => {
  for (const r of runs) await stopDaemon(r);
});


function conf(port: number, user: string): string {
  return [
    'table domains { local.test }',
    `table aliases { postmaster = ${user} }`,
    `listen on 127.0.0.1 port ${port}`,
    'action "local" maildir alias <aliases>',
    'match from any for domain <domains> action "local"',
    '',
  ].join('\n');
}

function send(port: number, rcpts: string[], body: string): string {
  const py = [
    'import smtplib',
    `s = smtplib.SMTP("127.0.0.1", ${port}, local_hostname="client.test")`,
    `print(s.sendmail("sender@remote.test", ${JSON.stringify(rcpts)}, ${JSON.stringify(body)}.encode()))`,
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

async function waitFiles(dir: string, n: number, timeoutMs = 10_000): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    if (files.length >= n) return files.map((f) => path.join(dir, f));
    if (Date.now() > end) throw new Error(`${n} files expected in ${dir}, found ${files.length}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function queued(run: DaemonRun): string[] {
  const q = path.join(run.spool, 'queue');
  return fs.existsSync(q) ? fs.readdirSync(q).flatMap((b) => fs.readdirSync(path.join(q, b))) : [];
}

/** a daemon of its own delivering to tsmtpd-alice, whose Maildir starts empty */
async function aliceDaemon(): Promise<{ user: { name: string; uid: number; home: string }; maildir: string; port: number; d: DaemonRun }> {
  assertRoot();
  const user = ensureUserWithHome('tsmtpd-alice');
  const maildir = path.join(user.home, 'Maildir');
  fs.rmSync(maildir, { recursive: true, force: true });
  const port = await freePort();
  const d = await startDaemon({ conf: conf(port, user.name), args: ['--user', 'nobody', '--queue-user', 'nobody'] });
  runs.push(d);
  await d.waitHealthy();
  return { user, maildir, port, d };
}

test('a message to a local user (and to an alias of it) is in the Maildir, owned by the user, mode 0600, written by a helper running as the user', async () => {
  const { user, maildir, port, d } = await aliceDaemon();
  await d.waitLog(/smtp-listening/);
  const body = 'From: s@remote.test\r\nSubject: delivery\r\n\r\nhello alice\r\n';
  send(port, [`${user.name}@local.test`, 'postmaster@local.test'], body);
  const files = await waitFiles(path.join(maildir, 'new'), 2);
  for (const f of files) {
    const text = fs.readFileSync(f, 'latin1');
    assert.match(text, new RegExp(`^Delivered-To: ${user.name}@local\\.test\\r\\nReceived: from client\\.test \\(unknown \\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby \\S+ \\(tsmtpd\\) with ESMTP id [0-9a-f]{8};\\r\\n\\t[^\\r]+\\r\\n`));
    assert.ok(text.endsWith(body));
    const st = fs.statSync(f);
    assert.equal(st.uid, user.uid);
    assert.equal(st.mode & 0o777, 0o600);
  }
  for (const sub of ['', 'new', 'cur', 'tmp']) {
    const st = fs.statSync(path.join(maildir, sub));
    assert.equal(st.uid, user.uid, `${sub} owner`);
    assert.equal(st.mode & 0o777, 0o700, `${sub} mode`);
  }
  // the helper answers once the tmp name is gone and new/ is synced
  await d.waitLog(/mda\[\d+\] info delivered evpid=[0-9a-f]{16} rcpt=postmaster@local\.test/);
  await d.waitLog(new RegExp(`mda\\[\\d+\\] info delivered evpid=[0-9a-f]{16} rcpt=${user.name}@local\\.test`));
  assert.deepEqual(fs.readdirSync(path.join(maildir, 'tmp')), []);
  // written by the user's delivery helper, running as the user, a child of the parent
  const ps = spawnSync('ps', ['-o', 'uid=,ppid=,args=', '-e'], { encoding: 'utf8' }).stdout;
  const helper = ps.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f.slice(2).join(' ') === `smtpd: deliver ${user.name}`);
  assert.ok(helper, `a delivery helper for ${user.name}:\n${ps}`);
  assert.equal(Number(helper[0]), user.uid, 'the helper runs as the recipient');
  assert.equal(Number(helper[1]), d.proc.pid, 'started by the parent');
  for (let i = 0; i < 50 && queued(d).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(queued(d), [], 'the spool is empty once delivered');
  await d.waitLog(/mda\[\d+\] info delivered evpid=[0-9a-f]{16} rcpt=postmaster@local\.test dest=tsmtpd-alice@local\.test/);
});

test('a temporary failure keeps the message queued; after a restart it is delivered', async () => {
  assertRoot();
  const user = ensureUserWithHome('tsmtpd-alice');
  const maildir = path.join(user.home, 'Maildir');
  fs.rmSync(maildir, { recursive: true, force: true });
  for (const sub of ['', 'new', 'cur', 'tmp']) fs.mkdirSync(path.join(maildir, sub), { mode: 0o700 });
  for (const sub of ['', 'new', 'cur', 'tmp']) fs.chownSync(path.join(maildir, sub), user.uid, user.gid);
  fs.chmodSync(path.join(maildir, 'new'), 0o500); // the user cannot write into new/
  const port = await freePort();
  const first = await startDaemon({ conf: conf(port, user.name), args: ['--user', 'nobody', '--queue-user', 'nobody'] });
  runs.push(first);
  await first.waitHealthy();
  await first.waitLog(/smtp-listening/);
  send(port, [`${user.name}@local.test`], 'Subject: later\r\n\r\nafter the restart\r\n');
  await first.waitLog(/mda\[\d+\] info deferred .*EACCES/);
  const envFile = (() => {
    const q = path.join(first.spool, 'queue');
    const b = fs.readdirSync(q)[0]!;
    const m = fs.readdirSync(path.join(q, b))[0]!;
    const dir = path.join(q, b, m);
    return path.join(dir, fs.readdirSync(dir).find((f) => f !== 'message')!);
  })();
  for (let i = 0; i < 50 && JSON.parse(fs.readFileSync(envFile, 'utf8')).retry !== 1; i++) await new Promise((r) => setTimeout(r, 100));
  const env = JSON.parse(fs.readFileSync(envFile, 'utf8')) as { retry: number; errorline: string };
  assert.equal(env.retry, 1);
  assert.match(env.errorline, /^451 4\.2\.0 maildir .*EACCES/);
  await stopDaemon(first);
  assert.equal(queued(first).length, 1, 'still queued after the stop');
  fs.chmodSync(path.join(maildir, 'new'), 0o700);
  const second = await startDaemon({ dir: first.dir, conf: conf(port, user.name), args: ['--user', 'nobody', '--queue-user', 'nobody'] });
  runs.push(second);
  const [file] = await waitFiles(path.join(maildir, 'new'), 1);
  assert.ok(fs.readFileSync(file!, 'latin1').endsWith('Subject: later\r\n\r\nafter the restart\r\n'));
  await second.waitLog(/queue\[\d+\] info queue-loaded envelopes=1/);
});

test('a maildir path with format specifiers: expanded from the envelope, values sanitized', async () => {
  assertRoot();
  const user = ensureUserWithHome('tsmtpd-alice');
  fs.rmSync(path.join(user.home, 'Mail'), { recursive: true, force: true });
  const port = await freePort();
  const conf = [
    'table domains { local.test, Lists.Test }',
    `listen on 127.0.0.1 port ${port}`,
    'action "sorted" maildir "~/Mail/%{rcpt.domain:lowercase}/%{sender.user}"',
    'match from any for domain <domains> action "sorted"',
    '',
  ].join('\n');
  const d = await startDaemon({ conf, args: ['--user', 'nobody', '--queue-user', 'nobody'] });
  runs.push(d);
  await d.waitHealthy();
  const py = [
    'import smtplib',
    `s = smtplib.SMTP("127.0.0.1", ${port}, local_hostname="client.test")`,
    `print(s.sendmail("news.letter@remote.test", ["${user.name}@Lists.Test"], b"Subject: sorted\\r\\n\\r\\nx\\r\\n"))`,
    // slashes are atext in a local part: it still makes one path component
    `print(s.sendmail('a/.b/c@remote.test', ["${user.name}@local.test"], b"Subject: dots\\r\\n\\r\\ny\\r\\n"))`,
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const sorted = await waitFiles(path.join(user.home, 'Mail', 'lists.test', 'news.letter', 'new'), 1);
  assert.match(fs.readFileSync(sorted[0]!, 'latin1'), /Subject: sorted/);
  const dots = await waitFiles(path.join(user.home, 'Mail', 'local.test', 'a:.b:c', 'new'), 1);
  assert.match(fs.readFileSync(dots[0]!, 'latin1'), /Subject: dots/);
});

test('userbase table users: delivered as the uid:gid of the table into its home; a root entry is refused', async () => {
  assertRoot();
  const owner = ensureUserWithHome('tsmtpd-alice');
  const vhome = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-vmail-'));
  fs.chownSync(vhome, owner.uid, owner.gid);
  fs.chmodSync(vhome, 0o700);
  const rootHome = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-rootish-'));
  const port = await freePort();
  const conf = [
    `table vusers { "virtual1" = "${owner.uid}:${owner.gid}:${vhome}", "rootish" = "0:0:${rootHome}" }`,
    `listen on 127.0.0.1 port ${port}`,
    'action "virt" maildir userbase <vusers>',
    'match from any for domain "virt.test" action "virt"',
    '',
  ].join('\n');
  const d = await startDaemon({ conf, args: ['--user', 'nobody', '--queue-user', 'nobody'] });
  runs.push(d);
  await d.waitHealthy();
  send(port, ['virtual1@virt.test'], 'Subject: virtual\r\n\r\nfor a table user\r\n');
  const [file] = await waitFiles(path.join(vhome, 'Maildir', 'new'), 1);
  assert.equal(fs.statSync(file!).uid, owner.uid);
  assert.match(fs.readFileSync(file!, 'latin1'), /Subject: virtual/);
  send(port, ['rootish@virt.test'], 'Subject: root\r\n\r\nnever as root\r\n');
  await d.waitLog(/mda\[\d+\] info failed .*rcpt=rootish@virt\.test .*never delivered as root/);
  assert.deepEqual(fs.readdirSync(rootHome), [], 'nothing written for the root entry');
});

test('D06: a message that already carries Delivered-To for its destination is not delivered again (loop)', async () => {
  const { user, maildir, port, d } = await aliceDaemon();
  send(port, [`${user.name}@local.test`], `Delivered-To: ${user.name}@local.test\r\nSubject: looping\r\n\r\nagain\r\n`);
  await d.waitLog(new RegExp(`mda\\[\\d+\\] info failed .*rcpt=${user.name}@local\\.test .*554 5\\.4\\.6 Loop detected`));
  send(port, [`${user.name}@local.test`], 'Delivered-To: someone-else@local.test\r\nSubject: passing by\r\n\r\nfine\r\n');
  const [file] = await waitFiles(path.join(maildir, 'new'), 1);
  assert.match(fs.readFileSync(file!, 'latin1'), /Subject: passing by/);
  assert.equal(fs.readdirSync(path.join(maildir, 'new')).length, 1, 'the looping message was not delivered');
});

test('mail for root is never delivered as root: it waits, with a clear reason, for root to be an alias', async () => {
  const { port, d } = await aliceDaemon();
  send(port, ['root@local.test'], 'Subject: for root\r\n\r\nx\r\n');
  await d.waitLog(/mda\[\d+\] info deferred .*rcpt=root@local\.test .*no delivery as root: make root an alias of a user/);
  await d.waitLog(/root-delivery-refused/);
  const ps = spawnSync('ps', ['-o', 'user=,args=', '-e'], { encoding: 'utf8' }).stdout;
  assert.ok(!/^root\s+smtpd: deliver/m.test(ps), 'no helper runs as root');
});
