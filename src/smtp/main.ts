/**
 * smtp: inbound SMTP sessions on smtp-server. For each recipient it asks lka (the ruleset);
 * for each message it streams the body to the queue (Received header first), refuses bare CR
 * or LF and loops, and answers 250 only after the queue reports the message committed to disk.
 * AUTH PLAIN and LOGIN (under TLS only) are checked by lka; `senders` too.
 * smtpctl pause smtp makes new sessions get 421 4.3.2 until resume smtp.
 * Privileges: binds its listeners before dropping privileges (so port 25 works), then runs as
 * the daemon user (_smtpd). Peers: control, lka, queue. Never decides policy itself.
 */
import * as fs from 'node:fs';
import type { Server } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerAuthentication, type SMTPServerAuthenticationResponse, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Ca, InetListener, Listener, Pki, SocketListener, Table } from '../parse/config';
import type { EnvelopeTarget, LkaToSmtp } from '../bus/msg-smtp-lka';
import type { EnvelopeIn, QueueToSmtp } from '../bus/msg-smtp-queue';
import { runWorker, type WorkerContext } from '../bus/worker-runtime';
import { serverName } from '../util/hostname';
import { checkAddress } from './address-check';
import './auth-guard';
import { AuthLimits } from './auth-limits';
import { bindAddresses } from './addresses';
import { BodyChecker, MAX_HOPS } from './body';
import { HeaderGate, newMessageId } from './header-gate';
import { receivedHeader, tlsSummary } from './received';
import { tlsOptions, type Certificates } from './tls-settings';
import './dot-stuffing';
import './greeting';
import './mail-rcpt-filter';
import { ClientCounts } from './client-counts';
import { SessionStats } from './session-stats';
import { MsgidPool } from './msgid-pool';
import type { ControlToSmtp } from '../bus/msg-control-smtp';
import { dispatch, type Handlers } from '../bus/schema';
import type { PeerChannel } from '../bus/worker-runtime';
import { guardOptions } from './session-guard';
import { proxyV2Options } from './proxy-v2';
import { replyError } from './replies';
import { PeerGate } from './peer-gate';

/** The part of the configuration smtp receives (see parent/config-parts.ts). */
export interface SmtpConfig {
  readonly listeners: readonly Listener[];
  readonly smtp: { maxMails: number; maxRcpt: number; maxMessageSize: number; ciphers: string };
  readonly pki: readonly Pki[];
  readonly ca: readonly Ca[];
  /** the tables the listeners' `hostnames` name */
  readonly tables?: readonly Table[];
  readonly sessions: { commandTimeoutMs: number; dataTimeoutMs: number; max: number; perIp: number };
  /** the path of the local enqueue socket (the socket listener, always there) */
  readonly localSocket: string;
}

/** What a session needs of its listener. The local socket listener is an inet one without TLS,
 * AUTH or senders, whose clients are `local`. */
type ListenerView = InetListener & { readonly local: boolean };

function viewOf(l: InetListener | SocketListener): ListenerView {
  if (l.kind === 'inet') return { ...l, local: false };
  return {
    kind: 'inet',
    on: 'socket',
    port: 0,
    tls: 'none',
    verify: false,
    pki: [],
    auth: 'none',
    maskSrc: l.maskSrc,
    receivedAuth: false,
    dsn: l.dsn,
    proxyV2: false,
    ...(l.tag !== undefined ? { tag: l.tag } : {}),
    ...(l.filter !== undefined ? { filter: l.filter } : {}),
    local: true,
  };
}


interface SessionState {
  /** by recipient address in lower case (smtp-server also takes two spellings as one) */
  targets: Map<string, { rcpt: string; targets: EnvelopeTarget[]; dsn?: RcptDsn }>;
  mails: number;
}

/** NOTIFY and ORCPT of a RCPT, as smtp-server parsed them */
interface RcptDsn {
  readonly notify?: ('NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY')[];
  readonly orcpt?: string;
}

/** the DSN request of one recipient of the session's transaction, or undefined if none */
function dsnOf(s: SMTPServerSession, rcpt: RcptDsn | undefined): EnvelopeIn['dsn'] {
  const m = (s.envelope as { dsn?: { ret?: string; envid?: string } }).dsn ?? {};
  const ret: 'FULL' | 'HDRS' | undefined = m.ret === 'FULL' ? 'FULL' : m.ret === 'HDRS' ? 'HDRS' : undefined;
  const d = {
    ...(rcpt?.notify?.length ? { notify: rcpt.notify } : {}),
    ...(rcpt?.orcpt ? { orcpt: rcpt.orcpt } : {}),
    ...(ret ? { ret } : {}),
    ...(m.envid ? { envid: m.envid } : {}),
  };
  return Object.keys(d).length > 0 ? d : undefined;
}

const states = new WeakMap<SMTPServerSession, SessionState>();
function state(s: SMTPServerSession): SessionState {
  let st = states.get(s);
  if (!st) states.set(s, (st = { targets: new Map(), mails: 0 }));
  return st;
}

/** MAIL FROM carried SMTPUTF8 */
function smtputf8(a: SMTPServerAddress): boolean {
  const args = a.args as Record<string, unknown> | false | undefined;
  return Boolean(args && Object.keys(args).some((k) => k.toUpperCase() === 'SMTPUTF8'));
}

/** the authenticated user, if any (smtp-server leaves a falsy value after a reset) */
function authUser(s: SMTPServerSession): string | undefined {
  return s.user ? String(s.user) : undefined;
}

/** AUTH failures, shared by every listener of this worker */
const authLimits = new AuthLimits();
/** the queue said its spool is nearly full: MAIL gets 452 4.3.1 until it says otherwise */
let spoolLow = false;
/** sessions at once per client address, across listeners */
const clients = new ClientCounts();
/** sessions for smtpctl show stats */
const sessionStats = new SessionStats();
/** message ids reserved by the queue */
const msgids = new MsgidPool();
/** smtpctl pause smtp: new sessions get 421 until resume smtp */
let paused = false;
/** how long a new session waits for lka and the queue (daemon starting, a peer restarting) */
const PEER_WAIT_MS = 10_000;
/** the peers every session needs */
type SessionPeers = PeerGate<'lka' | 'queue'>;
setInterval(() => authLimits.prune(), 60_000).unref();

/** an IPv4 address as itself, not IPv4-mapped IPv6 (`::ffff:1.2.3.4`) */
function plainAddress(a: string): string {
  return a.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/** the client's address; `local` on the local socket (which has none) */
function clientIp(s: SMTPServerSession): string {
  return s.remoteAddress ? plainAddress(s.remoteAddress) : 'local';
}

/** MAIL FROM's address ('' for the null sender or before MAIL) */
function envelopeSender(s: SMTPServerSession): string {
  return s.envelope.mailFrom ? s.envelope.mailFrom.address : '';
}

class Inbound {
  constructor(
    private readonly worker: WorkerContext,
    private readonly listener: ListenerView,
    private readonly config: SmtpConfig,
    /** the name announced for a local address (hostname, hostnames, or the server name) */
    private readonly nameFor: (localAddress: string | undefined) => string,
    /** lka and the queue connected */
    private readonly peersUp: SessionPeers,
  ) {}

  /** the channel to lka or the queue; without one, `cb` gets 421 4.3.0 and undefined is returned */
  private peer(name: 'lka' | 'queue', cb: (err: Error) => void) {
    const ch = this.worker.peers.get(name);
    if (!ch) cb(replyError(421, '4.3.0', 'Service temporarily unavailable'));
    return ch;
  }

  private sessionInfo(s: SMTPServerSession) {
    return {
      src: clientIp(s),
      socket: this.listener.local,
      helo: s.hostNameAppearsAs ?? '',
      tls: s.secure,
      ...(authUser(s) !== undefined ? { auth: authUser(s)! } : {}),
      ...(this.listener.tag !== undefined ? { tag: this.listener.tag } : {}),
    };
  }

  onConnect(s: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (paused) return cb(replyError(421, '4.3.2', 'Service paused, try again later'));
    const ip = clientIp(s);
    if (!clients.open(s.id, ip, this.config.sessions.perIp)) {
      this.worker.log.warn({ event: 'too-many-sessions', ip });
      return cb(replyError(421, '4.7.0', 'Too many connections from your address, try again later'));
    }
    sessionStats.opening(s.id, this.listener.local ? 'local' : ip.includes(':') ? 'inet6' : 'inet4');
    this.worker.log.debug({ event: 'smtp-connected', session: s.id, ip });
    if (this.peersUp.open) return cb();
    // the banner waits until this session could be served (the daemon is starting, or lka or
    // the queue is being restarted); a client gets 421 only if that takes too long
    this.peersUp.wait(PEER_WAIT_MS).then((up) => {
      if (up) return cb();
      this.worker.log.warn({ event: 'session-refused', ip, reason: 'lka or queue not connected' });
      cb(replyError(421, '4.3.0', 'Service temporarily unavailable'));
    });
  }

  onAuth(auth: SMTPServerAuthentication, s: SMTPServerSession, cb: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void): void {
    const ip = clientIp(s);
    const user = auth.username ?? '';
    if (authLimits.blocked(ip)) {
      this.worker.log.warn({ event: 'auth-rate-limited', ip, user });
      return cb(replyError(454, '4.7.0', 'Too many authentication failures, try again later'));
    }
    const lka = this.peer('lka', cb);
    if (!lka) return;
    const table = this.listener.authTable;
    const ask = { type: 'LKA_AUTH' as const, user, password: auth.password ?? '', ...(table !== undefined ? { table } : {}) };
    lka.request<LkaToSmtp>(ask, 15_000).then(
      (r) => {
        const result = r.type === 'LKA_AUTH_RESULT' ? r.result : 'tempfail';
        if (result === 'ok') {
          this.worker.log.info({ event: 'auth-ok', ip, user, method: auth.method });
          return cb(null, { user });
        }
        if (result === 'tempfail') {
          this.worker.log.warn({ event: 'auth-tempfail', ip, user });
          return cb(replyError(454, '4.7.0', 'Temporary authentication failure'));
        }
        const f = authLimits.fail(s.id, ip);
        this.worker.log.warn({ event: 'auth-failed', ip, user, method: auth.method });
        if (f.close) return cb(replyError(421, '4.7.0', 'Too many authentication failures'));
        setTimeout(() => cb(replyError(535, '5.7.8', 'Authentication failed')), f.delayMs);
      },
      () => cb(replyError(454, '4.7.0', 'Temporary authentication failure')),
    );
  }

  onMailFrom(address: SMTPServerAddress, s: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (this.listener.tls === 'require' && !s.secure) return cb(replyError(530, '5.7.0', 'Must issue a STARTTLS command first'));
    const user = authUser(s);
    if (this.listener.auth === 'required' && user === undefined) return cb(replyError(530, '5.7.0', 'Authentication required'));
    const problem = checkAddress(address.address, 'sender', smtputf8(address));
    if (problem) return cb(replyError(problem.code, problem.esc, problem.text));
    if (spoolLow) return cb(replyError(452, '4.3.1', 'Insufficient system storage'));
    const st = state(s);
    st.targets.clear();
    if (st.mails >= this.config.smtp.maxMails) return cb(replyError(452, '4.5.3', 'Too many messages sent'));
    const senders = this.listener.senders;
    if (!senders || user === undefined) return cb();
    const lka = this.peer('lka', cb);
    if (!lka) return;
    lka.request<LkaToSmtp>({ type: 'LKA_SENDER', table: senders.table, user, mailFrom: address.address }).then(
      (r) => {
        const result = r.type === 'LKA_SENDER_RESULT' ? r.result : 'tempfail';
        if (result === 'allowed') return cb();
        if (result === 'refused') {
          this.worker.log.warn({ event: 'sender-refused', ip: clientIp(s), user, from: address.address });
          return cb(replyError(553, '5.7.1', 'Sender address not allowed for this user'));
        }
        cb(replyError(451, '4.3.0', 'Temporary failure'));
      },
      () => cb(replyError(451, '4.3.0', 'Temporary failure')),
    );
  }

  onRcptTo(received: string, dsn: RcptDsn | undefined, s: SMTPServerSession, cb: (err?: Error | null) => void): void {
    // RFC 5321 §4.5.1: <postmaster> without a domain must be accepted: this host's postmaster
    const address = received.toLowerCase() === 'postmaster' ? `postmaster@${serverName()}` : received;
    const problem = checkAddress(address, 'recipient', s.envelope.mailFrom ? smtputf8(s.envelope.mailFrom) : false);
    if (problem) return cb(replyError(problem.code, problem.esc, problem.text));
    const st = state(s);
    if (st.targets.size >= this.config.smtp.maxRcpt) return cb(replyError(452, '4.5.3', 'Too many recipients'));
    const lka = this.peer('lka', cb);
    if (!lka) return;
    const mailFrom = envelopeSender(s);
    lka.request<LkaToSmtp>({ type: 'LKA_RCPT', session: this.sessionInfo(s), mailFrom, rcpt: address }).then(
      (r) => {
        if (r.type === 'LKA_RCPT_OK') {
          const key = address.toLowerCase();
          if (!st.targets.has(key)) st.targets.set(key, { rcpt: address, targets: r.targets, ...(dsn ? { dsn } : {}) });
          cb();
        } else if (r.type === 'LKA_RCPT_FAIL') cb(replyError(r.code, r.esc, r.text));
        else cb(replyError(451, '4.3.0', 'Temporary failure'));
      },
      () => cb(replyError(451, '4.3.0', 'Temporary failure')),
    );
  }

  onData(stream: SMTPServerDataStream, s: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    this.receive(stream, s).then(
      (msgid) => {
        state(s).mails++;
        cb(null, `2.0.0 ${msgid} Message accepted for delivery`);
      },
      (e: Error) => cb(e),
    );
  }

  private async receive(stream: SMTPServerDataStream, s: SMTPServerSession): Promise<string> {
    const drain = () => new Promise<void>((r) => stream.on('end', r).resume());
    let unavailable: Error | undefined;
    const queue = this.peer('queue', (e) => (unavailable = e));
    if (!queue) {
      await drain();
      throw unavailable;
    }
    const taken = await msgids.take(queue);
    if (!('msgid' in taken)) {
      await drain();
      if (taken.fail?.type === 'QUEUE_FAIL') throw replyError(taken.fail.code, taken.fail.esc, taken.fail.text);
      throw replyError(451, '4.3.0', 'Temporary failure in the queue');
    }
    const msgid = taken.msgid;
    const id = parseInt(msgid, 16);
    const st = state(s);
    const rcpts = [...st.targets.values()].map((t) => t.rcpt);
    const header = receivedHeader({
      helo: s.hostNameAppearsAs ?? '',
      ip: clientIp(s),
      serverName: this.nameFor(s.localAddress),
      esmtp: s.transmissionType?.startsWith('ESMTP') ?? true,
      tls: s.secure ? tlsSummary(s.tlsOptions, this.listener.verify) : undefined,
      auth: authUser(s),
      receivedAuth: this.listener.receivedAuth,
      msgid,
      rcpts,
      maskSrc: this.listener.maskSrc,
      date: new Date(),
    });
    const check = new BodyChecker();
    queue.sendBytes(id, Buffer.from(header));
    // every message loses its Bcc fields; submissions (authenticated or local sessions) get a
    // Message-ID when they have none, and with senders ... masquerade their From header is the
    // envelope sender
    const mailFrom = envelopeSender(s);
    const masquerade = this.listener.senders?.masquerade === true && mailFrom !== '';
    const gate = new HeaderGate(
      authUser(s) !== undefined || this.listener.local
        ? { messageId: () => newMessageId(msgid, this.nameFor(s.localAddress)), ...(masquerade ? { from: mailFrom } : {}) }
        : {},
    );
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        check.push(chunk);
        for (const part of gate.push(chunk)) if (!queue.sendBytes(id, part)) await queue.drained();
      }
      for (const part of gate.end()) queue.sendBytes(id, part);
    } catch (e) {
      // the client went away in the middle of the message: nothing of it stays in incoming/
      queue.send({ type: 'QUEUE_MSG_ABORT', msgid });
      throw e;
    }
    check.finish();
    const abort = (code: number, esc: string, text: string) => {
      queue.send({ type: 'QUEUE_MSG_ABORT', msgid });
      return replyError(code, esc, text);
    };
    if (stream.sizeExceeded) throw abort(552, '5.3.4', 'Message too big for system');
    if (check.bareNewline) throw abort(550, '5.5.2', 'Message contains a bare CR or LF: lines must end with CRLF');
    if (check.hops >= MAX_HOPS) throw abort(554, '5.4.6', 'Loop detected: too many Received headers');
    if (masquerade && gate.tooLong) throw abort(552, '5.3.4', 'Header section too long to check the From header');
    const envelopes: EnvelopeIn[] = [];
    const { socket: _socket, ...client } = this.sessionInfo(s);
    for (const { rcpt, targets, dsn } of st.targets.values()) {
      const request = dsnOf(s, dsn);
      for (const t of targets) envelopes.push({ action: t.action, sender: mailFrom, rcpt, dest: t.dest, ...(t.via ? { via: t.via } : {}), ...client, ...(request ? { dsn: request } : {}) });
    }
    const r = await queue.request<QueueToSmtp>({ type: 'QUEUE_MSG_COMMIT', msgid, envelopes }, 60_000).catch(() => undefined);
    if (r?.type === 'QUEUE_MSG_COMMITTED') {
      this.worker.log.info({ event: 'message-accepted', msgid, from: mailFrom, rcpts: rcpts.length, ip: clientIp(s) });
      return msgid;
    }
    if (r?.type === 'QUEUE_FAIL') throw replyError(r.code, r.esc, r.text);
    throw replyError(451, '4.3.0', 'Temporary failure in the queue');
  }
}

function serverFor(worker: WorkerContext, l: ListenerView, config: SmtpConfig, certs: Certificates, cas: ReadonlyMap<string, Buffer>, peersUp: SessionPeers): SMTPServer {
  const name = l.hostname ?? serverName();
  const byAddress = l.hostnames !== undefined ? config.tables?.find((t) => t.name === l.hostnames) : undefined;
  const nameFor = (local: string | undefined) => {
    const addr = plainAddress(local ?? '');
    const hit = byAddress?.kind === 'static' && byAddress.type === 'mapping' ? byAddress.pairs.find(([k]) => k === addr) : undefined;
    return hit ? hit[1] : name;
  };
  const inbound = new Inbound(worker, l, config, nameFor, peersUp);
  return new SMTPServer({
    name,
    ...(byAddress ? { tsNameFor: nameFor } : {}),
    banner: 'tsmtpd',
    size: config.smtp.maxMessageSize,
    hideDSN: !l.dsn,
    hideENHANCEDSTATUSCODES: false,
    // REQUIRETLS (RFC 8689) promises TLS on every later hop: not implemented, not offered
    hideREQUIRETLS: true,
    ...tlsOptions(l, certs, cas, config.smtp.ciphers),
    disableReverseLookup: true,
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    // the local socket offers no AUTH (its clients are local users, `from local`)
    ...(l.local ? { disabledCommands: ['AUTH', 'STARTTLS'] } : {}),
    // required AUTH is enforced at MAIL (530 5.7.0), with our codes
    authOptional: true,
    onAuth: (a, s, cb) => inbound.onAuth(a, s, cb),
    onConnect: (s, cb) => inbound.onConnect(s, cb),
    onClose: (s) => {
      authLimits.closed(s.id);
      clients.close(s.id);
      sessionStats.closing(s.id);
    },
    maxClients: config.sessions.max,
    // smtp-server's idle timeout backs up session-guard's command deadline
    socketTimeout: config.sessions.commandTimeoutMs + 1000,
    ...guardOptions(config.sessions.commandTimeoutMs, config.sessions.dataTimeoutMs),
    ...proxyV2Options(l.proxyV2),
    onMailFrom: (a, s, cb) => inbound.onMailFrom(a, s, cb),
    onRcptTo: (a, s, cb) => inbound.onRcptTo(a.address, (a as { dsn?: RcptDsn }).dsn, s, cb),
    onData: (stream, s, cb) => inbound.onData(stream, s, cb),
  });
}

/** smtpctl pause smtp / resume smtp, through control */
function controlHandlers(worker: WorkerContext, ch: PeerChannel): Handlers<ControlToSmtp, void> {
  return {
    CTL_SMTP_PAUSE: (m) => {
      if (m.paused !== undefined && m.paused !== paused) {
        paused = m.paused;
        worker.log.info({ event: paused ? 'paused' : 'resumed', what: 'smtp' });
      }
      ch.send({ type: 'CTL_SMTP_STATE', re: m.reqid, paused });
    },
    // answered by the worker runtime
    STATS: () => undefined,
    LOG_LEVEL: () => undefined,
    TRACE: () => undefined,
    PROFILE: () => undefined,
    PING: () => undefined,
    PONG: () => undefined,
  };
}

/** The local enqueue socket (sendmail): any local user may connect (mode 0666), as any user
 * may run sendmail. A stale socket from an earlier run is replaced; any other file there is an
 * error. */
async function listenLocal(worker: WorkerContext, srv: SMTPServer, file: string): Promise<SMTPServer> {
  try {
    if (!fs.lstatSync(file).isSocket()) throw new Error(`${file} exists and is not a socket: remove it or choose another --socket`);
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  srv.on('error', (e: Error) => worker.log.debug({ event: 'session-error', socket: file }, e.message));
  await new Promise<void>((resolve, reject) => {
    const net = (srv as unknown as { server: Server }).server;
    net.once('error', reject);
    net.listen({ path: file, backlog: 128 }, () => resolve());
  });
  fs.chmodSync(file, 0o666);
  worker.log.info({ event: 'smtp-listening', socket: file });
  return srv;
}

export function main(): void {
  runWorker('smtp', (worker) => {
    const servers: SMTPServer[] = [];
    const config = worker.config as SmtpConfig;
    const peersUp = new PeerGate<'lka' | 'queue'>(['lka', 'queue'], (p) => worker.peers.has(p));
    return {
      beforeDrop: async () => {
        const certs = new Map<string, { cert: Buffer; key: Buffer }>();
        for (const p of config.pki ?? []) certs.set(p.name, { cert: fs.readFileSync(p.cert), key: fs.readFileSync(p.key) });
        const cas = new Map<string, Buffer>();
        for (const c of config.ca ?? []) cas.set(c.name, fs.readFileSync(c.cert));
        for (const l of config.listeners) {
          if (l.kind === 'socket') {
            servers.push(await listenLocal(worker, serverFor(worker, viewOf(l), config, certs, cas, peersUp), config.localSocket));
            continue;
          }
          for (const addr of bindAddresses(l.on, l.family)) {
            const srv = serverFor(worker, viewOf(l), config, certs, cas, peersUp);
            // a client's socket error (reset, TLS failure) is that session's end, never the worker's
            srv.on('error', (e: Error) => worker.log.debug({ event: 'session-error', address: addr, port: l.port }, e.message));
            await new Promise<void>((resolve, reject) => {
              const net = (srv as unknown as { server: Server }).server;
              net.once('error', reject);
              net.listen({ host: addr, port: l.port, backlog: 4096 }, () => resolve());
            });
            servers.push(srv);
            worker.log.info({ event: 'smtp-listening', address: addr, port: l.port });
          }
        }
      },
      stats: () => sessionStats.stats(),
      onPeer: () => peersUp.connected(),
      onPeerMessage: (peer, msg, ch) => {
        if (peer === 'control') return dispatch(controlHandlers(worker, ch), msg as ControlToSmtp);
        const m = msg as QueueToSmtp;
        if (peer === 'queue' && m.type === 'QUEUE_SPACE') spoolLow = m.low;
      },
      onShutdown: () => new Promise<void>((resolve) => {
        let left = servers.length;
        if (left === 0) resolve();
        for (const s of servers) s.close(() => --left === 0 && resolve());
        setTimeout(resolve, 5000).unref();
      }),
    };
  });
}
