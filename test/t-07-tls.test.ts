/**
 * Scenario: TLS on the listeners, with a certificate made by the test. STARTTLS (`tls`),
 * implicit TLS (`smtps`) and `tls-require` (R06: MAIL before STARTTLS gets 530 5.7.0), with
 * Python's smtplib as the client; the certificate presented is the listener's pki, and the
 * Received header says ESMTPS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeSelfSigned } from '../scripts/selfsigned';
import { startDaemon, stopDaemon, type DaemonRun, freePort, WORKERS_AS_NOBODY, localTestConf } from './daemon-harness';

let d: DaemonRun;
const ports = { starttls: 0, smtps: 0, require: 0 };
let certPem = '';


function python(code: string): string {
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const PY_PRELUDE = 'import smtplib, ssl\nctx = ssl.create_default_context()\nctx.check_hostname = False\nctx.verify_mode = ssl.CERT_NONE\n';

function stored(msgid: string): string {
  return fs.readFileSync(path.join(d.spool, 'queue', msgid.slice(0, 2), msgid, 'message'), 'latin1');
}

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-tls-'));
  const pair = makeSelfSigned('mail.test');
  certPem = pair.cert;
  fs.writeFileSync(path.join(dir, 'cert.pem'), pair.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), pair.key, { mode: 0o600 });
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const conf = localTestConf([
    `pki mail.test cert "${dir}/cert.pem" key "${dir}/key.pem"`,
    `listen on 127.0.0.1 port ${ports.starttls} tls pki mail.test`,
    `listen on 127.0.0.1 port ${ports.smtps} smtps pki mail.test`,
    `listen on 127.0.0.1 port ${ports.require} tls-require pki mail.test`,
  ]);
  d = await startDaemon({ conf, ...WORKERS_AS_NOBODY });
  await d.waitHealthy();
  await d.waitLog(new RegExp(`smtp-listening address=127\\.0\\.0\\.1 port=${ports.require}`));
});

after(async () => {
  await stopDaemon(d);
});

test('STARTTLS: offered before, not after; mail accepted over TLS with an ESMTPS Received header', () => {
  const out = python(`${PY_PRELUDE}
s = smtplib.SMTP("127.0.0.1", ${ports.starttls}, local_hostname="client.test")
s.ehlo()
print("before", s.has_extn("starttls"))
s.starttls(context=ctx)
s.ehlo()
print("after", s.has_extn("starttls"))
print("cert", ssl.DER_cert_to_PEM_cert(s.sock.getpeercert(binary_form=True)).strip())
s.mail("s@remote.test"); s.rcpt("alice@local.test")
code, msg = s.data(b"Subject: tls\\r\\n\\r\\nover tls\\r\\n")
print("data", code, msg.decode())
s.quit()
`);
  assert.match(out, /^before True$/m);
  assert.match(out, /^after False$/m);
  const cert = /cert (-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----)/.exec(out)![1]!;
  assert.equal(cert.replace(/\s/g, ''), certPem.trim().replace(/\s/g, ''));
  const msgid = /^data 250 2\.0\.0 ([0-9a-f]{8}) /m.exec(out)![1]!;
  assert.match(stored(msgid), /^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby \S+ \(tsmtpd\) with ESMTPS id /);
});

test('SMTPS: TLS from the first byte', () => {
  const out = python(`${PY_PRELUDE}
s = smtplib.SMTP_SSL("127.0.0.1", ${ports.smtps}, local_hostname="client.test", context=ctx)
s.ehlo()
print("version", s.sock.version())
print(s.sendmail("s@remote.test", ["alice@local.test"], b"Subject: smtps\\r\\n\\r\\nimplicit\\r\\n"))
s.quit()
`);
  assert.match(out, /^version TLSv1\.[23]$/m);
  assert.match(out, /^\{\}$/m);
});

test('R06, tls-require: MAIL before STARTTLS gets 530 5.7.0; after STARTTLS it is accepted', () => {
  const out = python(`${PY_PRELUDE}
s = smtplib.SMTP("127.0.0.1", ${ports.require}, local_hostname="client.test")
s.ehlo()
print("plain", *s.mail("a@local.test"))
s.rset()
s.starttls(context=ctx)
s.ehlo()
print("tls", *s.mail("a@local.test"))
s.quit()
`);
  assert.match(out, /^plain 530 b'5\.7\.0 Must issue a STARTTLS command first'$/m);
  assert.match(out, /^tls 250 /m);
});

test('a client that resets the connection in the middle of a TLS handshake ends its session, not the smtp worker', async () => {
  const before = await d.waitHealthy();
  for (const p of [ports.smtps, ports.starttls]) {
    await new Promise<void>((resolve) => {
      const s = net.connect(p, '127.0.0.1', () => {
        // the start of a TLS ClientHello, then a reset
        s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
        setTimeout(() => {
          s.resetAndDestroy();
          resolve();
        }, 100);
      });
      s.on('error', () => undefined);
    });
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = await d.waitHealthy();
  assert.equal(after.smtp, before.smtp, 'the smtp worker was not restarted');
  assert.ok(!/worker smtp died/.test(d.logs()), d.logs());
});
