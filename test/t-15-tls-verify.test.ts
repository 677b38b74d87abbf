/**
 * Scenario: client certificates (`smtps verify`, `tls-require verify` with `ca`), and the
 * listener's `protocols`. A CA and two client certificates are made with openssl in the test:
 * one signed by the CA (served, and the Received header says YES), one self-signed (its
 * handshake fails, as does one without a certificate). Python's smtplib is the client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeSelfSigned } from '../scripts/selfsigned';
import { freePort, startDaemon, stopDaemon, type DaemonRun, WORKERS_AS_NOBODY, localTestConf } from './daemon-harness';

let d: DaemonRun;
let dir = '';
const ports = { smtps: 0, starttls: 0, tls13: 0 };

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function python(code: string): string {
  const prelude = [
    'import smtplib, ssl',
    'def ctx(cert=None):',
    '    c = ssl.create_default_context()',
    '    c.check_hostname = False',
    '    c.verify_mode = ssl.CERT_NONE',
    `    if cert: c.load_cert_chain("${dir}/" + cert + ".pem", "${dir}/" + cert + ".key")`,
    '    return c',
    'def attempt(tag, f):',
    '    try:',
    '        print(tag, f())',
    '    except (ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError, BrokenPipeError) as e:',
    '        print(tag, "refused", type(e).__name__)',
    '',
  ].join('\n');
  const r = spawnSync('python3', ['-c', prelude + code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return r.stdout;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-verify-'));
  fs.chmodSync(dir, 0o755);
  const server = makeSelfSigned('mail.test');
  fs.writeFileSync(path.join(dir, 'server.pem'), server.cert);
  fs.writeFileSync(path.join(dir, 'server.key'), server.key, { mode: 0o600 });
  const p = (f: string) => path.join(dir, f);
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-subj', '/CN=tsmtpd test CA', '-days', '2');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('client.key'), '-out', p('client.csr'), '-subj', '/CN=client.test');
  openssl('x509', '-req', '-in', p('client.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('client.pem'), '-days', '2');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('stranger.key'), '-out', p('stranger.pem'), '-subj', '/CN=stranger.test', '-days', '2');
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const conf = localTestConf([
    `pki mail.test cert "${p('server.pem')}" key "${p('server.key')}"`,
    `ca clients cert "${p('ca.pem')}"`,
    `listen on 127.0.0.1 port ${ports.smtps} smtps verify pki mail.test ca clients`,
    `listen on 127.0.0.1 port ${ports.starttls} tls-require verify pki mail.test ca clients`,
    `listen on 127.0.0.1 port ${ports.tls13} smtps pki mail.test protocols "tlsv1.3"`,
  ]);
  d = await startDaemon({ conf, ...WORKERS_AS_NOBODY });
  await d.waitHealthy();
  await d.waitLog(new RegExp(`smtp-listening address=127\\.0\\.0\\.1 port=${ports.tls13}`));
});

after(async () => {
  await stopDaemon(d);
});

test('smtps verify: a certificate from the ca is served and noted in Received (YES); none, or a stranger, cannot finish the handshake', () => {
  const out = python(`
def send(cert):
    s = smtplib.SMTP_SSL("127.0.0.1", ${ports.smtps}, local_hostname="client.test", context=ctx(cert))
    code, msg = s.ehlo()
    r = s.sendmail("s@remote.test", ["alice@local.test"], b"Subject: verified\\r\\n\\r\\nhi\\r\\n")
    s.quit()
    return code
attempt("good", lambda: send("client"))
attempt("none", lambda: send(None))
attempt("stranger", lambda: send("stranger"))
`);
  assert.match(out, /^good 250$/m);
  assert.match(out, /^none refused /m);
  assert.match(out, /^stranger refused /m);
  const q = path.join(d.spool, 'queue');
  const messages = fs.readdirSync(q).flatMap((b) => fs.readdirSync(path.join(q, b)).map((m) => fs.readFileSync(path.join(q, b, m, 'message'), 'latin1')));
  assert.equal(messages.length, 1);
  assert.match(messages[0]!, /\(TLSv1\.[23]:[A-Z0-9_-]+:\d+:YES\)/);
});

test('tls-require verify: STARTTLS with a certificate from the ca goes on; without one the handshake fails', () => {
  const out = python(`
def starttls(cert):
    s = smtplib.SMTP("127.0.0.1", ${ports.starttls}, local_hostname="client.test")
    s.ehlo()
    s.starttls(context=ctx(cert))
    code, _ = s.ehlo()
    s.quit()
    return code
attempt("good", lambda: starttls("client"))
attempt("none", lambda: starttls(None))
`);
  assert.match(out, /^good 250$/m);
  assert.match(out, /^none refused /m);
});

test('protocols "tlsv1.3": a TLS 1.2 client is refused, a TLS 1.3 one served', () => {
  const out = python(`
def hello(version):
    c = ctx()
    c.maximum_version = version
    s = smtplib.SMTP_SSL("127.0.0.1", ${ports.tls13}, local_hostname="client.test", context=c)
    v = s.sock.version()
    s.quit()
    return v
attempt("tls12", lambda: hello(ssl.TLSVersion.TLSv1_2))
attempt("tls13", lambda: hello(ssl.TLSVersion.TLSv1_3))
`);
  assert.match(out, /^tls12 refused /m);
  assert.match(out, /^tls13 TLSv1\.3$/m);
});
