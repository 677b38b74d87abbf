/**
 * A byte-exact SMTP client for tests: each send() is one write(), replies are read whole
 * (multi-line replies joined), so protocol edge cases (smuggling, pipelining, bare LF) can be
 * sent exactly as the reliability checklist writes them.
 */
import * as net from 'node:net';

export interface Reply {
  readonly code: number;
  readonly text: string;
}

export class RawSmtp {
  private buf = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** connect to 127.0.0.1:port, from `localAddress` (another 127.x address) if given */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () => resolve(new RawSmtp(s)));
      s.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next complete reply, or code 0 if the server closed or timed out. */
  async reply(timeoutMs = 5000): Promise<Reply> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = /^((?:\d{3}-[^\n]*\n)*)(\d{3})( [^\n]*)?\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        const text = (m[1]! + m[2]! + (m[3] ?? '')).replace(/\r/g, '').split('\n').map((l) => l.slice(4)).join('\n');
        return { code: Number(m[2]), text };
      }
      if (this.closed || Date.now() > end) return { code: 0, text: this.closed ? 'closed' : 'timeout' };
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** send one line (CRLF added) and return the reply */
  async cmd(line: string): Promise<Reply> {
    this.send(`${line}\r\n`);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}
