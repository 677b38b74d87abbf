import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { SmtpListener, type ListenerOptions } from './smtp-listener';
import type { SessionHandlers } from './smtp-session';
import { replyError } from './replies';

/** a listener on a loopback port with these handlers (default: accept everything) */
async function listen(handlers: Partial<SessionHandlers> = {}, extra: Partial<ListenerOptions> = {}): Promise<{ port: number; close: () => void }> {
  const ok = (_a: unknown, _s: unknown, cb: () => void) => cb();
  const l = new SmtpListener({
    name: 'mx.test',
    banner: 'tsmtpd',
    size: 1000,
    dsn: true,
    auth: false,
    starttls: false,
    implicitTls: false,
    proxyV2: false,
    maxClients: 0,
    commandTimeoutMs: 5000,
    dataTimeoutMs: 5000,
    ...extra,
    handlers: {
      onConnect: (_s, cb) => cb(),
      onAuth: (_a, _s, cb) => cb(null),
      onMailFrom: ok,
      onRcptTo: ok,
      onData: (body, _s, cb) => void body.discard().then(() => cb(null, '2.0.0 queued')),
      onClose: () => undefined,
      ...handlers,
    },
  });
  await new Promise<void>((r) => l.server.listen(0, '127.0.0.1', r));
  return { port: (l.server.address() as net.AddressInfo).port, close: () => l.close(() => undefined) };
}

/** a raw client: everything the server sent, and whether it closed */
async function client(port: number): Promise<{ sock: net.Socket; text: () => string; until: (re: RegExp) => Promise<string>; closed: Promise<void> }> {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  const waiters: (() => void)[] = [];
  sock.on('data', (d: Buffer) => {
    got += d.toString('latin1');
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<void>((r) => sock.on('close', () => {
    r();
    waiters.splice(0).forEach((w) => w());
  }));
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.on('connect', r));
  const until = async (re: RegExp) => {
    for (let i = 0; i < 100 && !re.test(got); i++) {
      if (sock.destroyed) break;
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return got;
  };
  return { sock, text: () => got, until, closed };
}

test('pipelined commands are answered in order, and the body only after 354', async () => {
  const srv = await listen();
  const c = await client(srv.port);
  await c.until(/^220 /);
  c.sock.write('EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<d@e.test>\r\nDATA\r\n');
  await c.until(/354 /);
  c.sock.write('Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n');
  const all = await c.until(/221 /);
  const codes = all.split('\r\n').filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 9));
  assert.deepEqual(codes, ['220 mx.te', '250 SIZE ', '250 2.1.0', '250 2.1.5', '354 End d', '250 2.0.0', '221 2.0.0']);
  await c.closed;
  srv.close();
});

test('a client that closes its side after QUIT still gets every reply', async () => {
  const srv = await listen({
    onData: (body, _s, cb) => void body.discard().then(() => setTimeout(() => cb(null, '2.0.0 queued'), 50)),
  });
  const c = await client(srv.port);
  await c.until(/^220 /);
  c.sock.end('HELO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<d@e.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n');
  await c.closed;
  assert.match(c.text(), /250 2\.0\.0 queued\r\n221 2\.0\.0 Bye\r\n$/);
  srv.close();
});

test('after QUIT the server closes at once, without waiting for the client to close its side', async () => {
  let serverClosed!: () => void;
  const closed = new Promise<void>((r) => (serverClosed = r));
  const srv = await listen({ onClose: () => serverClosed() }, { commandTimeoutMs: 60_000 });
  const sock = net.connect({ port: srv.port, host: '127.0.0.1', allowHalfOpen: true }); // never ends its side
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  sock.on('error', () => undefined);
  sock.write('QUIT\r\n');
  try {
    const timer = new Promise<string>((r) => setTimeout(() => r('still open after 3 s'), 3000).unref()); // a lingering close waits 5 s
    assert.equal(await Promise.race([closed.then(() => 'closed'), timer]), 'closed');
    assert.match(got, /221 2\.0\.0 Bye\r\n$/);
  } finally {
    sock.destroy();
    srv.close();
  }
});

test('a refusal from a handler is the reply, with its enhanced code; any other error is 451 4.3.0', async () => {
  const srv = await listen({
    onRcptTo: (a, _s, cb) => cb(a.address.startsWith('x') ? replyError(550, '5.7.1', 'Relaying denied') : new Error('internal detail')),
  });
  const c = await client(srv.port);
  await c.until(/^220 /);
  c.sock.write('HELO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<x@e.test>\r\nRCPT TO:<y@e.test>\r\n');
  const all = await c.until(/451 /);
  assert.match(all, /550 5\.7\.1 Relaying denied\r\n451 4\.3\.0 Temporary failure\r\n$/);
  assert.doesNotMatch(all, /internal detail/);
  c.sock.destroy();
  srv.close();
});

test('a client talking before the banner gets 421 and is closed', async () => {
  const srv = await listen({ onConnect: (_s, cb) => setTimeout(() => cb(), 200) });
  const c = await client(srv.port);
  c.sock.write('EHLO c.test\r\n');
  await c.closed;
  assert.match(c.text(), /^421 4\.7\.0 mx\.test You talk too soon\r\n$/);
  srv.close();
});

test('a command line over the limit: 421 and closed, nothing else answered', async () => {
  const srv = await listen();
  const c = await client(srv.port);
  await c.until(/^220 /);
  c.sock.write(`NOOP ${'a'.repeat(20_000)}`);
  await c.closed;
  assert.match(c.text(), /\r\n421 4\.7\.0 Command line too long, closing connection\r\n$/);
  srv.close();
});

test('a message over the size limit is read to its end and refused there, the session goes on', async () => {
  let seen = 0;
  let exceeded = false;
  const srv = await listen({
    onData: (body, _s, cb) => void (async () => {
      for await (const c of body) seen += c.length;
      exceeded = body.sizeExceeded;
      cb(exceeded ? replyError(552, '5.3.4', 'Message too big for system') : null, '2.0.0 queued');
    })(),
  });
  const c = await client(srv.port);
  await c.until(/^220 /);
  c.sock.write(`HELO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<d@e.test>\r\nDATA\r\n${'a'.repeat(98)}\r\n`.repeat(1) + `${'b'.repeat(98)}\r\n`.repeat(20) + '.\r\nNOOP\r\n');
  const all = await c.until(/250 2\.0\.0 OK/);
  assert.match(all, /552 5\.3\.4 Message too big for system\r\n250 2\.0\.0 OK\r\n$/);
  assert.ok(exceeded);
  assert.ok(seen <= 1000, `no more than the limit passed on: ${seen}`);
  c.sock.destroy();
  srv.close();
});

test('a client gone in the middle of DATA: the body ends with an error for its reader', async () => {
  let failed: unknown;
  const srv = await listen({
    onData: (body, _s, cb) => void (async () => {
      try {
        for await (const _ of body) {
          // read
        }
      } catch (e) {
        failed = e;
      }
      cb(null);
    })(),
  });
  const c = await client(srv.port);
  await c.until(/^220 /);
  c.sock.write('HELO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<d@e.test>\r\nDATA\r\n');
  await c.until(/354 /);
  c.sock.write('Subject: half\r\n');
  c.sock.destroy();
  for (let i = 0; i < 50 && failed === undefined; i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(String(failed), /closed before the message was received in full/);
  srv.close();
});

test('maxClients: the session past the limit gets 421 4.7.0', async () => {
  const srv = await listen({}, { maxClients: 1 });
  const a = await client(srv.port);
  await a.until(/^220 /);
  const b = await client(srv.port);
  await b.closed;
  assert.match(b.text(), /^421 4\.7\.0 mx\.test Too many connected clients/);
  a.sock.destroy();
  srv.close();
});

test('the command deadline: a client that only trickles bytes gets 421 4.4.2', async () => {
  const srv = await listen({}, { commandTimeoutMs: 300 });
  const c = await client(srv.port);
  await c.until(/^220 /);
  const drip = setInterval(() => c.sock.write('N'), 50);
  await c.closed;
  clearInterval(drip);
  assert.match(c.text(), /421 4\.4\.2 mx\.test Timeout: no complete command in time/);
  srv.close();
});
