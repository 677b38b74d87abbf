/**
 * Scenario: SMTP AUTH. A submission listener (STARTTLS required, AUTH required, a credentials
 * table with a SHA-512 crypt and a bcrypt hash, `senders`, `received-auth`), an implicit-TLS
 * listener with optional AUTH, and a STARTTLS listener checking system passwords (a real user
 * with a SHA-512 shadow entry). Real clients: swaks and Python's smtplib (its docmd sends a
 * command byte for byte). Covers from the reliability checklist: P17, R03 (up to the queued
 * relay envelope: outbound delivery is another issue), R04, R05, R07, R08, R09, R10.
 * Each test connects from its own 127.0.0.x address, so the per-address failure limit of one
 * test never touches another.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hashPassword } from '../src/mail/crypt';
import { makeSelfSigned } from '../scripts/selfsigned';
import { assertRoot, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';

let d: DaemonRun;
const ports = { submission: 0, smtps: 0, system: 0, masquerade: 0 };
const SYSTEM_USER = 'tsmtpd-carol';
const SYSTEM_PASSWORD = 'Carol-secret-1';
let carol: { name: string; uid: number; gid: number; home: string };

function python(code: string, source: string): string {
  const prelude = [
    'import smtplib, ssl, base64',
    'ctx = ssl.create_default_context()',
    'ctx.check_hostname = False',
    'ctx.verify_mode = ssl.CERT_NONE',
    `SRC = ("${source}", 0)`,
    'def b64(s): return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()',
    'def show(tag, r): print(tag, r[0], r[1].decode(errors="replace"))',
    'def smtps(src=SRC):',
    `    s = smtplib.SMTP_SSL("127.0.0.1", ${ports.smtps}, local_hostname="client.test", context=ctx, source_address=src)`,
    '    s.ehlo()',
    '    return s',
    'def submission(tls=True):',
    `    s = smtplib.SMTP("127.0.0.1", ${ports.submission}, local_hostname="client.test", source_address=SRC)`,
    '    s.ehlo()',
    '    if tls: s.starttls(context=ctx); s.ehlo()',
    '    return s',
    '',
  ].join('\n');
  const r = spawnSync('python3', ['-c', prelude + code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return r.stdout;
}

function plain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}

function spoolEnvelopes(): Record<string, unknown>[] {
  const q = path.join(d.spool, 'queue');
  const out: Record<string, unknown>[] = [];
  if (!fs.existsSync(q)) return out;
  for (const bucket of fs.readdirSync(q)) {
    for (const msgid of fs.readdirSync(path.join(q, bucket))) {
      const dir = path.join(q, bucket, msgid);
      for (const f of fs.readdirSync(dir).filter((n) => /^[0-9a-f]{16}$/.test(n))) {
        out.push(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>);
      }
    }
  }
  return out;
}

before(async () => {
  assertRoot();
  carol = ensureUserWithHome(SYSTEM_USER);
  fs.rmSync(path.join(carol.home, 'Maildir'), { recursive: true, force: true }); // no mail of an earlier run
  execFileSync('chpasswd', ['-c', 'SHA512'], { input: `${SYSTEM_USER}:${SYSTEM_PASSWORD}\n` });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-auth-'));
  fs.chmodSync(dir, 0o755);
  const pair = makeSelfSigned('mail.test');
  fs.writeFileSync(path.join(dir, 'cert.pem'), pair.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), pair.key, { mode: 0o600 });
  const creds = [`alice ${await hashPassword('alice-pw', 'sha512')}`, `bob ${await hashPassword('bob-pw', 'bcrypt')}`, ''].join('\n');
  fs.writeFileSync(path.join(dir, 'creds'), creds, { mode: 0o640 });
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const conf = [
    `pki mail.test cert "${dir}/cert.pem" key "${dir}/key.pem"`,
    'table domains { local.test }',
    `table creds file:${dir}/creds`,
    'table allowed { alice = "alice@local.test, @alice.test", bob = "bob@local.test" }',
    `listen on 127.0.0.1 port ${ports.submission} tls-require pki mail.test auth <creds> senders <allowed> received-auth`,
    `listen on 127.0.0.1 port ${ports.smtps} smtps pki mail.test auth-optional <creds>`,
    `listen on 127.0.0.1 port ${ports.system} tls pki mail.test auth received-auth`,
    `listen on 127.0.0.1 port ${ports.masquerade} smtps pki mail.test auth <creds> senders <allowed> masquerade`,
    'action "local" maildir',
    'action "out" relay',
    'match from any for domain <domains> action "local"',
    'match from auth for any action "out"',
    '',
  ].join('\n');
  d = await startDaemon({ conf, args: ['--user', 'nobody', '--queue-user', 'nobody'] });
  await d.waitHealthy();
  await d.waitLog(new RegExp(`smtp-listening address=127\\.0\\.0\\.1 port=${ports.system}`));
});

after(async () => {
  await stopDaemon(d);
});

test('swaks: AUTH PLAIN and LOGIN after STARTTLS deliver; the Received header says ESMTPSA and, with received-auth, who', async () => {
  for (const [method, user, pw] of [['PLAIN', 'alice', 'alice-pw'], ['LOGIN', 'bob', 'bob-pw']] as const) {
    const r = spawnSync('swaks', ['--server', `127.0.0.1:${ports.submission}`, '--local-interface', '127.0.1.1', '--tls', '--auth', method, '--auth-user', user,
      '--auth-password', pw, '--from', `${user}@local.test`, '--to', `${SYSTEM_USER}@local.test`, '--header', `Subject: via ${method}`, '--body', 'hello'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /<~ {1,2}235 2\.7\.0 /);
  }
  const newDir = path.join(carol.home, 'Maildir', 'new');
  for (let i = 0; i < 100 && (!fs.existsSync(newDir) || fs.readdirSync(newDir).length < 2); i++) await new Promise((r) => setTimeout(r, 100));
  const bodies = fs.readdirSync(newDir).map((f) => fs.readFileSync(path.join(newDir, f), 'latin1'));
  for (const user of ['alice', 'bob']) {
    const b = bodies.find((x) => x.includes(`From: ${user}@local.test`));
    assert.ok(b, `${user}'s message delivered`);
    assert.match(b, /^Delivered-To: tsmtpd-carol@local\.test\r\nReceived: from \S+ \(unknown \[127\.0\.1\.1\]\)\r\n\tby \S+ \(tsmtpd\) with ESMTPSA id [0-9a-f]{8}\r\n\t\(TLSv1\.[23]:[A-Z0-9_-]+:\d+:NO auth=yes user=(alice|bob)\)\r\n\tfor </);
    assert.match(b, new RegExp(`auth=yes user=${user}\\)`));
  }
});

test('swaks: a wrong password gets 535 5.7.8 and no mail is taken', () => {
  const r = spawnSync('swaks', ['--server', `127.0.0.1:${ports.submission}`, '--local-interface', '127.0.1.2', '--tls', '--auth', 'PLAIN', '--auth-user', 'alice',
    '--auth-password', 'wrong', '--from', 'alice@local.test', '--to', `${SYSTEM_USER}@local.test`], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /<~\* 535 5\.7\.8 Authentication failed/);
  assert.doesNotMatch(r.stdout, / ~> MAIL FROM/, 'the client gave up before MAIL');
});

test('system passwords: the shadow entry of a real user is checked by the parent', () => {
  const out = python(`
s = smtplib.SMTP("127.0.0.1", ${ports.system}, local_hostname="client.test", source_address=SRC)
s.starttls(context=ctx); s.ehlo()
show("wrong", s.docmd("AUTH", "PLAIN " + b64("\\0${SYSTEM_USER}\\0nope")))
show("nouser", s.docmd("AUTH", "PLAIN " + b64("\\0no-such-user-x\\0nope")))
s.close()
s = smtplib.SMTP("127.0.0.1", ${ports.system}, local_hostname="client.test", source_address=SRC)
s.starttls(context=ctx); s.ehlo()
show("right", s.login("${SYSTEM_USER}", "${SYSTEM_PASSWORD}"))
show("mail", s.mail("${SYSTEM_USER}@local.test"))
show("rcpt", s.rcpt("someone@remote.test"))
s.quit()
`, '127.0.1.3');
  assert.match(out, /^wrong 535 5\.7\.8 /m);
  assert.match(out, /^nouser 535 5\.7\.8 /m);
  assert.match(out, /^right 235 2\.7\.0 /m);
  assert.match(out, /^mail 250 /m);
  assert.match(out, /^rcpt 250 /m);
});

test('P17 AUTH decoder robustness: malformed PLAIN tokens get 501 5.5.2, a cancelled LOGIN 501, then a valid PLAIN 235', () => {
  const bad = ['=', 'a', 'aaa', 'aaaa=', '====', 'A'.repeat(10240), '***', 'AA==', 'dQB1', Buffer.from('\0al\r\nX: y\0pw').toString('base64')];
  const out = python(`
s = smtps()
for i, tok in enumerate(${JSON.stringify(bad)}):
    show("bad%d" % i, s.docmd("AUTH", "PLAIN " + tok))
show("login", s.docmd("AUTH", "LOGIN"))
show("cancel", s.docmd("*"))
show("valid", s.docmd("AUTH", "PLAIN ${plain('alice', 'alice-pw')}"))
s.quit()
`, '127.0.1.4');
  for (let i = 0; i < bad.length; i++) assert.match(out, new RegExp(`^bad${i} 501 5\\.5\\.2 `, 'm'), `token ${i}: ${out}`);
  assert.match(out, /^login 334 /m);
  assert.match(out, /^cancel 501 /m);
  assert.match(out, /^valid 235 2\.7\.0 /m);
  assert.ok(!/ 235 /.test(out.split('\n').filter((l) => l.startsWith('bad')).join('\n')));
});

test('R03 authenticated relay: after AUTH a remote recipient is accepted and queued for the relay action, with a Message-ID added', () => {
  const before = spoolEnvelopes().length;
  const out = python(`
s = smtps()
show("anon", s.docmd("MAIL", "FROM:<alice@local.test>"))
show("anon-rcpt", s.docmd("RCPT", "TO:<victim@remote.test>"))
s.rset()
show("auth", s.login("alice", "alice-pw"))
print("sent", s.sendmail("alice@local.test", ["friend@remote.test"], b"Subject: out\\r\\n\\r\\nrelayed\\r\\n"))
s.quit()
`, '127.0.1.5');
  assert.match(out, /^anon 250 /m);
  assert.match(out, /^anon-rcpt 550 5\.7\.1 /m, 'no relay before AUTH');
  assert.match(out, /^auth 235 /m);
  assert.match(out, /^sent \{\}$/m);
  const envs = spoolEnvelopes();
  assert.equal(envs.length, before + 1);
  const e = envs.find((x) => x.rcpt === 'friend@remote.test');
  assert.ok(e, JSON.stringify(envs));
  assert.equal(e.action, 'out');
  assert.equal(e.auth, 'alice');
  // a submission without a Message-ID gets one, after the Received header
  const msgid = String(e.msgid);
  const stored = fs.readFileSync(path.join(d.spool, 'queue', msgid.slice(0, 2), msgid, 'message'), 'latin1');
  assert.match(stored, new RegExp(`^Received: [^]*?\r\nMessage-ID: <${msgid}\\.[0-9a-f]{12}@[^>]+>\r\nSubject: out\r\n\r\nrelayed\r\n$`));
});

test('R04 AUTH on cleartext: no AUTH in EHLO, and valid and invalid credentials get the same 538 5.7.11', () => {
  const out = python(`
s = submission(tls=False)
print("ehlo-auth", s.has_extn("auth"))
show("valid", s.docmd("AUTH", "PLAIN ${plain('alice', 'alice-pw')}"))
show("invalid", s.docmd("AUTH", "PLAIN ${plain('alice', 'nope')}"))
s.starttls(context=ctx); s.ehlo()
print("tls-ehlo-auth", s.has_extn("auth"), s.esmtp_features.get("auth"))
s.quit()
`, '127.0.1.6');
  assert.match(out, /^ehlo-auth False$/m);
  assert.match(out, /^valid 538 5\.7\.11 /m);
  assert.match(out, /^invalid 538 5\.7\.11 /m);
  assert.match(out, /^tls-ehlo-auth True\s+PLAIN LOGIN$/m);
});

test('R05 submission without AUTH: MAIL gets 530 5.7.0 Authentication required', () => {
  const out = python(`
s = submission()
show("mail", s.docmd("MAIL", "FROM:<alice@local.test>"))
show("rcpt", s.docmd("RCPT", "TO:<x@remote.test>"))
s.quit()
`, '127.0.1.7');
  assert.match(out, /^mail 530 5\.7\.0 Authentication required$/m);
  assert.match(out, /^rcpt 503 /m);
});

test('R07 senders: an authenticated user may send only as the addresses the senders table lists', () => {
  const out = python(`
s = submission()
show("auth", s.login("alice", "alice-pw"))
show("bob", s.docmd("MAIL", "FROM:<bob@local.test>"))
show("own", s.docmd("MAIL", "FROM:<alice@local.test>"))
s.rset()
show("domain", s.docmd("MAIL", "FROM:<anything@alice.test>"))
s.quit()
`, '127.0.1.8');
  assert.match(out, /^auth 235 /m);
  assert.match(out, /^bob 553 5\.7\.1 /m);
  assert.match(out, /^own 250 /m);
  assert.match(out, /^domain 250 /m);
});

test('R08 brute force in one session: 535 5.7.8, a slower 535, then 421 and close', () => {
  const out = python(`
import time
s = smtps()
for i in range(3):
    t = time.time()
    code, msg = s.docmd("AUTH", "PLAIN ${plain('alice', 'wrong')}")
    print("try%d" % i, code, msg.decode(), round(time.time() - t, 2))
try:
    print("after", s.docmd("NOOP")[0])
except smtplib.SMTPServerDisconnected:
    print("after closed")
`, '127.0.1.9');
  assert.match(out, /^try0 535 5\.7\.8 /m);
  const second = /^try1 535 5\.7\.8 .* ([\d.]+)$/m.exec(out);
  assert.ok(second, out);
  assert.ok(Number(second[1]) >= 0.9, `the second failure is answered after a delay (${second[1]} s)`);
  assert.match(out, /^try2 421 4\.7\.0 /m);
  assert.match(out, /^after closed$/m);
});

test('R09 brute force across sessions: after 10 failures from an address, AUTH from it gets 454 4.7.0 and is logged; other addresses are not affected', async () => {
  const out = python(`
for i in range(11):
    s = smtps()
    code, msg = s.docmd("AUTH", "PLAIN ${plain('alice', 'wrong')}")
    print("try%d" % i, code, msg.decode())
    s.close()
s = smtps()
show("right-password", s.docmd("AUTH", "PLAIN ${plain('alice', 'alice-pw')}"))
s.close()
s = smtps(("127.0.1.11", 0))
show("other-address", s.docmd("AUTH", "PLAIN ${plain('alice', 'alice-pw')}"))
s.close()
`, '127.0.1.10');
  for (let i = 0; i < 10; i++) assert.match(out, new RegExp(`^try${i} 535 5\\.7\\.8 `, 'm'));
  assert.match(out, /^try10 454 4\.7\.0 /m);
  assert.match(out, /^right-password 454 4\.7\.0 /m);
  assert.match(out, /^other-address 235 /m);
  await d.waitLog(/auth-rate-limited.*127\.0\.1\.10/);
});

test('R10 AUTH state: a second AUTH after 235, and AUTH inside a transaction, get 503 5.5.1', () => {
  const out = python(`
s = smtps()
show("mail", s.docmd("MAIL", "FROM:<x@remote.test>"))
show("in-tx", s.docmd("AUTH", "PLAIN ${plain('alice', 'alice-pw')}"))
s.rset()
show("first", s.docmd("AUTH", "PLAIN ${plain('alice', 'alice-pw')}"))
show("second", s.docmd("AUTH", "PLAIN ${plain('bob', 'bob-pw')}"))
s.quit()
`, '127.0.1.12');
  assert.match(out, /^mail 250 /m);
  assert.match(out, /^in-tx 503 5\.5\.1 /m);
  assert.match(out, /^first 235 /m);
  assert.match(out, /^second 503 5\.5\.1 /m);
});

test('senders masquerade: the From header of a submission is replaced by the envelope sender', () => {
  const out = python(`
s = smtplib.SMTP_SSL("127.0.0.1", ${ports.masquerade}, local_hostname="client.test", context=ctx, source_address=SRC)
s.ehlo()
show("auth", s.login("alice", "alice-pw"))
show("other", s.docmd("MAIL", "FROM:<bob@local.test>"))
s.rset()
print("sent", s.sendmail("alice@local.test", ["boss@remote.test"], b'From: "The CEO" <ceo@corp.test>\\r\\nSubject: masked\\r\\n\\r\\nwire money\\r\\n'))
s.quit()
`, '127.0.1.13');
  assert.match(out, /^auth 235 /m);
  assert.match(out, /^other 553 5\.7\.1 /m, 'the senders table still applies');
  assert.match(out, /^sent \{\}$/m);
  const e = spoolEnvelopes().find((x) => x.rcpt === 'boss@remote.test');
  assert.ok(e);
  const msgid = String(e.msgid);
  const stored = fs.readFileSync(path.join(d.spool, 'queue', msgid.slice(0, 2), msgid, 'message'), 'latin1');
  assert.match(stored, /^From: <alice@local\.test>\r$/m);
  assert.ok(!stored.includes('ceo@corp.test'), 'the forged From is gone');
  assert.match(stored, /^Subject: masked\r$/m);
});
