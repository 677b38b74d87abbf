/**
 * `npm run bench:engine`: what the SMTP protocol engine costs the smtp worker, alone. Three
 * servers do the same trivial work for each message (greet, answer EHLO, MAIL, RCPT, DATA,
 * take the body, answer 250, QUIT), with nothing behind them (no rules, no queue):
 * - tsmtpd, the engine of the smtp worker (src/smtp/smtp-listener.ts, smtp-session.ts);
 * - smtp-server, the package the smtp worker was built on before it;
 * - a minimal line-based server (a floor: what any SMTP engine in Node must pay for sockets,
 *   lines and replies).
 * Each runs in a child process; Postfix's smtp-source sends N messages with S sessions at once
 * (after a warm-up of W), and the child reports its own CPU time per message (user and system,
 * process.cpuUsage).
 * Env: N (3000), S (20), SIZE (10240), W (1000), SMTP_SOURCE (/usr/sbin/smtp-source).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../test/daemon-harness';
import { SmtpListener } from '../src/smtp/smtp-listener';

const N = Number(process.env.N ?? 3000);
const S = Number(process.env.S ?? 20);
const SIZE = Number(process.env.SIZE ?? 10240);
const WARM = Number(process.env.W ?? 1000);
const SOURCE = process.env.SMTP_SOURCE ?? '/usr/sbin/smtp-source';

/** in the child: count messages, report the CPU of the measured ones */
function counter(kind: string): () => void {
  let seen = 0;
  let start = process.cpuUsage();
  return () => {
    seen++;
    if (seen === WARM) start = process.cpuUsage();
    if (seen === WARM + N) {
      const c = process.cpuUsage(start);
      process.send?.({ kind, user: c.user / 1000 / N, system: c.system / 1000 / N });
    }
  };
}

function smtpServer(port: number): void {
  const done = counter('smtp-server');
  const s = new SMTPServer({
    banner: 'bench',
    disableReverseLookup: true,
    logger: false,
    authOptional: true,
    hideSTARTTLS: true,
    onData(stream, _session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        done();
        cb(null, '2.0.0 accepted');
      });
    },
  });
  s.listen(port, '127.0.0.1', () => process.send?.({ ready: true }));
}

function tsmtpd(port: number): void {
  const done = counter('tsmtpd');
  const ok = (_a: unknown, _s: unknown, cb: () => void) => cb();
  const l = new SmtpListener({
    name: 'bench',
    banner: 'bench',
    size: 36700160,
    dsn: true,
    auth: false,
    starttls: false,
    implicitTls: false,
    proxyV2: false,
    maxClients: 0,
    commandTimeoutMs: 300_000,
    dataTimeoutMs: 300_000,
    handlers: {
      onConnect: (_s, cb) => cb(),
      onAuth: (_a, _s, cb) => cb(null),
      onMailFrom: ok,
      onRcptTo: ok,
      onData(body, _s, cb) {
        void body.discard().then(() => {
          done();
          cb(null, '2.0.0 accepted');
        });
      },
      onClose: () => undefined,
    },
  });
  l.server.listen(port, '127.0.0.1', () => process.send?.({ ready: true }));
}

/** the floor: lines, replies and the body up to CRLF.CRLF, nothing else */
function minimal(port: number): void {
  const done = counter('minimal');
  const server = net.createServer((sock) => {
    let buf = '';
    let inData = false;
    sock.on('error', () => undefined);
    sock.write('220 bench ESMTP\r\n');
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) {
            buf = buf.slice(-4);
            return;
          }
          buf = buf.slice(end + 5);
          inData = false;
          done();
          sock.write('250 2.0.0 accepted\r\n');
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const verb = buf.slice(0, 4).toUpperCase();
        buf = buf.slice(i + 2);
        if (verb === 'EHLO') sock.write('250-bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 36700160\r\n250 ENHANCEDSTATUSCODES\r\n');
        else if (verb === 'DATA') {
          inData = true;
          sock.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'QUIT') return void sock.end('221 2.0.0 Bye\r\n');
        else sock.write('250 2.0.0 OK\r\n');
      }
    });
  });
  server.listen(port, '127.0.0.1', () => process.send?.({ ready: true }));
}

async function measure(kind: string): Promise<{ user: number; system: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [__filename, 'serve', kind, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise<{ user: number; system: number }>((resolve) => {
    child.on('message', (m: { ready?: boolean; user?: number; system?: number }) => {
      if (m.ready) {
        const src = spawn(SOURCE, ['-l', String(SIZE), '-m', String(WARM + N), '-s', String(S), '-f', 'bench@bench.test', '-t', 'rcpt@bench.test', `127.0.0.1:${port}`], { stdio: 'ignore' });
        src.on('exit', () => undefined);
      } else if (m.user !== undefined) resolve({ user: m.user, system: m.system! });
    });
  });
  const r = await result;
  child.kill();
  return r;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'serve') {
    const port = Number(process.argv[4]);
    if (process.argv[3] === 'smtp-server') smtpServer(port);
    else if (process.argv[3] === 'tsmtpd') tsmtpd(port);
    else minimal(port);
    return;
  }
  if (!fs.existsSync(SOURCE) || spawnSync(SOURCE, [], { stdio: 'ignore' }).error) {
    console.error(`bench:engine: ${SOURCE} not found: install postfix (it has smtp-source) or set SMTP_SOURCE`);
    process.exit(1);
  }
  console.log(`SMTP engine CPU per message (ms), ${N} messages of ${SIZE} bytes, ${S} sessions, after ${WARM}:`);
  console.log('| engine | user | system | total |');
  console.log('| --- | --- | --- | --- |');
  for (const kind of ['tsmtpd', 'smtp-server', 'minimal', 'tsmtpd', 'smtp-server', 'minimal']) {
    const r = await measure(kind);
    console.log(`| ${kind} | ${r.user.toFixed(3)} | ${r.system.toFixed(3)} | ${(r.user + r.system).toFixed(3)} |`);
  }
}

void main();
