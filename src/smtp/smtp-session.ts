/**
 * One inbound SMTP session (RFC 5321, ESMTP with PIPELINING, 8BITMIME, SMTPUTF8,
 * ENHANCEDSTATUSCODES, DSN, SIZE, STARTTLS, AUTH PLAIN LOGIN under TLS only): reads command
 * lines and DATA from the client, answers each with a code and an enhanced status code, and
 * asks its handlers (main.ts: lka and the queue) at connect, AUTH, MAIL, RCPT and the end of
 * DATA. Replies written in one turn of the event loop go out in one write.
 *
 * Limits: a command line of at most MAX_LINE bytes; after each reply the client has the
 * command deadline to send a complete line (bytes that trickle in do not extend it), and in
 * DATA each deadline interval must bring DATA_PROGRESS bytes, else `421 4.4.2`; more than
 * JUNK_LIMIT of NOOP, RSET, HELP, VRFY, EXPN since the last message: `421 4.7.0`; ten
 * unknown commands: `421`; an HTTP request line: `554 5.7.0` and close. Plaintext sent after
 * STARTTLS is dropped, and the TLS session starts from nothing (RFC 3207 §4.2).
 * Privileges: none (runs in smtp as _smtpd). Peers: the client socket; handlers for policy.
 */
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { parseAddressCommand, type AddressCommand } from './address-command';
import { plainAddress } from './addresses';
import { DataReader } from './data-reader';
import { MessageBody } from './message-body';
import { replyFor } from './replies';
import { saslStart, type SaslStep } from './sasl';
import { verifyClient, type TlsSetup } from './tls-settings';

export const MAX_LINE = 16 * 1024;
export const JUNK_LIMIT = 100;
export const DATA_PROGRESS = 64 * 1024;
/** unknown commands before the session is closed */
const UNKNOWN_LIMIT = 10;
/** commands answered at once before the session lets others run */
const BATCH = 100;
/** how long a closed session waits for the client to close its side */
const HALF_CLOSE_MS = 5000;
const JUNK = new Set(['NOOP', 'RSET', 'HELP', 'VRFY', 'EXPN']);
const HTTP_RE = /^(?:OPTIONS|GET|HEAD|POST|PUT|DELETE|TRACE|CONNECT|PATCH) \S+ HTTP\/\d(?:\.\d)?$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

export interface Credentials {
  readonly method: 'PLAIN' | 'LOGIN';
  readonly username: string;
  readonly password: string;
}

type Done = (err?: Error | null) => void;

/** What the session asks of the daemon. An error with a responseCode (replies.ts) is sent as
 * the reply; any other error is `451 4.3.0`. */
export interface SessionHandlers {
  onConnect(s: SmtpSession, cb: Done): void;
  onAuth(a: Credentials, s: SmtpSession, cb: (err: Error | null | undefined, user?: string) => void): void;
  onMailFrom(a: AddressCommand, s: SmtpSession, cb: Done): void;
  onRcptTo(a: AddressCommand, s: SmtpSession, cb: Done): void;
  /** read the body to its end; answer with the 250 text or an error */
  onData(body: MessageBody, s: SmtpSession, cb: (err: Error | null | undefined, text?: string) => void): void;
  onClose(s: SmtpSession): void;
}

export interface SessionOptions {
  /** the name in the banner and the EHLO reply */
  readonly name: string;
  readonly banner: string;
  /** the SIZE limit (0: none) */
  readonly size: number;
  readonly dsn: boolean;
  /** AUTH is a command of this listener (offered under TLS only) */
  readonly auth: boolean;
  /** STARTTLS is a command of this listener */
  readonly starttls: boolean;
  readonly tls?: TlsSetup;
  readonly commandTimeoutMs: number;
  readonly dataTimeoutMs: number;
  readonly handlers: SessionHandlers;
}

export interface Envelope {
  mailFrom?: AddressCommand;
  /** recipients accepted (the handler keeps what it needs of them) */
  rcpts: number;
  /** RET and ENVID of MAIL */
  dsn: { ret?: 'FULL' | 'HDRS'; envid?: string };
}

type Step = 'greeting' | 'command' | 'data' | 'verdict' | 'tls' | 'closed';

let sessions = 0;

/** the MAIL parameter keywords offered, by what decides them (SIZE, DSN, AUTH) */
const MAIL_OFFERED = new Map<string, Set<string>>();
const RCPT_DSN: ReadonlySet<string> = new Set(['NOTIFY', 'ORCPT']);
const NONE: ReadonlySet<string> = new Set();

export class SmtpSession {
  readonly id: string;
  readonly remoteAddress: string;
  readonly localAddress: string;
  secure = false;
  /** the HELO/EHLO argument, lower case ('' before one) */
  hostNameAppearsAs = '';
  openingCommand: 'HELO' | 'EHLO' | '' = '';
  user: string | undefined;
  /** the cipher of the TLS session */
  tlsOptions: tls.CipherNameAndProtocol | undefined;
  envelope: Envelope = { rcpts: 0, dsn: {} };

  private socket: Socket;
  private step: Step = 'greeting';
  private input: Buffer | undefined;
  private out = '';
  private flushing = false;
  private busy = false;
  private pumping = false;
  private closeAfterFlush = false;
  private timer: NodeJS.Timeout | undefined;
  private unknown = 0;
  private junk = 0;
  private continuation: ((line: string) => SaslStep) | undefined;
  private reader: DataReader | undefined;
  private body: MessageBody | undefined;
  private bodyBlocked = false;
  private verdict: { err: Error | null | undefined; text?: string } | undefined;
  private dataMark = 0;
  private shuttingDown = false;
  private gone = false;
  /** the client closed its side: the session ends once what it sent is answered */
  private clientEnded = false;
  /** the client said QUIT: once 221 is out the socket is closed outright (see close) */
  private quit = false;

  constructor(
    socket: Socket,
    private readonly opts: SessionOptions,
    /** the client address (from a PROXY header, or the socket's) */
    remoteAddress: string | undefined,
    /** called once, when the connection is gone */
    private readonly onGone: (s: SmtpSession) => void,
  ) {
    this.id = `${process.pid.toString(36)}${(++sessions).toString(36).padStart(6, '0')}`;
    this.socket = socket;
    this.remoteAddress = plainAddress(remoteAddress ?? socket.remoteAddress);
    this.localAddress = plainAddress(socket.localAddress);
    if (socket instanceof tls.TLSSocket) {
      this.secure = true;
      this.tlsOptions = socket.getCipher();
    }
  }

  get transmissionType(): string {
    return `${this.openingCommand === 'EHLO' ? 'E' : ''}SMTP${this.secure ? 'S' : ''}${this.user !== undefined ? 'A' : ''}`;
  }

  /** Starts the session: the handlers decide, then the banner (or a refusal). */
  start(): void {
    this.attach(this.socket);
    this.socket.setNoDelay(true);
    this.opts.handlers.onConnect(this, (err) => {
      if (this.step === 'closed') return;
      if (err) {
        const r = replyFor(err);
        this.send(r.code, r.text);
        return this.close();
      }
      this.step = 'command';
      this.send(220, `${this.opts.name} ESMTP ${this.opts.banner}`);
      this.pump();
    });
  }

  /** Refuses the session before its banner (too many clients) and closes it. */
  refuse(code: number, text: string): void {
    this.attach(this.socket);
    this.send(code, text);
    this.close();
  }

  /** The daemon is stopping: a session between commands gets 421 and is closed. */
  shutdown(): void {
    this.shuttingDown = true;
    if (this.step === 'command' && !this.busy) {
      this.send(421, '4.3.2 Server shutting down');
    }
  }

  // ---- the wire

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', () => this.close());
    socket.on('end', () => {
      this.clientEnded = true;
      this.pump();
    });
    socket.on('close', () => this.closed());
  }

  /** queues a reply; the replies of one turn go out together */
  private send(code: number, text: string | readonly string[]): void {
    if (this.step === 'closed' || this.closeAfterFlush) return;
    if (typeof text === 'string') this.out += `${code} ${text.replace(CONTROLS, ' ')}\r\n`;
    else text.forEach((l, i) => (this.out += `${code}${i < text.length - 1 ? '-' : ' '}${l.replace(CONTROLS, ' ')}\r\n`));
    if (code === 421) this.closeAfterFlush = true;
    this.arm(code);
    if (!this.flushing) {
      this.flushing = true;
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushing = false;
    if (this.out !== '' && !this.socket.destroyed && this.socket.writable) this.socket.write(this.out);
    this.out = '';
    if (this.closeAfterFlush) this.close();
  }

  /** the deadline that follows a reply: the next command's, DATA's, none while we decide */
  private arm(code: number): void {
    this.disarm();
    if (this.closeAfterFlush) return;
    if (code === 354) {
      this.dataMark = 0;
      if (this.opts.dataTimeoutMs > 0) this.timer = setTimeout(() => this.dataTimeout(), this.opts.dataTimeoutMs);
    } else if (this.opts.commandTimeoutMs > 0) {
      this.timer = setTimeout(() => this.commandTimeout(), this.opts.commandTimeoutMs);
    }
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private commandTimeout(): void {
    this.timer = undefined;
    if (this.step === 'tls') return void this.socket.destroy();
    if (this.busy || this.step === 'verdict') return; // waiting for our own answer
    this.send(421, `4.4.2 ${this.opts.name} Timeout: no complete command in time, closing connection`);
  }

  private dataTimeout(): void {
    this.timer = undefined;
    const reader = this.reader;
    if (this.step !== 'data' || !reader) return;
    if (reader.bytes - this.dataMark >= DATA_PROGRESS) {
      this.dataMark = reader.bytes;
      this.timer = setTimeout(() => this.dataTimeout(), this.opts.dataTimeoutMs);
      return;
    }
    this.send(421, `4.4.2 ${this.opts.name} Timeout: message data too slow, closing connection`);
  }

  private received(chunk: Buffer): void {
    if (this.step === 'closed' || this.closeAfterFlush) return;
    if (this.step === 'greeting') {
      this.send(421, `4.7.0 ${this.opts.name} You talk too soon`);
      return;
    }
    this.input = this.input ? Buffer.concat([this.input, chunk]) : chunk;
    if (this.busy || this.bodyBlocked || this.step === 'verdict') {
      // the client runs ahead of our answers: stop reading once a line's worth is waiting
      if (this.input.length > MAX_LINE) this.socket.pause();
      return;
    }
    this.pump();
  }

  /** handles the input that is waiting, until it runs out or a handler has to answer */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let handled = 0;
      while (this.input && !this.busy && !this.bodyBlocked && !this.closeAfterFlush) {
        if (this.step === 'data') {
          const chunk = this.input;
          this.input = undefined;
          this.feedData(chunk);
          continue;
        }
        if (this.step !== 'command') break;
        if (this.socket.writableNeedDrain) {
          this.socket.once('drain', () => this.pump());
          break;
        }
        const input = this.input;
        const lf = input.indexOf(0x0a);
        if (lf < 0 || lf > MAX_LINE) {
          if (input.length > MAX_LINE) {
            this.input = undefined;
            this.send(421, '4.7.0 Command line too long, closing connection');
          }
          break;
        }
        const end = lf > 0 && input[lf - 1] === 0x0d ? lf - 1 : lf;
        const line = input.toString('utf8', 0, end);
        this.input = lf + 1 < input.length ? input.subarray(lf + 1) : undefined;
        this.busy = true;
        this.command(line);
        if (++handled >= BATCH && !this.busy) {
          handled = 0;
          this.busy = true;
          setImmediate(() => this.next());
          break;
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.clientEnded && !this.busy && !this.input && (this.step === 'command' || this.step === 'data' || this.step === 'greeting')) return this.close();
    if (!this.busy && !this.bodyBlocked && this.step !== 'verdict' && this.socket.isPaused()) this.socket.resume();
  }

  /** the command is answered: on to the next line */
  private next(): void {
    this.busy = false;
    if (!this.pumping) this.pump();
  }

  private close(): void {
    if (this.step === 'closed') return;
    this.step = 'closed';
    this.disarm();
    this.input = undefined;
    if (this.out !== '' && this.socket.writable) this.socket.write(this.out);
    this.out = '';
    if (!this.socket.destroyed) {
      // after QUIT nothing more is coming: closed once the 221 is out, with no wait for the
      // client's FIN (a client that then resets, as smtp-source does, costs no error object)
      if (this.quit) this.socket.end(() => this.socket.destroy());
      else this.socket.end();
      this.socket.resume(); // read (and drop) what is left, so the client's FIN is seen
      // a client that reads nothing holds the 221 back: closed anyway
      setTimeout(() => this.socket.destroy(), Math.min(HALF_CLOSE_MS, this.opts.commandTimeoutMs || HALF_CLOSE_MS)).unref();
    }
  }

  private closed(): void {
    if (this.step !== 'closed') {
      this.step = 'closed';
      this.disarm();
    }
    this.body?.fail(Object.assign(new Error('Connection closed before the message was received in full'), { code: 'ECONNECTION' }));
    if (this.gone) return;
    this.gone = true;
    this.onGone(this);
    setImmediate(() => this.opts.handlers.onClose(this));
  }

  // ---- commands

  private command(line: string): void {
    const cont = this.continuation;
    if (cont) {
      this.continuation = undefined;
      return this.sasl(cont(line));
    }
    this.disarm();
    if (HTTP_RE.test(line)) {
      this.send(554, '5.7.0 This is an SMTP server, not an HTTP one');
      this.closeAfterFlush = true;
      return this.next();
    }
    if (this.shuttingDown) return this.send(421, '4.3.2 Server shutting down');
    const sp = line.indexOf(' ');
    const name = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    if (JUNK.has(name) && ++this.junk > JUNK_LIMIT) return this.send(421, '4.7.0 Too many junk commands, closing connection');
    switch (name) {
      case 'EHLO':
      case 'HELO':
        return this.hello(name, line);
      case 'MAIL':
        if (this.needHello()) return;
        return this.mail(line);
      case 'RCPT':
        if (this.needHello()) return;
        return this.rcpt(line);
      case 'DATA':
        if (this.needHello()) return;
        return this.data();
      case 'RSET':
        this.reset();
        return this.answer(250, '2.0.0 Flushed');
      case 'NOOP':
        return this.answer(250, '2.0.0 OK');
      case 'QUIT':
        this.send(221, '2.0.0 Bye');
        this.closeAfterFlush = true;
        this.quit = true;
        return this.next();
      case 'HELP':
        return this.answer(214, '2.0.0 See https://tools.ietf.org/html/rfc5321 for details');
      case 'VRFY':
        if (!line.trim().split(/\s+/)[1]) return this.answer(501, '5.5.4 Error: Syntax: VRFY address');
        return this.answer(252, '2.1.5 Try to send something. No promises though');
      case 'STARTTLS':
        if (this.opts.starttls && this.opts.tls) return this.starttls(line);
        break;
      case 'AUTH':
        if (!this.opts.auth || !this.opts.tls) break;
        if (this.needHello()) return;
        return this.auth(line);
    }
    if (++this.unknown >= UNKNOWN_LIMIT) return this.send(421, '4.7.0 Error: too many unrecognized commands');
    this.answer(500, '5.5.2 Error: command not recognized');
  }

  /** replies and goes on to the next command */
  private answer(code: number, text: string | readonly string[]): void {
    this.send(code, text);
    this.next();
  }

  /** MAIL, RCPT, DATA and AUTH need HELO or EHLO first: true when refused */
  private needHello(): boolean {
    if (this.hostNameAppearsAs !== '') return false;
    this.answer(503, '5.5.1 Error: send HELO/EHLO first');
    return true;
  }

  private reset(): void {
    this.envelope = { rcpts: 0, dsn: {} };
  }

  private hello(name: 'EHLO' | 'HELO', line: string): void {
    const parts = line.trim().split(/\s+/);
    const host = parts[1] ?? '';
    if (parts.length !== 2) return this.answer(501, `5.5.4 Error: syntax: ${name} hostname`);
    if (host.length > 300 || CONTROL.test(host)) return this.answer(501, '5.5.4 Error: Bad hostname syntax');
    this.hostNameAppearsAs = host.toLowerCase();
    this.openingCommand = name;
    this.reset();
    const greeting = `${this.opts.name} Nice to meet you, [${this.remoteAddress || 'local'}]`;
    if (name === 'HELO') return this.answer(250, greeting);
    const o = this.opts;
    const features = ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES'];
    if (o.dsn) features.push('DSN');
    if (o.auth && o.tls && this.secure && this.user === undefined) features.push('AUTH PLAIN LOGIN');
    if (o.starttls && o.tls && !this.secure) features.push('STARTTLS');
    if (o.size > 0) features.push(`SIZE ${o.size}`);
    this.answer(250, [greeting, ...features]);
  }

  /** the parameter keywords of the extensions offered to this session (they change only
   * with TLS, which offers AUTH) */
  private offered(kind: 'MAIL' | 'RCPT'): ReadonlySet<string> {
    const o = this.opts;
    if (kind === 'RCPT') return o.dsn ? RCPT_DSN : NONE;
    const key = `${o.size > 0 ? 'S' : ''}${o.dsn ? 'D' : ''}${o.auth && o.tls && this.secure ? 'A' : ''}`;
    let set = MAIL_OFFERED.get(key);
    if (!set) {
      set = new Set(['BODY', 'SMTPUTF8']);
      if (o.size > 0) set.add('SIZE');
      if (o.dsn) ['RET', 'ENVID'].forEach((k) => set!.add(k));
      if (key.includes('A')) set.add('AUTH');
      MAIL_OFFERED.set(key, set);
    }
    return set;
  }

  private mail(line: string): void {
    const parsed = parseAddressCommand('MAIL', line, this.offered('MAIL'), this.opts.size);
    if ('problem' in parsed) return this.answer(parsed.problem.code, `${parsed.problem.esc} ${parsed.problem.text}`);
    if (this.envelope.mailFrom) return this.answer(503, '5.5.1 Error: nested MAIL command');
    const ret = parsed.args.RET;
    const envid = parsed.args.ENVID;
    this.envelope.dsn = {
      ...(typeof ret === 'string' ? { ret: ret.toUpperCase() as 'FULL' | 'HDRS' } : {}),
      ...(typeof envid === 'string' ? { envid } : {}),
    };
    this.opts.handlers.onMailFrom(parsed, this, (err) => {
      if (this.step === 'closed') return;
      if (err) {
        this.envelope.dsn = {};
        const r = replyFor(err);
        return this.answer(r.code, r.text);
      }
      this.envelope.mailFrom = parsed;
      this.answer(250, '2.1.0 Accepted');
    });
  }

  private rcpt(line: string): void {
    const parsed = parseAddressCommand('RCPT', line, this.offered('RCPT'), this.opts.size);
    if ('problem' in parsed) return this.answer(parsed.problem.code, `${parsed.problem.esc} ${parsed.problem.text}`);
    if (!this.envelope.mailFrom) return this.answer(503, '5.5.1 Error: need MAIL command');
    const envelope = this.envelope;
    this.opts.handlers.onRcptTo(parsed, this, (err) => {
      if (this.step === 'closed') return;
      if (err) {
        const r = replyFor(err);
        return this.answer(r.code, r.text);
      }
      envelope.rcpts++;
      this.answer(250, '2.1.5 Accepted');
    });
  }

  private data(): void {
    if (this.envelope.rcpts === 0) return this.answer(503, '5.5.1 Error: need RCPT command');
    this.step = 'data';
    this.reader = new DataReader(this.opts.size);
    const body = (this.body = new MessageBody());
    this.verdict = undefined;
    this.opts.handlers.onData(body, this, (err, text) => {
      this.verdict = { err, ...(text !== undefined ? { text } : {}) };
      if (this.step === 'verdict') this.decided();
      else if (this.step === 'data') void body.discard(); // decided before the end: the rest is read and dropped
    });
    this.send(354, 'End data with <CR><LF>.<CR><LF>');
    this.next();
  }

  private feedData(chunk: Buffer): void {
    const reader = this.reader!;
    const body = this.body!;
    const fed = reader.feed(chunk);
    let room = true;
    for (const c of fed.content) room = body.write(c) && room;
    if (reader.oversized) body.sizeExceeded = true;
    if (fed.rest !== undefined) {
      if (fed.rest.length > 0) this.input = fed.rest;
      this.reader = undefined;
      this.step = 'verdict';
      this.disarm();
      body.end();
      if (this.verdict) this.decided();
      return;
    }
    if (!room) {
      this.bodyBlocked = true;
      this.socket.pause();
      body.onDrain(() => {
        this.bodyBlocked = false;
        this.pump();
      });
    }
  }

  /** the message is in and the handler has answered */
  private decided(): void {
    const v = this.verdict!;
    this.verdict = undefined;
    this.body = undefined;
    this.bodyBlocked = false;
    this.step = 'command';
    if (v.err) {
      const r = replyFor(v.err);
      this.send(r.code, r.text);
    } else {
      this.unknown = 0;
      this.junk = 0;
      this.send(250, v.text ?? '2.0.0 OK: message queued');
    }
    this.reset();
    this.pump();
  }

  // ---- STARTTLS and AUTH

  private starttls(line: string): void {
    if (line.trim().split(/\s+/).length > 1) return this.answer(501, '5.5.4 Error: syntax: STARTTLS');
    if (this.secure) return this.answer(503, '5.5.1 Error: TLS already active');
    this.send(220, '2.0.0 Ready to start TLS');
    this.flush();
    // whatever came after STARTTLS came in plaintext: dropped, never run inside TLS
    this.input = undefined;
    this.step = 'tls';
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('end');
    raw.removeAllListeners('close');
    raw.on('close', () => this.closed());
    const setup = this.opts.tls!;
    const secure = new tls.TLSSocket(raw, setup.socketOptions);
    secure.on('error', () => {
      secure.destroy();
      raw.destroy();
    });
    secure.once('secure', () => {
      if (this.step === 'closed') return;
      const problem = verifyClient(secure, setup);
      if (problem) {
        secure.destroy();
        raw.destroy();
        return;
      }
      this.socket = secure;
      this.attach(secure);
      this.secure = true;
      this.tlsOptions = secure.getCipher();
      // RFC 3207 §4.2: nothing learnt before the handshake counts
      this.user = undefined;
      this.hostNameAppearsAs = '';
      this.openingCommand = '';
      this.reset();
      this.step = 'command';
      this.arm(220);
      this.next();
    });
  }

  private auth(line: string): void {
    if (!this.secure) return this.answer(538, '5.7.11 Encryption required for requested authentication mechanism');
    if (this.user !== undefined) return this.answer(503, '5.5.1 Already authenticated');
    if (this.envelope.mailFrom) return this.answer(503, '5.5.1 AUTH not permitted during a mail transaction');
    const args = line.trim().split(/\s+/).slice(1);
    const method = (args.shift() ?? '').toUpperCase();
    this.sasl(saslStart(method, args));
  }

  private sasl(step: SaslStep): void {
    if ('reply' in step) return this.answer(step.reply.code, step.reply.text);
    if ('challenge' in step) {
      this.continuation = step.next;
      return this.answer(334, step.challenge);
    }
    this.opts.handlers.onAuth(step.credentials, this, (err, user) => {
      if (this.step === 'closed') return;
      if (err || user === undefined) {
        const r = err ? replyFor(err) : { code: 535, text: '5.7.8 Authentication failed' };
        return this.answer(r.code, r.text);
      }
      this.user = user;
      this.answer(235, '2.7.0 Authentication successful');
    });
  }

}
