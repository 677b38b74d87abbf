/**
 * A scripted SMTP receiver for fault tests: it listens on an address and port of the test's
 * choosing and answers each command as the test's script says: a reply line (or several, as
 * given), silence, a close, or a reset; as an LMTP server (`lmtp`), a reply per recipient
 * after the data. What it accepted (MAIL, RCPTs and the data of each transaction) is kept for
 * the test to look at. Only for tests: no TLS, no limits.
 */
import * as net from 'node:net';

/** what the server does with a command (`.` is the end of DATA, `greeting` the connection) */
export type Action = string | { silent: true } | { close: true } | { reset: true } | { resetAfterBytes: number } | { delayMs: number; reply: string };

export interface Script {
  /** connection: how many connections came before this one (0 for the first) */
  (command: string, connection: number): Action | undefined;
}

export interface Received {
  readonly from: string;
  readonly rcpts: string[];
  data: string;
}

export interface FakeMx {
  readonly messages: Received[];
  /** every command line received, in order */
  readonly lines: string[];
  connections: number;
  /** sessions under way now (from accept until QUIT is answered or the client goes), and the most at once */
  open: number;
  peak: number;
  close(): Promise<void>;
}

const DEFAULTS: Record<string, string> = {
  greeting: '220 fake.test ESMTP',
  EHLO: '250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME',
  LHLO: '250-fake.test\r\n250 PIPELINING',
  HELO: '250 fake.test',
  MAIL: '250 2.1.0 Ok',
  RCPT: '250 2.1.5 Ok',
  DATA: '354 End data with <CR><LF>.<CR><LF>',
  '.': '250 2.0.0 Ok: queued',
  RSET: '250 2.0.0 Ok',
  NOOP: '250 2.0.0 Ok',
  QUIT: '221 2.0.0 Bye',
};

export async function startFakeMx(address: string, port: number, script: Script = () => undefined, lmtp = false): Promise<FakeMx> {
  const mx: FakeMx = { messages: [], lines: [], connections: 0, open: 0, peak: 0, close: async () => undefined };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    mx.peak = Math.max(mx.peak, ++mx.open);
    // a session is over once QUIT is answered or the client has gone, whichever comes first:
    // the client counts its connection free when it sees this end close after the 221, which
    // can be before this side's own 'close' event runs (a new connection may be accepted first)
    let counted = true;
    const over = () => {
      if (counted) mx.open--;
      counted = false;
    };
    s.on('end', over);
    s.on('close', () => {
      sockets.delete(s);
      over();
    });
    s.on('error', () => undefined);
    const n = mx.connections++;
    let buf = '';
    let inData = false;
    let tx: Received | undefined;
    let dataLimit: number | undefined;
    /** false: stop reading this connection */
    const act = (command: string, key: string): boolean => {
      const a = script(command, n) ?? DEFAULTS[key] ?? '500 5.5.2 Unknown command';
      if (typeof a === 'string') {
        s.write(`${a}\r\n`);
        return true;
      }
      if ('silent' in a) return true;
      if ('delayMs' in a) {
        setTimeout(() => s.writable && s.write(`${a.reply}\r\n`), a.delayMs);
        return true;
      }
      if ('close' in a) {
        s.end();
        return false;
      }
      if ('reset' in a) {
        s.resetAndDestroy();
        return false;
      }
      dataLimit = a.resetAfterBytes;
      s.write(`${DEFAULTS.DATA}\r\n`);
      return true;
    };
    act('greeting', 'greeting');
    s.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          if (dataLimit !== undefined && buf.length >= dataLimit) {
            s.resetAndDestroy();
            return;
          }
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          tx!.data = buf.slice(0, end + 2);
          buf = buf.slice(end + 5);
          inData = false;
          const keep = tx!;
          if (lmtp) {
            // a reply per recipient: the script may answer `.<rcpt>`
            const delivered = keep.rcpts.filter((r) => {
              const a = script(`.${r}`, n) ?? '250 2.0.0 Ok: delivered';
              s.write(`${String(a)}\r\n`);
              return String(a).startsWith('2');
            });
            if (delivered.length > 0) mx.messages.push({ ...keep, rcpts: delivered });
            continue;
          }
          if (!act('.', '.')) return;
          if (!/^[45]/.test(String(script('.', n) ?? '250'))) mx.messages.push(keep);
          continue;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.slice(0, eol);
        buf = buf.slice(eol + 2);
        mx.lines.push(line);
        const verb = line.split(/[ :]/, 1)[0]!.toUpperCase();
        if (verb === 'MAIL') tx = { from: /<([^>]*)>/.exec(line)?.[1] ?? '', rcpts: [], data: '' };
        if (verb === 'RCPT') {
          const a = script(line, n) ?? DEFAULTS.RCPT!;
          if (typeof a === 'string' && a.startsWith('2')) tx?.rcpts.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
        }
        if (verb === 'DATA') {
          const a = script(line, n);
          if (a === undefined || (typeof a === 'object' && 'resetAfterBytes' in a)) inData = true;
        }
        if (!act(line, verb)) return;
        if (verb === 'QUIT') {
          over();
          s.end();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  mx.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return mx;
}
