/**
 * One outbound SMTP transaction: connect to one address, the greeting, EHLO (HELO when EHLO is
 * refused), STARTTLS (when offered, unless the route says no; required by smtp+tls and `tls`;
 * bytes sent in plaintext after the STARTTLS reply are discarded), AUTH PLAIN (only under
 * TLS), MAIL FROM (SIZE and BODY=8BITMIME when offered), RCPT TO for each recipient and DATA
 * for those accepted (MAIL and the RCPTs in one write when PIPELINING is offered), QUIT.
 *
 * openSession either fails to reach a working server (the caller tries the next address or
 * MX) or gives a Session; each transaction on it gives one outcome per recipient: 2xx
 * delivered, 4xx temporary, 5xx permanent, with the server's words (sanitized: they are
 * stored and logged). A session whose transaction ended cleanly can carry the next one.
 * Privileges: the daemon user (mta). Peers: the remote SMTP server.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { dataLines } from '../mail/smtp-io';
import { ReplyReader, sanitize, type Reply } from './reply-reader';
import type { TlsMode } from './relay-url';
import type { DsnRequest } from '../bus/msg-smtp-queue';

export interface Peer {
  /** the address to connect to */
  readonly address: string;
  readonly port: number;
  /** the host's name (TLS server name, verification, logs) */
  readonly name: string;
  readonly tls: TlsMode;
  /** verify the server's certificate (against `ca`, or the system's) */
  readonly verify: boolean;
  readonly ca?: Buffer;
  readonly helo: string;
  /** the local address to connect from (relay `src`) */
  readonly localAddress?: string;
  /** the EHLO name by local address (relay `helo-src`), before `helo` */
  readonly heloSrc?: Readonly<Record<string, string>>;
  readonly auth?: { readonly user: string; readonly password: string };
  /** how long each reply may take (the greeting, each command, the end of DATA) */
  readonly timeoutMs: number;
  /** speak LMTP (RFC 2033): LHLO, and a reply per recipient after the data */
  readonly lmtp?: boolean;
  /** a client certificate (relay `pki`), ciphers and TLS versions (relay `ciphers`, `protocols`) */
  readonly tlsExtra?: Pick<tls.ConnectionOptions, 'cert' | 'key' | 'ciphers' | 'minVersion' | 'maxVersion'>;
}

export interface Transaction {
  readonly sender: string;
  readonly rcpts: readonly string[];
  readonly content: Buffer;
  /** per recipient: the sender's DSN request (RFC 3461), passed on when the server offers DSN */
  readonly dsn?: readonly (DsnRequest | undefined)[];
}

export interface Outcome {
  readonly result: 'ok' | 'tempfail' | 'permfail';
  readonly text: string;
  /** the server took the recipient's NOTIFY: success notices are its business now */
  readonly dsnPassed?: boolean;
}

/** xtext (RFC 3461 §4): "+", "=" and what is not printable ASCII as +HH */
export function xtext(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d ? String.fromCharCode(b) : `+${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** MAIL and RCPT parameters of a DSN request, for a server that offers DSN */
function dsnParams(tx: Transaction): { mail: string[]; rcpt: string[][] } {
  const first = tx.dsn?.find((d) => d?.ret !== undefined || d?.envid !== undefined);
  return {
    mail: [...(first?.ret ? [`RET=${first.ret}`] : []), ...(first?.envid ? [`ENVID=${xtext(first.envid)}`] : [])],
    rcpt: tx.rcpts.map((_, i) => {
      const d = tx.dsn?.[i];
      const semi = d?.orcpt?.indexOf(';') ?? -1;
      return [...(d?.notify ? [`NOTIFY=${d.notify.join(',')}`] : []), ...(d?.orcpt && semi > 0 ? [`ORCPT=${d.orcpt.slice(0, semi)};${xtext(d.orcpt.slice(semi + 1))}`] : [])];
    }),
  };
}

/** a reply as an error line: code and one line of printable text (it is stored and logged) */
function line(r: Reply): string {
  return `${r.code} ${sanitize(r.text)}`;
}

function outcomeOf(r: Reply, where: string, host: string): Outcome {
  if (r.code === 0) return { result: 'tempfail', text: `421 4.4.2 ${host}: ${r.text} (at ${where})` };
  if (r.code >= 200 && r.code < 300) return { result: 'ok', text: `${host}: ${line(r)}` };
  return { result: r.code >= 500 ? 'permfail' : 'tempfail', text: `${host} said at ${where}: ${line(r)}` };
}

class Connection {
  private socket: net.Socket | tls.TLSSocket;
  private reader = new ReplyReader();
  secure = false;

  constructor(socket: net.Socket | tls.TLSSocket, private readonly timeoutMs: number) {
    this.socket = socket;
    this.attach(socket);
  }

  /** `cb` once the connection is closed (the TCP socket underneath any TLS) */
  onClose(cb: () => void): void {
    if (this.socket.destroyed) return cb();
    this.socket.once('close', cb);
  }

  private attach(s: net.Socket): void {
    s.on('data', (c: Buffer) => this.reader.push(c));
    s.on('close', () => this.reader.close());
    s.on('error', () => this.reader.close());
  }

  /** the next reply; past the time limit the connection is dropped and the reply is code 0 */
  async next(): Promise<Reply> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Reply>((resolve) => {
      timer = setTimeout(() => {
        this.socket.destroy();
        resolve({ code: 0, text: `no reply within ${Math.round(this.timeoutMs / 1000)} s`, lines: [] });
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([this.reader.next(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  write(text: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  async say(command: string): Promise<Reply> {
    this.write(`${command}\r\n`);
    return this.next();
  }

  /** TLS over the connection; what the server sent in plaintext after its 220 is dropped */
  async upgrade(peer: Peer): Promise<string | undefined> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    this.reader = new ReplyReader();
    const servername = net.isIP(peer.name) === 0 ? peer.name : undefined;
    return new Promise((resolve) => {
      const s = tls.connect({
        socket: plain,
        ...(servername ? { servername } : {}),
        rejectUnauthorized: peer.verify,
        ...(peer.ca ? { ca: peer.ca } : {}),
        minVersion: 'TLSv1.2',
        ...peer.tlsExtra,
      });
      const fail = (e: NodeJS.ErrnoException) => resolve(`TLS with ${peer.name} failed: ${sanitize(`${e.code ?? ''} ${e.message}`)}`);
      const timer = setTimeout(() => {
        s.destroy();
        fail(Object.assign(new Error(`no handshake within ${Math.round(this.timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' }));
      }, this.timeoutMs);
      s.once('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
      s.once('secureConnect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        this.socket = s;
        this.secure = true;
        this.attach(s);
        resolve(undefined);
      });
    });
  }

  alive(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  /** the address this end of the connection has */
  localAddress(): string {
    return (this.socket.localAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
  }

  close(): void {
    if (this.socket.destroyed) return;
    this.socket.end('QUIT\r\n');
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function connect(peer: Peer): Promise<Connection | string> {
  return new Promise((resolve) => {
    const where = `${peer.name} [${peer.address}]:${peer.port}`;
    const s: net.Socket =
      peer.tls === 'smtps'
        ? tls.connect({ host: peer.address, port: peer.port, ...(peer.localAddress ? { localAddress: peer.localAddress } : {}), ...(net.isIP(peer.name) === 0 ? { servername: peer.name } : {}), rejectUnauthorized: peer.verify, ...(peer.ca ? { ca: peer.ca } : {}), minVersion: 'TLSv1.2', ...peer.tlsExtra })
        : net.connect({ host: peer.address, port: peer.port, ...(peer.localAddress ? { localAddress: peer.localAddress } : {}) });
    s.setTimeout(peer.timeoutMs, () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    // for smtps, an error once TCP is up is the TLS handshake's (a certificate not verified...)
    let tcpUp = false;
    s.once('connect', () => (tcpUp = true));
    const fail = (e: NodeJS.ErrnoException) =>
      resolve(tcpUp && peer.tls === 'smtps' ? `TLS with ${peer.name} failed: ${sanitize(`${e.code ?? ''} ${e.message}`)}` : `cannot connect to ${where}: ${sanitize(e.code ?? e.message)}`);
    s.once('error', fail);
    s.once(peer.tls === 'smtps' ? 'secureConnect' : 'connect', () => {
      s.removeListener('error', fail);
      s.setTimeout(0);
      const c = new Connection(s, peer.timeoutMs);
      c.secure = peer.tls === 'smtps';
      resolve(c);
    });
  });
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** An SMTP session ready for transactions: greeted, EHLO said, TLS and AUTH done as the route
 * asks. After a transaction that reached its end (the reply to the final dot), the server is
 * ready for the next one on the same connection. */
export class Session {
  /** the last transaction ended cleanly: the session may carry another */
  reusable = true;
  /** transactions begun on this session (`mta limit session-mail-max`) */
  transactions = 0;

  constructor(
    private readonly c: Connection,
    readonly peer: Peer,
    private readonly extensions: ReadonlySet<string>,
  ) {}

  /** One transaction; never throws. `stale`: the server had closed a reused connection
   * before it saw anything of this transaction (try again on a new one). */
  async transaction(tx: Transaction): Promise<{ readonly outcomes: Outcome[]; readonly stale: boolean }> {
    const { c, peer, extensions } = this;
    const host = peer.name;
    this.reusable = false;
    this.transactions++;
    // an address that is not ASCII needs SMTPUTF8 at the other end (RFC 6531)
    const utf8 = !isAscii(tx.sender) || tx.rcpts.some((r) => !isAscii(r));
    if (utf8 && !extensions.has('SMTPUTF8')) {
      return { stale: false, outcomes: tx.rcpts.map(() => ({ result: 'permfail', text: `553 5.6.7 ${host} does not support SMTPUTF8, which this message's addresses need` })) };
    }
    const dsnOn = extensions.has('DSN');
    const dsn = dsnOn ? dsnParams(tx) : { mail: [], rcpt: tx.rcpts.map(() => []) };
    const params = [
      ...(extensions.has('SIZE') ? [`SIZE=${tx.content.length}`] : []),
      ...(extensions.has('8BITMIME') && tx.content.some((b) => b > 0x7f) ? ['BODY=8BITMIME'] : []),
      ...(utf8 ? ['SMTPUTF8'] : []),
      ...dsn.mail,
    ];
    const mailLine = `MAIL FROM:<${tx.sender}>${params.map((x) => ` ${x}`).join('')}`;
    const rcptLines = tx.rcpts.map((r, i) => `RCPT TO:<${r}>${dsn.rcpt[i]!.map((x) => ` ${x}`).join('')}`);
    let mail: Reply;
    const rcptReplies: Reply[] = [];
    if (extensions.has('PIPELINING')) {
      c.write([mailLine, ...rcptLines].map((l) => `${l}\r\n`).join(''));
      mail = await c.next();
      for (let i = 0; i < rcptLines.length; i++) rcptReplies.push(await c.next());
    } else {
      mail = await c.say(mailLine);
      if (mail.code === 250) for (const l of rcptLines) rcptReplies.push(await c.say(l));
    }
    if (mail.code !== 250) {
      const o = outcomeOf(mail, 'MAIL FROM', host);
      return { stale: mail.code === 0 || mail.code === 421, outcomes: tx.rcpts.map(() => o) };
    }
    const outcomes: (Outcome | undefined)[] = rcptReplies.map((r) => (r.code === 250 || r.code === 251 ? undefined : outcomeOf(r, 'RCPT TO', host)));
    if (outcomes.every((o) => o !== undefined)) return { stale: false, outcomes: outcomes as Outcome[] };
    const data = await c.say('DATA');
    if (data.code !== 354) {
      const o = outcomeOf(data, 'DATA', host);
      return { stale: false, outcomes: outcomes.map((x) => x ?? o) };
    }
    c.write(dataLines(tx.content));
    if (peer.lmtp) {
      // LMTP: one reply per accepted recipient, in order
      const each: Outcome[] = [];
      for (let i = 0; i < outcomes.length; i++) {
        if (outcomes[i] !== undefined) continue;
        const r = await c.next();
        outcomes[i] = r.code >= 200 && r.code < 300 ? { result: 'ok', text: `delivered to ${host} [${peer.address}] by LMTP: ${line(r)}` } : outcomeOf(r, 'the end of DATA', host);
        each.push(outcomes[i]!);
      }
      this.reusable = each.every((o) => !/^(?:421 4\.4\.2|421 )/.test(o.text)) && c.alive();
      return { stale: false, outcomes: outcomes as Outcome[] };
    }
    const end = await c.next();
    const o = end.code >= 200 && end.code < 300 ? { result: 'ok' as const, text: `delivered to ${host} [${peer.address}]: ${line(end)}` } : outcomeOf(end, 'the end of DATA', host);
    this.reusable = end.code !== 0 && end.code !== 421 && c.alive();
    const passed = (i: number) => o.result === 'ok' && dsnOn && tx.dsn?.[i]?.notify !== undefined;
    return { stale: false, outcomes: outcomes.map((x, i) => x ?? (passed(i) ? { ...o, dsnPassed: true } : o)) };
  }

  alive(): boolean {
    return this.c.alive();
  }

  onClose(cb: () => void): void {
    this.c.onClose(cb);
  }

  /** QUIT and close */
  close(): void {
    this.c.close();
  }
}

/** Connect to `peer` and make the session ready; never throws. A failure here means this
 * server cannot take the mail now: the caller tries the next address or MX. */
export async function openSession(peer: Peer): Promise<Session | { readonly failed: string }> {
  const c = await connect(peer);
  if (typeof c === 'string') return { failed: `${c.startsWith('TLS') ? '421 4.7.10' : '421 4.4.1'} ${c}` };
  const r = await greet(c, peer);
  if (typeof r === 'string') {
    c.close();
    return { failed: r };
  }
  return new Session(c, peer, r);
}

/** the greeting, EHLO (or HELO), STARTTLS and AUTH: the extensions offered, or why not */
async function greet(c: Connection, peer: Peer): Promise<Set<string> | string> {
  const host = peer.name;
  const helo = peer.heloSrc?.[c.localAddress()] ?? peer.helo;
  const down = (r: Reply, where: string): string => outcomeOf(r, where, host).text.replace(/^(?=[^\d])/, '421 4.4.2 ');
  const greeting = await c.next();
  if (greeting.code !== 220) return down(greeting, 'the greeting');
  if (peer.lmtp) {
    const lhlo = await c.say(`LHLO ${helo}`);
    if (lhlo.code !== 250) return down(lhlo, 'LHLO');
    return new Set(lhlo.lines.slice(1).map((l) => l.split(' ')[0]!.toUpperCase()));
  }
  let ehlo = await c.say(`EHLO ${helo}`);
  let extensions = new Set<string>();
  if (ehlo.code === 250) extensions = new Set(ehlo.lines.slice(1).map((l) => l.split(' ')[0]!.toUpperCase()));
  else {
    if (ehlo.code === 0) return down(ehlo, 'EHLO');
    const reply = await c.say(`HELO ${helo}`);
    if (reply.code !== 250) return down(reply, 'HELO');
  }
  const tlsWanted = peer.tls === 'starttls' || (peer.tls === 'opportunistic' && extensions.has('STARTTLS'));
  if (tlsWanted && !c.secure) {
    if (!extensions.has('STARTTLS')) return `421 4.7.10 ${host} does not offer STARTTLS, which this route requires`;
    const go = await c.say('STARTTLS');
    if (go.code !== 220) return down(go, 'STARTTLS');
    const failed = await c.upgrade(peer);
    if (failed !== undefined) return `421 4.7.10 ${failed}`;
    ehlo = await c.say(`EHLO ${helo}`);
    if (ehlo.code !== 250) return down(ehlo, 'EHLO after STARTTLS');
    extensions = new Set(ehlo.lines.slice(1).map((l) => l.split(' ')[0]!.toUpperCase()));
  }
  if (peer.auth) {
    if (!c.secure) return `421 4.7.10 ${host}: credentials are never sent without TLS`;
    const token = Buffer.from(`\0${peer.auth.user}\0${peer.auth.password}`).toString('base64');
    const r = await c.say(`AUTH PLAIN ${token}`);
    if (r.code !== 235) return outcomeOf(r, 'AUTH', host).text.replace(/^(?=[^\d])/, '421 4.7.8 ');
  }
  return extensions;
}
