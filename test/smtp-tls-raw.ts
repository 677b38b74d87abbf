/**
 * A byte-exact SMTP client for tests (smtp-raw.ts names it RawSmtp): each send() is one
 * write(), replies are read whole (multi-line replies joined), over plain TCP,
 * implicit TLS, or any stream, with STARTTLS on demand. A TLS layer can also run over a pipe
 * the test controls (tappedTls), so that the test can send a TLS close_notify and then
 * plaintext on the same TCP connection, and see every byte the server sends after that.
 */
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
export interface Reply {
  readonly code: number;
  readonly text: string;
}

/** TLS options of the tests' clients: the daemon's certificate is self-signed */
const INSECURE: tls.ConnectionOptions = { rejectUnauthorized: false, servername: 'mx.local.test' };

export class TlsRawSmtp {
  private buf = '';
  private waiters: (() => void)[] = [];
  private stream!: Duplex;
  private readonly onData = (d: Buffer) => {
    this.buf += d.toString('latin1');
    this.wake();
  };
  private readonly onClose = () => {
    this.closed = true;
    this.wake();
  };
  closed = false;

  private constructor(stream: Duplex) {
    this.attach(stream);
  }

  private attach(stream: Duplex): void {
    this.stream = stream;
    this.closed = false;
    stream.on('data', this.onData);
    stream.on('close', this.onClose);
    stream.on('error', () => undefined);
  }

  /** stop reading the current stream (its bytes are no longer this client's) and return it */
  release(): Duplex {
    this.stream.removeListener('data', this.onData);
    this.stream.removeListener('close', this.onClose);
    return this.stream;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** the stream the client reads and writes (a net.Socket, or a TLSSocket after STARTTLS) */
  get socket(): Duplex {
    return this.stream;
  }

  /** whatever was received and not consumed as a reply yet */
  get pending(): string {
    return this.buf;
  }

  static over(stream: Duplex): TlsRawSmtp {
    return new TlsRawSmtp(stream);
  }

  /** connect to host:port, from `localAddress` (another 127.x address) if given */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<TlsRawSmtp> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () => resolve(new TlsRawSmtp(s)));
      s.once('error', reject);
    });
  }

  /** implicit TLS (smtps): resolves once the handshake is done */
  static connectTls(port: number, opts: tls.ConnectionOptions = {}): Promise<TlsRawSmtp> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ...INSECURE, ...opts }, () => resolve(new TlsRawSmtp(s)));
      s.once('error', reject);
    });
  }

  /** a TLS handshake on the current connection (after `220` to STARTTLS); any reply bytes
   * still unread are dropped with the plaintext session */
  starttls(opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    const raw = this.release();
    this.buf = '';
    return new Promise((resolve, reject) => {
      const s = tls.connect({ socket: raw as net.Socket, ...INSECURE, ...opts }, () => {
        this.attach(s);
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    this.stream.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
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
    this.stream.destroy();
  }
}

/**
 * TLS over a TCP connection through a pipe the test controls: when the TLS layer is ended it
 * sends its close_notify, and the TCP connection stays open (half-open allowed) for whatever
 * the test writes next as plaintext with `raw.write()`. `after()` is every byte the server
 * sent since `tap()`.
 */
export interface TappedTls {
  readonly raw: net.Socket;
  readonly tls: tls.TLSSocket;
  /** start recording the server's bytes */
  tap(): void;
  after(): Buffer;
  /** the server ended or closed the TCP connection */
  readonly tcpClosed: () => boolean;
  /** called right after the TLS layer has written its close_notify */
  onCloseNotify(f: () => void): void;
}

export function tappedTls(raw: net.Socket, opts: tls.ConnectionOptions = {}): Promise<TappedTls> {
  let tapping = false;
  let recorded = Buffer.alloc(0);
  let ended = false;
  let afterNotify: () => void = () => undefined;
  const pipe = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (raw.writable) raw.write(chunk, () => cb());
      else cb();
    },
    final(cb) {
      // the TLS layer ends its side: its close_notify is written, TCP stays open
      afterNotify();
      cb();
    },
  });
  raw.on('data', (b: Buffer) => {
    if (tapping) recorded = Buffer.concat([recorded, b]);
    pipe.push(b);
  });
  raw.on('end', () => {
    ended = true;
    pipe.push(null);
  });
  raw.on('close', () => {
    ended = true;
  });
  raw.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: pipe, ...INSECURE, ...opts }, () =>
      resolve({
        raw,
        tls: s,
        tap: () => {
          tapping = true;
        },
        after: () => recorded,
        tcpClosed: () => ended,
        onCloseNotify: (f) => {
          afterNotify = f;
        },
      }),
    );
    s.once('error', reject);
  });
}
