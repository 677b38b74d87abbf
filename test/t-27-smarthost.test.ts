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
const smartPorts = { smtps: 0, starttls: 0, plain: 0 };

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
  for (const k of Object.keys(smartPorts) as (keyof typeof smartPorts)[]) smartPorts[k] = await freePort();
  smart = await startDaemon({
    conf: [
      `pki smart.test cert "${dir}/cert.pem" key "${dir}/key.pem"`,
      `table creds file:${dir}/creds`,
      'table dests { a.test, b.test, c.test, d.test, e.test, f.test, g.test, h.test }',
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
      ...['smtps-auth', 'starttls', 'opportunistic', 'verified', 'tls-missing', 'cleartext-auth', 'wrong-password', 'list'].map((a, i) => `match from src 127.0.0.1 for domain "${'abcdefgh'[i]}.test" action "${a}"`),
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
