/**
 * Scenario: the TLS cases of the reliability checklist (T01-T06) against the real daemon, with
 * a certificate made by openssl in the test, on a STARTTLS listener (`tls`) and an implicit-TLS
 * one (`smtps`). Byte-exact client (smtp-tls-raw.ts): STARTTLS command injection, the state
 * reset after STARTTLS, STARTTLS misuse, garbage handshakes, a TLS teardown followed by
 * plaintext, and the handshake parameters (old protocol versions, odd SNI). Each case ends
 * with the smtp worker still the same process and a new connection served.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { startDaemon, stopDaemon, type DaemonRun, freePort, WORKERS_AS_NOBODY, localTestConf } from './daemon-harness';
import { TlsRawSmtp, tappedTls } from './smtp-tls-raw';

let d: DaemonRun;
let certDir = '';
let smtpPid = 0;
const ports = { starttls: 0, smtps: 0 };

before(async () => {
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-t08-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=mx.local.test', '-days', '1',
    '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')], { stdio: 'ignore' });
  ports.starttls = await freePort();
  ports.smtps = await freePort();
  const conf = localTestConf([
    `pki mx.local.test cert "${certDir}/cert.pem"`,
    `pki mx.local.test key "${certDir}/key.pem"`,
    `listen on 127.0.0.1 port ${ports.starttls} tls pki mx.local.test`,
    `listen on 127.0.0.1 port ${ports.smtps} smtps pki mx.local.test`,
  ]);
  d = await startDaemon({ conf, ...WORKERS_AS_NOBODY });
  smtpPid = (await d.waitHealthy()).smtp!;
  for (const p of Object.values(ports)) await d.waitLog(new RegExp(`smtp-listening address=127\\.0\\.0\\.1 port=${p}\\b`));
});

after(async () => {
  await stopDaemon(d);
  fs.rmSync(certDir, { recursive: true, force: true });
});

/** connected to the STARTTLS listener, banner read, EHLO done */
async function plain(): Promise<TlsRawSmtp> {
  const c = await TlsRawSmtp.connect(ports.starttls);
  assert.equal((await c.reply()).code, 220);
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  return c;
}

/** the smtp worker is the same process as at the start, and both listeners serve a new client */
async function assertServing(): Promise<void> {
  assert.equal((await d.waitHealthy()).smtp, smtpPid, 'the smtp worker was not restarted');
  assert.ok(!/worker smtp died/.test(d.logs()), d.logs());
  const c = await plain();
  assert.equal((await c.cmd('STARTTLS')).code, 220);
  await c.starttls();
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  c.close();
  const s = await TlsRawSmtp.connectTls(ports.smtps);
  assert.equal((await s.reply()).code, 220);
  assert.equal((await s.cmd('EHLO client.test')).code, 250);
  s.close();
}

/** every message file in the spool's queue/ */
function queuedMessages(): string[] {
  const q = path.join(d.spool, 'queue');
  if (!fs.existsSync(q)) return [];
  return fs.readdirSync(q).flatMap((b) => fs.readdirSync(path.join(q, b)).map((m) => fs.readFileSync(path.join(q, b, m, 'message'), 'latin1')));
}

/** The bytes a TLS client sends first (its ClientHello), captured from a real handshake attempt. */
function clientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const srv = net.createServer((s) =>
      s.once('data', (b: Buffer) => {
        s.destroy();
        srv.close();
        resolve(b);
      }),
    );
    srv.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', servername: 'mx.local.test', rejectUnauthorized: false });
      c.on('error', () => undefined);
    });
  });
}

/** TLS records only (header: type 20-23, version 3.x, length), nothing in clear */
function assertTlsRecordsOnly(b: Buffer): void {
  let off = 0;
  while (off < b.length) {
    assert.ok(off + 5 <= b.length, `a truncated TLS record header at ${off}: ${b.toString('latin1')}`);
    assert.ok(b[off]! >= 20 && b[off]! <= 23 && b[off + 1] === 3, `not a TLS record at ${off}: ${JSON.stringify(b.subarray(off).toString('latin1'))}`);
    off += 5 + b.readUInt16BE(off + 3);
  }
  assert.equal(off, b.length, 'the bytes end on a record boundary');
}

test('T01 plaintext pipelined after STARTTLS is discarded, never answered after the handshake', async () => {
  const injected = 'HELP\r\nMAIL FROM:<evil@remote.test>\r\nRCPT TO:<alice@local.test>\r\n';
  for (const oneWrite of [true, false]) {
    const c = await plain();
    if (oneWrite) c.send(`STARTTLS\r\n${injected}`);
    else {
      c.send('STARTTLS\r\n');
      c.send(injected);
    }
    assert.deepEqual(await c.reply(), { code: 220, text: '2.0.0 Ready to start TLS' });
    assert.equal(c.pending, '', 'nothing after the 220 in plaintext');
    // a plaintext reply to the injected lines would break the handshake. In a separate write
    // the lines may reach the server after it has switched to TLS: then they are the start
    // of the handshake, which fails and ends the connection (discarded too, never answered).
    const failed = await c.starttls().then(() => undefined, (e: NodeJS.ErrnoException) => e);
    if (failed) {
      assert.ok(!oneWrite, `the handshake fails only when the lines came in their own write: ${String(failed)}`);
      // closed without a byte the TLS client could read: a plaintext reply would be an
      // ERR_SSL_WRONG_VERSION_NUMBER here instead
      assert.equal(failed.code, 'ECONNRESET', String(failed));
      continue;
    }
    assert.deepEqual(await c.cmd('NOOP'), { code: 250, text: '2.0.0 OK' }, 'the first reply in TLS is the NOOP one, not a 214 for HELP');
    assert.equal((await c.reply(700)).text, 'timeout', 'no reply queued behind it');
    assert.equal((await c.cmd('EHLO client.test')).code, 250, 'the TLS session works');
    c.close();
  }
  await assertServing();
});

test('T02 state reset after STARTTLS', async () => {
  const c = await plain();
  assert.equal((await c.cmd('MAIL FROM:<a@remote.test>')).code, 250);
  assert.equal((await c.cmd('STARTTLS')).code, 220);
  await c.starttls();
  const rcpt = await c.cmd('RCPT TO:<alice@local.test>');
  assert.equal(rcpt.code, 503, `the transaction was forgotten: ${JSON.stringify(rcpt)}`);
  const mail = await c.cmd('MAIL FROM:<a@remote.test>');
  assert.equal(mail.code, 503, `the EHLO was forgotten: ${JSON.stringify(mail)}`);
  // after a new EHLO the TLS session works
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  assert.equal((await c.cmd('MAIL FROM:<a@remote.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
  c.close();
});

test('T03 STARTTLS misuse: a second STARTTLS inside TLS gets 503, STARTTLS with an argument 501', async () => {
  const c = await plain();
  assert.equal((await c.cmd('STARTTLS now')).code, 501);
  assert.equal((await c.cmd('STARTTLS')).code, 220, 'the argument did not spoil the session');
  await c.starttls();
  assert.equal((await c.cmd('STARTTLS')).code, 503, 'before EHLO');
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  const again = await c.cmd('STARTTLS');
  assert.equal(again.code, 503, JSON.stringify(again));
  assert.equal((await c.cmd('NOOP')).code, 250, 'the TLS session goes on');
  c.close();
});

test('T04 (a) garbage instead of a TLS handshake after 220 Ready: the connection is closed', async () => {
  const c = await plain();
  assert.equal((await c.cmd('STARTTLS')).code, 220);
  const t0 = Date.now();
  c.send(randomBytes(1024));
  assert.deepEqual(await c.reply(2000), { code: 0, text: 'closed' });
  assert.ok(Date.now() - t0 < 2000);
  await assertServing();
});

test('T04 (b) a TLS ClientHello on the plain port: 5xx replies, then 421 and close at the error limit', async () => {
  const hello = await clientHello();
  assert.equal(hello[0], 0x16, 'a TLS handshake record');
  const c = await TlsRawSmtp.connect(ports.starttls);
  assert.equal((await c.reply()).code, 220);
  c.send(hello); // as a TLS client would
  const replies = [];
  for (let i = 0; i < 15 && !c.closed; i++) c.send(Buffer.concat([hello, Buffer.from('\r\n')])); // and as one that keeps trying
  for (;;) {
    const r = await c.reply(3000);
    if (r.code === 0) {
      assert.equal(r.text, 'closed', `closed, not left open: ${JSON.stringify(replies)}`);
      break;
    }
    replies.push(r.code);
  }
  assert.equal(replies[replies.length - 1], 421, JSON.stringify(replies));
  assert.ok(replies.length >= 2 && replies.slice(0, -1).every((x) => x === 500), JSON.stringify(replies));
  await assertServing();
});

for (const kind of ['smtps', 'starttls'] as const) {
  test(`T05 teardown, then plaintext (${kind}): TCP close, the plaintext is never answered, nothing delivered`, async () => {
    const raw = net.connect({ port: ports[kind], host: '127.0.0.1', allowHalfOpen: true });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    if (kind === 'starttls') {
      const c = TlsRawSmtp.over(raw);
      assert.equal((await c.reply()).code, 220);
      assert.equal((await c.cmd('EHLO client.test')).code, 250);
      assert.equal((await c.cmd('STARTTLS')).code, 220);
      c.release();
    }
    const t = await tappedTls(raw);
    const c = TlsRawSmtp.over(t.tls);
    if (kind === 'smtps') assert.equal((await c.reply()).code, 220);
    assert.equal((await c.cmd('EHLO client.test')).code, 250);
    assert.equal((await c.cmd('MAIL FROM:<a@remote.test>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    c.send(`Subject: t05 ${kind}\r\n\r\n0123456789`);
    await new Promise((r) => setTimeout(r, 200));
    t.tap();
    t.onCloseNotify(() => raw.write('RSET\r\nQUIT\r\n'));
    t.tls.end(); // close_notify, then the plaintext right behind it on the same TCP connection
    const end = Date.now() + 2000;
    while (!t.tcpClosed() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(t.tcpClosed(), 'the server closed the TCP connection within 2s');
    await new Promise((r) => setTimeout(r, 300)); // room for a (wrong) late reply
    assertTlsRecordsOnly(t.after());
    raw.destroy();
    assert.ok(!queuedMessages().some((m) => m.includes(`Subject: t05 ${kind}`)), 'nothing of the unfinished message is queued');
    await assertServing();
  });
}

test('T06 handshake parameters: TLS 1.0 and 1.1 refused (protocol_version alert), TLS 1.2 and odd SNI served', async () => {
  const old = { ciphers: 'DEFAULT@SECLEVEL=0' };
  for (const v of ['TLSv1', 'TLSv1.1'] as const) {
    await assert.rejects(TlsRawSmtp.connectTls(ports.smtps, { ...old, minVersion: v, maxVersion: v }), { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, `smtps ${v}`);
    const c = await plain();
    assert.equal((await c.cmd('STARTTLS')).code, 220);
    await assert.rejects(c.starttls({ ...old, minVersion: v, maxVersion: v }), { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, `STARTTLS ${v}`);
    c.close();
  }
  // the same client settings with TLS 1.2 allowed: served (the refusal above is the server's policy)
  const t12 = await TlsRawSmtp.connectTls(ports.smtps, { ...old, maxVersion: 'TLSv1.2' });
  assert.equal((t12.socket as tls.TLSSocket).getProtocol(), 'TLSv1.2');
  assert.equal((await t12.reply()).code, 220);
  t12.close();
  const longSni = `${'a'.repeat(63)}.`.repeat(4).slice(0, 255);
  assert.equal(longSni.length, 255);
  for (const servername of [longSni, 'a\\']) {
    const s = await TlsRawSmtp.connectTls(ports.smtps, { servername });
    assert.equal((await s.reply()).code, 220, `smtps, SNI ${JSON.stringify(servername)}`);
    assert.equal((await s.cmd('EHLO client.test')).code, 250);
    s.close();
    const c = await plain();
    assert.equal((await c.cmd('STARTTLS')).code, 220);
    await c.starttls({ servername });
    assert.equal((await c.cmd('EHLO client.test')).code, 250, `STARTTLS, SNI ${JSON.stringify(servername)}`);
    c.close();
  }
  await assertServing();
});

test('T03 STARTTLS on the implicit-TLS port gets 503, and is never offered there', async () => {
  const s = await TlsRawSmtp.connectTls(ports.smtps);
  assert.equal((await s.reply()).code, 220);
  const early = await s.cmd('STARTTLS');
  assert.equal(early.code, 503, JSON.stringify(early));
  const ehlo = await s.cmd('EHLO client.test');
  assert.equal(ehlo.code, 250);
  assert.ok(!/^STARTTLS$/m.test(ehlo.text), ehlo.text);
  const again = await s.cmd('STARTTLS');
  assert.equal(again.code, 503, JSON.stringify(again));
  assert.equal((await s.cmd('NOOP')).code, 250, 'the session goes on');
  s.close();
});

test('T06 ALPN: a client offering only http/1.1 is refused (no_application_protocol); "smtp", or no ALPN, is served', async () => {
  const refused = { code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' };
  await assert.rejects(TlsRawSmtp.connectTls(ports.smtps, { ALPNProtocols: ['http/1.1'] }), refused, 'smtps');
  const c = await plain();
  assert.equal((await c.cmd('STARTTLS')).code, 220);
  await assert.rejects(c.starttls({ ALPNProtocols: ['http/1.1'] }), refused, 'STARTTLS');
  c.close();
  const s = await TlsRawSmtp.connectTls(ports.smtps, { ALPNProtocols: ['h2', 'smtp'] });
  assert.equal((s.socket as tls.TLSSocket).alpnProtocol, 'smtp');
  assert.equal((await s.reply()).code, 220);
  s.close();
  const none = await TlsRawSmtp.connectTls(ports.smtps);
  assert.equal((none.socket as tls.TLSSocket).alpnProtocol, false);
  assert.equal((await none.reply()).code, 220);
  none.close();
  await assertServing();
});
