/**
 * Scenario: relaying to smarthosts (`relay host URL`), the receiving smarthost being a second
 * tsmtpd with a certificate made by the test: smtps with AUTH (the credentials of the URL's
 * label), smtp+tls (STARTTLS required), smtp (opportunistic STARTTLS), and the refusals that
 * keep mail queued: a verified route to an unverifiable certificate, STARTTLS required but not
 * offered, credentials over a cleartext route, a wrong password. The smarthost's Received
 * header tells how each message came in (ESMTPSA, ESMTPS).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hashPassword } from '../src/mail/crypt';
import { makeSelfSigned } from '../scripts/selfsigned';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon, type DaemonRun } from './daemon-harness';
import { sendOne } from './smtp-send';

let smart: DaemonRun;
let sender: DaemonRun;
let port = 0;
let erin: { name: string; uid: number; gid: number; home: string };
const smartPorts = { smtps: 0, starttls: 0, plain: 0, verify: 0 };

before(async () => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  erin = ensureUserWithHome('tsmtpd-erin');
  fs.rmSync(path.join(erin.home, 'Maildir'), { recursive: true, force: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-smarthost-'));
  fs.chmodSync(dir, 0o755);
  const pair = makeSelfSigned('smart.test');
  fs.writeFileSync(path.join(dir, 'cert.pem'), pair.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), pair.key, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'creds'), `erin ${await hashPassword('erin-pw', 'sha512')}\n`, { mode: 0o644 });
  // a CA of the test's own and a client certificate it signed, for the verifying listener
  const p = (f: string) => path.join(dir, f);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-subj', '/CN=tsmtpd test CA', '-days', '2');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('client.key'), '-out', p('client.csr'), '-subj', '/CN=sender.test');
  openssl('x509', '-req', '-in', p('client.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('client.pem'), '-days', '2');
  fs.chmodSync(p('client.key'), 0o600);
  for (const k of Object.keys(smartPorts) as (keyof typeof smartPorts)[]) smartPorts[k] = await freePort();
  smart = await startDaemon({
    conf: [
      `pki smart.test cert "${dir}/cert.pem" key "${dir}/key.pem"`,
      `table creds file:${dir}/creds`,
      `ca clients cert "${dir}/ca.pem"`,
      'table dests { a.test, b.test, c.test, d.test, e.test, f.test, g.test, h.test, i.test, j.test }',
      `listen on 127.0.0.1 port ${smartPorts.verify} tls-require verify pki smart.test ca clients`,
      `listen on 127.0.0.1 port ${smartPorts.smtps} smtps pki smart.test auth <creds>`,
      `listen on 127.0.0.1 port ${smartPorts.starttls} tls pki smart.test`,
      `listen on 127.0.0.1 port ${smartPorts.plain}`,
      'action "store" maildir',
      'match from any for domain <dests> action "store"',
      '',
    ].join('\n'),
  });
  await smart.waitHealthy();
  port = await freePort();
  const dead = await freePort(); // nothing listens there
  const s = smartPorts;
  sender = await startDaemon({
    conf: [
      'table secrets { good = "erin:erin-pw", wrong = "erin:not-it" }',
      `listen on 127.0.0.1 port ${port}`,
      `action "smtps-auth" relay host "smtps://good@127.0.0.1:${s.smtps}" auth <secrets> tls no-verify`,
      `action "starttls" relay host "smtp+tls://127.0.0.1:${s.starttls}" tls no-verify`,
      `action "opportunistic" relay host "smtp://127.0.0.1:${s.starttls}"`,
      `action "verified" relay host "smtps://good@127.0.0.1:${s.smtps}" auth <secrets>`,
      `action "tls-missing" relay host "smtp+tls://127.0.0.1:${s.plain}" tls no-verify`,
      `action "cleartext-auth" relay host "smtp+notls://good@127.0.0.1:${s.plain}" auth <secrets>`,
      `action "wrong-password" relay host "smtps://wrong@127.0.0.1:${s.smtps}" auth <secrets> tls no-verify`,
      `action "list" relay host { "smtp+notls://127.0.0.1:${dead}", "smtp+notls://127.0.0.1:${s.plain}" }`,
      `pki client cert "${dir}/client.pem" key "${dir}/client.key"`,
      `action "client-cert" relay host "smtp+tls://127.0.0.1:${s.verify}" pki client tls no-verify protocols "tlsv1.3"`,
      `action "no-cert" relay host "smtp+tls://127.0.0.1:${s.verify}" tls no-verify`,
      ...['smtps-auth', 'starttls', 'opportunistic', 'verified', 'tls-missing', 'cleartext-auth', 'wrong-password', 'list', 'client-cert', 'no-cert'].map((a, i) => `match from src 127.0.0.1 for domain "${'abcdefghij'[i]}.test" action "${a}"`),
      '',
    ].join('\n'),
  });
  await sender.waitHealthy();
});

after(async () => {
  await stopDaemon(sender);
  await stopDaemon(smart);
});

/** the message with this subject in erin's maildir (on the smarthost's side), once there */
async function received(subject: string): Promise<string> {
  const dir = path.join(erin.home, 'Maildir', 'new');
  for (let i = 0; i < 300; i++) {
    const hit = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'latin1')).find((m) => m.includes(`Subject: ${subject}\r\n`)) : undefined;
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no message "${subject}" reached the smarthost`);
}

/** the smarthost's own Received header (the first one) */
function hop(message: string): string {
  return /^Received:(?:.*\r\n[ \t].*)*/m.exec(message)![0];
}

test('smtps with AUTH: the label\'s credentials, and the smarthost says ESMTPSA', async () => {
  await sendOne(port, `${erin.name}@a.test`, 'via smtps');
  assert.match(hop(await received('via smtps')), /with ESMTPSA id /);
});

test('smtp+tls: STARTTLS, then the message (ESMTPS)', async () => {
  await sendOne(port, `${erin.name}@b.test`, 'via starttls');
  assert.match(hop(await received('via starttls')), /with ESMTPS id /);
});

test('smtp: STARTTLS used when offered, without verification', async () => {
  await sendOne(port, `${erin.name}@c.test`, 'opportunistic');
  assert.match(hop(await received('opportunistic')), /with ESMTPS id /);
});

test('a list of relay hosts: deliveries take turns starting with each; one that is down is passed over for the next', async () => {
  await sendOne(port, `${erin.name}@h.test`, 'list one');
  await received('list one');
  await sendOne(port, `${erin.name}@h.test`, 'list two');
  await received('list two');
  assert.match(sender.logs(), /mta-connect-failed: 421 4\.4\.1 cannot connect to 127\.0\.0\.1 \[127\.0\.0\.1\]:\d+: ECONNREFUSED/, 'one of the two started with the host that is down');
});

test('relay pki: the client certificate is presented to a server that verifies it (TLS 1.3 as protocols says); without it the mail waits', async () => {
  await sendOne(port, `${erin.name}@i.test`, 'with a client cert');
  assert.match(hop(await received('with a client cert')), /with ESMTPS id /);
  const msgid = await sendOne(port, `${erin.name}@j.test`, 'without a client cert');
  const line = await sender.waitLog(new RegExp(`mta\\[\\d+\\] info deferred evpid=${msgid}[0-9a-f]{8} .*`));
  assert.match(line, /421 4\.7\.10 TLS with 127\.0\.0\.1 failed|421 4\.4\.2|connection closed/);
});

test('refusals keep the mail queued with a reason: unverifiable certificate, no STARTTLS, credentials in clear, wrong password', async () => {
  const cases: [string, RegExp][] = [
    ['d.test', /TLS with 127\.0\.0\.1 failed: .*(?:self[- ]signed|certificate)/i],
    ['e.test', /4\.7\.10 127\.0\.0\.1 does not offer STARTTLS/],
    ['f.test', /4\.7\.10 127\.0\.0\.1: credentials are never sent without TLS/],
    ['g.test', /535 5\.7\.8/],
  ];
  for (const [domain, why] of cases) {
    const msgid = await sendOne(port, `${erin.name}@${domain}`, `refused ${domain}`);
    const line = await sender.waitLog(new RegExp(`mta\\[\\d+\\] info deferred evpid=${msgid}[0-9a-f]{8} rcpt=${erin.name}@${domain.replace('.', '\\.')} .*`));
    assert.match(line, why, domain);
  }
  const dir = path.join(erin.home, 'Maildir', 'new');
  assert.ok(!fs.readdirSync(dir).some((f) => /Subject: refused/.test(fs.readFileSync(path.join(dir, f), 'latin1'))), 'none of them was delivered');
});
