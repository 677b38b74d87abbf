/**
 * Scenario: the delivery-safety cases of the reliability checklist not covered elsewhere, on
 * one daemon delivering to two real users' maildirs: D04 (a Bcc header reaches no copy, and the
 * Received header names no other recipient), D05 (99 Received headers pass, 101 are a loop:
 * 554 5.4.6, nothing stored), D07 (an alias loop ends: the recipient is refused, nothing is
 * delivered and nothing queued), D10 (one report for a message with a failed (an mda command
 * that exits 67) and a delivered recipient: from MAILER-DAEMON with the null sender, multipart/report, only the failed
 * recipient, the original headers and not the body), D11 (no backscatter: an unknown user is
 * refused at RCPT, nothing is queued, so nothing can bounce).
 * Also: virtual users delivered as one system user (`virtual <t> user X`, sub-address and
 * catch-all lookups, a maildir path from the destination).
 * Elsewhere: D01, D02 (t-18), D03 (t-14), D06 (t-04), D09 (t-13), D12, D14 (t-19), D13 (t-24);
 * D08 (MX to self) needs outbound relay.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { RawSmtp } from './smtp-raw';
import { waitFor } from './wait-for';

let d: DaemonRun;
let port = 0;
let alice: { name: string; uid: number; gid: number; home: string };
let bob: { name: string; uid: number; gid: number; home: string };
/** the D10 sender, whose mail goes to a command that records the envelope sender */
let carol: { name: string; uid: number; gid: number; home: string };
let scripts = '';
/** the mail root of the virtual domain, owned by carol (its delivery user) */
let vroot = '';

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  alice = ensureUserWithHome('tsmtpd-alice');
  bob = ensureUserWithHome('tsmtpd-bob');
  carol = ensureUserWithHome('tsmtpd-carol');
  for (const u of [alice, bob, carol]) {
    fs.rmSync(path.join(u.home, 'Maildir'), { recursive: true, force: true });
    fs.rmSync(path.join(u.home, '.forward'), { force: true });
  }
  for (const f of ['d10.sender', 'd10.report']) fs.rmSync(path.join(carol.home, f), { force: true });
  scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-d10-'));
  fs.chmodSync(scripts, 0o755);
  fs.writeFileSync(path.join(scripts, 'record'), '#!/bin/sh\nprintf \'<%s>\\n\' "$SENDER" >> "$HOME/d10.sender"\ncat >> "$HOME/d10.report"\n', { mode: 0o755 });
  vroot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-vmail-'));
  fs.chmodSync(vroot, 0o755);
  fs.chownSync(vroot, carol.uid, carol.gid);
  port = await freePort();
  const conf = [
    `listen on 127.0.0.1 port ${port}`,
    `table aliases { loopa = loopb, loopb = loopa, broken = ${bob.name} }`,
    'action "local" maildir alias <aliases>',
    // a local delivery that fails for good: the mda command says so (exit 67)
    'action "broken" mda "/bin/sh -c \\"echo mailbox disabled; exit 67\\"" alias <aliases>',
    `action "record" mda "${scripts}/record"`,
    'match from any for rcpt-to "broken@safe.test" action "broken"',
    `match from any for rcpt-to "${carol.name}@safe.test" action "record"`,
    // virtual users: one system user (carol) holds every mailbox, named by the virtual table
    'table vmap { "info@virt.test" = "info-box", "@virt.test" = "catchall" }',
    `action "vmail" maildir "${vroot}/%{dest.domain}/%{dest.user}" virtual <vmap> user ${carol.name}`,
    'match from any for domain "virt.test" action "vmail"',
    'match from any for domain "safe.test" action "local"',
    '',
  ];
  d = await startDaemon({ conf: conf.join('\n') });
  await d.waitHealthy();
});

after(async () => {
  await stopDaemon(d);
  fs.rmSync(scripts, { recursive: true, force: true });
  fs.rmSync(vroot, { recursive: true, force: true });
});

/** the messages in the user's Maildir/new, as text */
function maildir(user: { home: string }): string[] {
  const dir = path.join(user.home, 'Maildir', 'new');
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'latin1')) : [];
}

/** one message to several recipients through Python's smtplib; the refused ones, by address */
function smtplib(from: string, rcpts: string[], message: string, mailOptions: string[] = []): Record<string, [number, string]> {
  const py = [
    'import json, smtplib',
    `s = smtplib.SMTP("127.0.0.1", ${port}, local_hostname="client.test")`,
    `r = s.sendmail(${JSON.stringify(from)}, ${JSON.stringify(rcpts)}, ${JSON.stringify(message)}.encode(), mail_options=${JSON.stringify(mailOptions)})`,
    'print(json.dumps({k: [v[0], v[1].decode()] for k, v in r.items()}))',
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, [number, string]>;
}

test('D04: a Bcc header reaches neither copy, and the Received header of the To recipient does not name the other', async () => {
  const to = `${alice.name}@safe.test`;
  const bcc = `${bob.name}@safe.test`;
  smtplib('s@remote.test', [to, bcc], `To: ${to}\r\nBcc: ${bcc}\r\nSubject: D04 blind\r\n\r\nfor your eyes\r\n`);
  const a = await waitFor('alice', () => maildir(alice).find((m) => m.includes('Subject: D04 blind')));
  const b = await waitFor('bob', () => maildir(bob).find((m) => m.includes('Subject: D04 blind')));
  for (const [who, m] of [['alice', a], ['bob', b]] as const) {
    assert.doesNotMatch(m, /^bcc:/im, `${who}'s copy has no Bcc field`);
    assert.match(m, /\r\n\r\nfor your eyes\r\n$/, `${who}'s copy has its body`);
  }
  const received = /^Received:(?:.*\r\n[ \t].*)*/m.exec(a)![0];
  assert.ok(!received.includes(bob.name), `alice's Received header does not name bob: ${received}`);
});

test('D05: 99 Received headers are delivered; 101 are a loop: 554 5.4.6 at the end of DATA, nothing stored', async () => {
  const hops = (n: number) => Array.from({ length: n }, (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; Thu, 1 Jan 2026 00:00:00 +0000\r\n`).join('');
  const c = await RawSmtp.connect(port);
  await c.reply();
  await c.cmd('EHLO client.test');
  for (const [n, code] of [[99, 250], [101, 554]] as const) {
    assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
    assert.equal((await c.cmd(`RCPT TO:<${alice.name}@safe.test>`)).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    const r = await c.cmd(`${hops(n)}Subject: D05 ${n} hops\r\n\r\nx\r\n.`);
    assert.equal(r.code, code, `${n} hops: ${r.text}`);
    if (code === 554) assert.match(r.text, /^5\.4\.6 /);
  }
  c.close();
  await waitFor('the 99-hop message', () => maildir(alice).find((m) => m.includes('Subject: D05 99 hops')));
  assert.ok(!maildir(alice).some((m) => m.includes('Subject: D05 101 hops')), 'the looping message is not delivered');
  assert.doesNotMatch(d.logs(), /message-committed.*\n(?:.*\n)*.*D05 101/, 'and not queued');
});

test('D07: an alias loop (a -> b, b -> a) ends: the recipient is refused with a 5xx, nothing delivered, nothing queued', async () => {
  const before = (d.logs().match(/message-committed/g) ?? []).length;
  const c = await RawSmtp.connect(port);
  await c.reply();
  await c.cmd('EHLO client.test');
  assert.equal((await c.cmd('MAIL FROM:<s@remote.test>')).code, 250);
  const r = await c.cmd('RCPT TO:<loopa@safe.test>');
  assert.ok(r.code >= 500 && r.code < 600, `refused for good: ${r.code} ${r.text}`);
  assert.match(r.text, /^5\.\d+\.\d+ /);
  assert.equal((await c.cmd('RSET')).code, 250, 'the session goes on');
  c.close();
  assert.equal((d.logs().match(/message-committed/g) ?? []).length, before);
});

test('D10: one report for a message with one failed and one delivered recipient: null sender, multipart/report, only the failure, headers without the body', async () => {
  const sender = `${carol.name}@safe.test`;
  const ok = `${alice.name}@safe.test`;
  const refused = smtplib(sender, [ok, 'broken@safe.test'], `To: ${ok}\r\nSubject: D10 report\r\n\r\nsecret body text\r\n`, ['RET=HDRS']);
  assert.deepEqual(refused, {}, 'both recipients accepted: the failure comes at delivery');
  const file = path.join(carol.home, 'd10.report');
  const report = await waitFor('the report', () => (fs.existsSync(path.join(carol.home, 'd10.sender')) ? fs.readFileSync(file, 'latin1') : undefined));
  await waitFor('alice', () => maildir(alice).find((m) => m.includes('Subject: D10 report')));
  assert.equal(fs.readFileSync(path.join(carol.home, 'd10.sender'), 'utf8'), '<>\n', 'sent with MAIL FROM:<>, once');
  assert.match(report, /^From: .*MAILER-DAEMON@/im);
  assert.match(report, /^Content-Type: multipart\/report;[^\r\n]*report-type=delivery-status/im);
  assert.match(report, /Final-Recipient: rfc822;\s*broken@safe\.test/i);
  assert.match(report, /^Action: failed/im);
  assert.match(report, /^Status: 5\.\d+\.\d+/im);
  const [reportParts, returned] = report.split(/^Content-Type: text\/rfc822-headers/im);
  assert.ok(returned !== undefined, 'the original headers are a text/rfc822-headers part');
  assert.ok(!reportParts!.includes(alice.name), 'the delivered recipient is not named in the report (only in the returned To: header)');
  assert.match(report, /Subject: D10 report/, 'the original headers are returned');
  assert.ok(!report.includes('secret body text'), 'the body is not');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(fs.readFileSync(path.join(carol.home, 'd10.sender'), 'utf8'), '<>\n', 'one report, no second one');
});

test('D11: no backscatter: an unknown local user is refused at RCPT with 550 5.1.1 and nothing is queued', async () => {
  const before = (d.logs().match(/message-committed/g) ?? []).length;
  const c = await RawSmtp.connect(port);
  await c.reply();
  await c.cmd('EHLO client.test');
  assert.equal((await c.cmd('MAIL FROM:<someone@remote.test>')).code, 250);
  const r = await c.cmd('RCPT TO:<nosuch-user@safe.test>');
  assert.equal(r.code, 550);
  assert.match(r.text, /^5\.1\.1 /);
  assert.equal((await c.cmd('DATA')).code, 503, 'no recipient: no DATA');
  c.close();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((d.logs().match(/message-committed/g) ?? []).length, before);
});

test('virtual users with one delivery user: the table names the mailbox (sub-address and catch-all too), the files are that user\'s', async () => {
  smtplib('s@remote.test', ['info@virt.test', 'info+news@virt.test', 'anyone@virt.test'], 'Subject: to virtual\r\n\r\nhello\r\n');
  const inbox = (box: string) => {
    const dir = path.join(vroot, 'virt.test', box, 'new');
    return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
  };
  const info = await waitFor('info-box', () => (inbox('info-box').length >= 2 ? inbox('info-box') : undefined));
  const catchall = await waitFor('catchall', () => (inbox('catchall').length >= 1 ? inbox('catchall') : undefined));
  assert.equal(info.length, 2, 'info@ and info+news@ (the sub-address is looked up after the whole address)');
  assert.equal(catchall.length, 1);
  for (const f of [...info, ...catchall]) assert.equal(fs.statSync(f).uid, carol.uid, 'written as the action\'s user');
});
