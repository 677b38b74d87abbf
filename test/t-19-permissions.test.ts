/**
 * Scenario: file permissions and header safety. Covers from the reliability checklist: D14
 * (started with umask 000, the spool's entries are private to the queue user and the delivered
 * file is 0600, the recipient's) and D12 (what the client says in HELO never becomes a header
 * line or a header field of its own in the Received header).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { RawSmtp } from './smtp-raw';
import { waitFor } from './wait-for';

let d: DaemonRun;
let port = 0;
let queueUser: { uid: number };
let rcpt: { name: string; uid: number; home: string };

before(async () => {
  assertRoot();
  queueUser = ensureUser('_smtpq');
  ensureUser('_smtpd');
  rcpt = ensureUserWithHome('tsmtpd-alice');
  fs.rmSync(path.join(rcpt.home, 'Maildir'), { recursive: true, force: true });
  port = await freePort();
  const conf = [`listen on 127.0.0.1 port ${port}`, 'action "local" maildir', 'match from any for domain "local.test" action "local"', ''].join('\n');
  // umask 000 for the whole daemon: every mode must come from the code, not the umask
  d = await startDaemon({ conf, wrap: ['/bin/sh', '-c', 'umask 000 && exec "$0" "$@"'] });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
});

async function send(helo: string, subject: string): Promise<string> {
  const c = await RawSmtp.connect(port);
  assert.equal((await c.reply()).code, 220);
  assert.equal((await c.cmd(`EHLO ${helo}`)).code, 250);
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
  assert.equal((await c.cmd(`RCPT TO:<${rcpt.name}@local.test>`)).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  const r = await c.cmd(`Subject: ${subject}\r\n\r\nbody\r\n.`);
  assert.equal(r.code, 250, r.text);
  c.close();
  return /^2\.0\.0 ([0-9a-f]{8}) /.exec(r.text)![1]!;
}

test('D14: with umask 000, spool entries are the queue user\'s and private', async () => {
  fs.chmodSync(path.join(rcpt.home), 0o755);
  // keep one message in the queue: the recipient's new/ is not writable for a moment
  fs.mkdirSync(path.join(rcpt.home, 'Maildir', 'new'), { recursive: true, mode: 0o500 });
  for (const sub of ['', 'new']) fs.chownSync(path.join(rcpt.home, 'Maildir', sub), rcpt.uid, rcpt.uid);
  fs.chmodSync(path.join(rcpt.home, 'Maildir', 'new'), 0o500);
  const msgid = await send('client.test', 'permissions');
  await d.waitLog(/deferred/);
  // the queue records the deferral (a .tmp envelope renamed over the old one) just after that
  // line: walk the spool once it has, not while the .tmp comes and goes
  const msgDir = path.join(d.spool, 'queue', msgid.slice(0, 2), msgid);
  await waitFor('the deferral recorded', () => {
    const names = fs.existsSync(msgDir) ? fs.readdirSync(msgDir) : [];
    const envelopes = names.filter((n) => /^[0-9a-f]{16}$/.test(n));
    const recorded = envelopes.length > 0 && envelopes.every((n) => /"retry":[1-9]/.test(fs.readFileSync(path.join(msgDir, n), 'utf8')));
    return recorded && !names.some((n) => n.endsWith('.tmp')) ? true : undefined;
  });
  const walk = (p: string): string[] => [p, ...(fs.statSync(p).isDirectory() ? fs.readdirSync(p).flatMap((n) => walk(path.join(p, n))) : [])];
  const entries = walk(path.join(d.spool, 'queue'));
  assert.ok(entries.some((p) => p.endsWith(msgid)), 'the message is queued');
  for (const p of entries) {
    const st = fs.statSync(p);
    assert.equal(st.mode & 0o077, 0, `${p} is private (${(st.mode & 0o777).toString(8)})`);
    assert.equal(st.uid, queueUser.uid, `${p} belongs to the queue user`);
  }
  fs.chmodSync(path.join(rcpt.home, 'Maildir', 'new'), 0o700);
  fs.rmSync(path.join(rcpt.home, 'Maildir'), { recursive: true, force: true });
});

test('D12: the HELO name cannot inject a header line or a field into the Received header (D14: the delivered file is 0600, the recipient\'s)', async () => {
  for (const helo of ['evil.test;by attacker', 'evil.test (spoofed)', 'a\tb']) {
    const c = await RawSmtp.connect(port);
    assert.equal((await c.reply()).code, 220);
    assert.equal((await c.cmd(`EHLO ${helo}`)).code, 501, `EHLO ${helo}`);
    c.close();
  }
  fs.rmSync(path.join(rcpt.home, 'Maildir'), { recursive: true, force: true });
  await send('[10.0.0.1]', 'helo');
  const dir = path.join(rcpt.home, 'Maildir', 'new');
  for (let i = 0; i < 100 && !(fs.existsSync(dir) && fs.readdirSync(dir).length > 0); i++) await new Promise((r) => setTimeout(r, 100));
  const file = path.join(dir, fs.readdirSync(dir)[0]!);
  const st = fs.statSync(file);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.uid, rcpt.uid);
  const text = fs.readFileSync(file, 'latin1');
  assert.match(text, new RegExp(`^Delivered-To: ${rcpt.name}@local\\.test\\r\\n`));
  const received = text.slice(text.indexOf('Received:'), text.indexOf('\r\nSubject:'));
  assert.match(received, /^Received: from \?10\.0\.0\.1\? \(unknown \[127\.0\.0\.1\]\)\r\n\tby /);
  assert.equal((received.match(/\[/g) ?? []).length, 1, 'one address literal in brackets: the real one');
});
