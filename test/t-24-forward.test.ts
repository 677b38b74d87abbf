/**
 * Scenario: ~/.forward, read by the parent as the recipient with OpenSMTPD's rules: a forward
 * to another user with `\user` keeping a copy; files that are unsafe (writable by the group, a
 * symbolic link, another owner) are ignored and the mail goes to the mailbox; a sticky bit on
 * the home defers the recipient (451 at RCPT); a .forward's |command and /file run as its
 * user; an alias table's |command runs as the daemon user.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { RawSmtp } from './smtp-raw';
import { sendOne } from './smtp-send';

let d: DaemonRun;
let port = 0;
let one: { name: string; uid: number; gid: number; home: string };
let two: { name: string; uid: number; gid: number; home: string };
/** where the alias table's command leaves what it got */
let drop = '';

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  one = ensureUserWithHome('tsmtpd-fwd1');
  two = ensureUserWithHome('tsmtpd-fwd2');
  for (const u of [one, two]) {
    fs.rmSync(path.join(u.home, 'Maildir'), { recursive: true, force: true });
    fs.rmSync(path.join(u.home, '.forward'), { force: true });
  }
  port = await freePort();
  drop = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-alias-pipe-'));
  fs.chmodSync(drop, 0o777);
  // an :include: file: read by lka (the daemon user), one value per line
  fs.writeFileSync(path.join(drop, 'team'), `# the team\n${one.name}\n${two.name}\n`, { mode: 0o644 });
  const conf = [
    `listen on 127.0.0.1 port ${port}`,
    `table aliases { logger = "|id -un > ${drop}/who; cat > ${drop}/msg", archive = "${drop}/archive.mbox", team = ":include:${drop}/team", both = "${one.name}, ${two.name}@fwd.test" }`,
    'action "local" maildir',
    'action "aliased" maildir alias <aliases>',
    'match from any for domain "fwd.test" action "local"',
    'match from any for domain "alias.test" action "aliased"',
    '',
  ];
  d = await startDaemon({ conf: conf.join('\n') });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
  fs.chmodSync(one.home, 0o755);
  fs.rmSync(drop, { recursive: true, force: true });
});

function writeForward(content: string, mode = 0o644, owner = one.uid): void {
  const f = path.join(one.home, '.forward');
  fs.rmSync(f, { force: true });
  fs.writeFileSync(f, content, { mode });
  fs.chmodSync(f, mode);
  fs.chownSync(f, owner, one.gid);
}

/** the message with this subject in the user's Maildir/new, once it is there */
async function inMaildir(user: { home: string }, subject: string): Promise<boolean> {
  const dir = path.join(user.home, 'Maildir', 'new');
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(dir) && fs.readdirSync(dir).some((f) => fs.readFileSync(path.join(dir, f), 'latin1').includes(`Subject: ${subject}\r\n`))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test('a .forward to another user, with \\user: both mailboxes get the message', async () => {
  writeForward(`# mine\n${two.name}\n\\${one.name}\n`);
  const msgid = await sendOne(port, `${one.name}@fwd.test`, 'forwarded');
  await d.waitLog(new RegExp(`delivered evpid=${msgid}.*dest=${two.name}@fwd\\.test`));
  assert.ok(await inMaildir(two, 'forwarded'));
  assert.ok(await inMaildir(one, 'forwarded'));
});

test('D13: unsafe .forward files are ignored (logged): world-writable (0666), group-writable, a symbolic link (to /etc/passwd, and to a file of the user), another owner', async () => {
  const cases: [string, () => void][] = [
    ['world-writable', () => writeForward(`${two.name}\n`, 0o666)],
    ['group-writable', () => writeForward(`${two.name}\n`, 0o664)],
    ['symlink-passwd', () => {
      fs.rmSync(path.join(one.home, '.forward'), { force: true });
      fs.symlinkSync('/etc/passwd', path.join(one.home, '.forward'));
    }],
    ['symlink', () => {
      const target = path.join(one.home, 'fwd-target');
      fs.writeFileSync(target, `${two.name}\n`);
      fs.chownSync(target, one.uid, one.gid);
      fs.rmSync(path.join(one.home, '.forward'), { force: true });
      fs.symlinkSync(target, path.join(one.home, '.forward'));
    }],
    ['other-owner', () => writeForward(`${two.name}\n`, 0o644, two.uid)],
  ];
  for (const [name, make] of cases) {
    make();
    const msgid = await sendOne(port, `${one.name}@fwd.test`, `unsafe ${name}`);
    await d.waitLog(new RegExp(`delivered evpid=${msgid}`));
    assert.ok(await inMaildir(one, `unsafe ${name}`), name);
    assert.match(d.logs(), new RegExp(`message-committed msgid=${msgid} envelopes=1`), `${name}: one envelope, not forwarded`);
  }
  assert.ok((d.logs().match(/forward-ignored/g) ?? []).length >= cases.length);
});

test('a sticky bit on the home defers the recipient: 451 4.2.1 at RCPT', async () => {
  writeForward(`${two.name}\n`);
  fs.chmodSync(one.home, 0o1755);
  try {
    const c = await RawSmtp.connect(port);
    await c.reply();
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<s@remote.test>');
    const r = await c.cmd(`RCPT TO:<${one.name}@fwd.test>`);
    c.close();
    assert.equal(r.code, 451);
    assert.match(r.text, /^4\.2\.1 the home of tsmtpd-fwd1 has its sticky bit set/);
  } finally {
    fs.chmodSync(one.home, 0o755);
  }
});

test('D13: a .forward |command runs as its user, never root or the daemon user (by /bin/sh, the message on stdin); a /file gets the message in mbox form', async () => {
  const saved = path.join(one.home, 'saved.mbox');
  const piped = path.join(one.home, 'piped.txt');
  fs.rmSync(saved, { force: true });
  fs.rmSync(piped, { force: true });
  writeForward(`"|id -u > ${piped}.uid; cat > ${piped}"\n${saved}\n`);
  const msgid = await sendOne(port, `${one.name}@fwd.test`, 'to a pipe and a file');
  // two envelopes, the command's and the file's: both delivered
  await d.waitLog(new RegExp(`delivered evpid=${msgid}[^\\n]*\\n(?:.*\\n)*.*delivered evpid=${msgid}`));
  assert.equal(fs.readFileSync(`${piped}.uid`, 'utf8').trim(), String(one.uid));
  assert.match(fs.readFileSync(piped, 'latin1'), /^Delivered-To: tsmtpd-fwd1@fwd\.test\r\nReceived: /);
  assert.ok(fs.readFileSync(piped, 'latin1').endsWith('\r\nSubject: to a pipe and a file\r\n\r\nbody of to a pipe and a file\r\n'));
  const mbox = fs.readFileSync(saved, 'latin1');
  assert.match(mbox, /^From s@remote\.test \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/);
  assert.match(mbox, /\nSubject: to a pipe and a file\n\nbody of to a pipe and a file\n\n$/);
  assert.equal(fs.statSync(saved).uid, one.uid);
  assert.ok(!(await inMaildir(one, 'to a pipe and a file')), 'not in the mailbox: the .forward says where');
});

test('a |command of an alias table runs as the daemon user, as in OpenSMTPD', async () => {
  const msgid = await sendOne(port, 'logger@alias.test', 'to the alias pipe');
  await d.waitLog(new RegExp(`delivered evpid=${msgid}`));
  assert.equal(fs.readFileSync(path.join(drop, 'who'), 'utf8').trim(), '_smtpd');
  assert.ok(fs.readFileSync(path.join(drop, 'msg'), 'latin1').endsWith('\r\nSubject: to the alias pipe\r\n\r\nbody of to the alias pipe\r\n'));
});

test('alias forms end to end: /file (mbox append, as the daemon user), :include: (each user of the file), a user and an address', async () => {
  for (const u of [one, two]) fs.rmSync(path.join(u.home, 'Maildir'), { recursive: true, force: true });
  fs.rmSync(path.join(one.home, '.forward'), { force: true });
  await sendOne(port, 'archive@alias.test', 'to the archive');
  const file = path.join(drop, 'archive.mbox');
  // the mbox is made before the message is written into it: wait for the whole message
  const written = () => fs.existsSync(file) && fs.readFileSync(file, 'latin1').endsWith('body of to the archive\n\n');
  for (let i = 0; i < 100 && !written(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(fs.readFileSync(file, 'latin1'), /^From s@remote\.test .*\n(?:.*\n)*Subject: to the archive\n\nbody of to the archive\n\n$/);
  assert.equal(fs.statSync(file).uid, Number(spawnSync('id', ['-u', '_smtpd'], { encoding: 'utf8' }).stdout.trim()), "the daemon user's file");
  await sendOne(port, 'team@alias.test', 'to the team');
  assert.ok(await inMaildir(one, 'to the team'));
  assert.ok(await inMaildir(two, 'to the team'));
  await sendOne(port, 'both@alias.test', 'to both');
  assert.ok(await inMaildir(one, 'to both'), 'a user');
  assert.ok(await inMaildir(two, 'to both'), 'an address, through the rules again');
});
