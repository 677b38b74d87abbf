/**
 * smtp: inbound SMTP sessions (smtp-session.ts). For each recipient it asks lka (the ruleset);
 * for each message it streams the body to the queue (Received header first), refuses bare CR
 * or LF and loops, and answers 250 only after the queue reports the message committed to disk.
 * AUTH PLAIN and LOGIN (under TLS only) are checked by lka; `senders` too.
 * smtpctl pause smtp makes new sessions get 421 4.3.2 until resume smtp.
 * Privileges: binds its listeners before dropping privileges (so port 25 works), then runs as
 * the daemon user (_smtpd). Peers: control, lka, queue. Never decides policy itself.
 */
import * as fs from 'node:fs';
import type { Ca, InetListener, Listener, Pki, SocketListener, Table } from '../parse/config';
import type { EnvelopeTarget, LkaToSmtp } from '../bus/msg-smtp-lka';
import type { EnvelopeIn, QueueToSmtp } from '../bus/msg-smtp-queue';
import { runWorker, type WorkerContext } from '../bus/worker-runtime';
import { serverName } from '../util/hostname';
import { checkAddress } from './address-check';
import { AuthLimits } from './auth-limits';
import { bindAddresses, plainAddress } from './addresses';
import { BodyChecker, MAX_HOPS } from './body';
import { HeaderGate, newMessageId } from './header-gate';
import { receivedHeader, tlsSummary } from './received';
import { tlsSetup, type Certificates } from './tls-settings';
import type { AddressCommand, RcptDsn } from './address-command';
import type { MessageBody } from './message-body';
import type { Credentials, SmtpSession } from './smtp-session';
import { SmtpListener } from './smtp-listener';
import { ClientCounts } from './client-counts';
import { SessionStats } from './session-stats';
import { MsgidPool } from './msgid-pool';
import type { ControlToSmtp } from '../bus/msg-control-smtp';
import { dispatch, type Handlers } from '../bus/schema';
import type { PeerChannel } from '../bus/worker-runtime';
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
  /** by recipient address in lower case (the session also takes two spellings as one) */
  targets: Map<string, { rcpt: string; targets: EnvelopeTarget[]; dsn?: RcptDsn }>;
  mails: number;
}

/** the DSN request of one recipient of the session's transaction, or undefined if none */
function dsnOf(s: SmtpSession, rcpt: RcptDsn | undefined): EnvelopeIn['dsn'] {
  const m = s.envelope.dsn;
  const ret = m.ret;
  const d = {
    ...(rcpt?.notify?.length ? { notify: rcpt.notify } : {}),
    ...(rcpt?.orcpt ? { orcpt: rcpt.orcpt } : {}),
    ...(ret ? { ret } : {}),
    ...(m.envid ? { envid: m.envid } : {}),
  };
  return Object.keys(d).length > 0 ? d : undefined;
}

const states = new WeakMap<SmtpSession, SessionState>();
function state(s: SmtpSession): SessionState {
  let st = states.get(s);
  if (!st) states.set(s, (st = { targets: new Map(), mails: 0 }));
  return st;
}

/** MAIL FROM carried SMTPUTF8 */
function smtputf8(a: AddressCommand): boolean {
  return a.args.SMTPUTF8 !== undefined;
}

/** the authenticated user, if any */
function authUser(s: SmtpSession): string | undefined {
  return s.user;
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

/** the client's address (the session has it plain already); `local` on the local socket */
function clientIp(s: SmtpSession): string {
  return s.remoteAddress || 'local';
}

/** MAIL FROM's address ('' for the null sender or before MAIL) */
function envelopeSender(s: SmtpSession): string {
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

  private sessionInfo(s: SmtpSession) {
    return {
      src: clientIp(s),
      socket: this.listener.local,
      helo: s.hostNameAppearsAs,
      tls: s.secure,
      ...(authUser(s) !== undefined ? { auth: authUser(s)! } : {}),
      ...(this.listener.tag !== undefined ? { tag: this.listener.tag } : {}),
    };
  }

  onConnect(s: SmtpSession, cb: (err?: Error | null) => void): void {
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

  onAuth(auth: Credentials, s: SmtpSession, cb: (err: Error | null | undefined, user?: string) => void): void {
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
          return cb(null, user);
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

  onMailFrom(address: AddressCommand, s: SmtpSession, cb: (err?: Error | null) => void): void {
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

  onRcptTo(received: string, dsn: RcptDsn | undefined, s: SmtpSession, cb: (err?: Error | null) => void): void {
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

  onData(stream: MessageBody, s: SmtpSession, cb: (err?: Error | null, message?: string) => void): void {
    this.receive(stream, s).then(
      (msgid) => {
        state(s).mails++;
        cb(null, `2.0.0 ${msgid} Message accepted for delivery`);
      },
      (e: Error) => cb(e),
    );
  }

  private async receive(stream: MessageBody, s: SmtpSession): Promise<string> {
    const drain = () => stream.discard();
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
      helo: s.hostNameAppearsAs,
      ip: clientIp(s),
      serverName: this.nameFor(s.localAddress),
      esmtp: s.openingCommand !== 'HELO',
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
      for await (const chunk of stream) {
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

function listenerFor(worker: WorkerContext, l: ListenerView, config: SmtpConfig, certs: Certificates, cas: ReadonlyMap<string, Buffer>, peersUp: SessionPeers): SmtpListener {
  const name = l.hostname ?? serverName();
  const byAddress = l.hostnames !== undefined ? config.tables?.find((t) => t.name === l.hostnames) : undefined;
  const nameFor = (local: string | undefined) => {
    const addr = plainAddress(local);
    const hit = byAddress?.kind === 'static' && byAddress.type === 'mapping' ? byAddress.pairs.find(([k]) => k === addr) : undefined;
    return hit ? hit[1] : name;
  };
  const inbound = new Inbound(worker, l, config, nameFor, peersUp);
  // the local socket offers neither TLS nor AUTH (its clients are local users, `from local`)
  const tls = l.local ? undefined : tlsSetup(l, certs, cas, config.smtp.ciphers);
  return new SmtpListener({
    name,
    ...(byAddress ? { nameFor } : {}),
    banner: 'tsmtpd',
    size: config.smtp.maxMessageSize,
    dsn: l.dsn,
    // AUTH PLAIN and LOGIN under TLS; required AUTH is enforced at MAIL (530 5.7.0)
    auth: tls !== undefined && l.auth !== 'none',
    // STARTTLS stays a known command on smtps listeners: inside TLS it gets 503 (T03)
    starttls: tls !== undefined,
    ...(tls ? { tls } : {}),
    implicitTls: l.tls === 'smtps',
    proxyV2: l.proxyV2,
    maxClients: config.sessions.max,
    commandTimeoutMs: config.sessions.commandTimeoutMs,
    dataTimeoutMs: config.sessions.dataTimeoutMs,
    handlers: {
      onConnect: (s, cb) => inbound.onConnect(s, cb),
      onAuth: (a, s, cb) => inbound.onAuth(a, s, cb),
      onMailFrom: (a, s, cb) => inbound.onMailFrom(a, s, cb),
      onRcptTo: (a, s, cb) => inbound.onRcptTo(a.address, a.dsn, s, cb),
      onData: (body, s, cb) => inbound.onData(body, s, cb),
      onClose: (s) => {
        authLimits.closed(s.id);
        clients.close(s.id);
        sessionStats.closing(s.id);
      },
    },
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
async function listenLocal(worker: WorkerContext, srv: SmtpListener, file: string): Promise<SmtpListener> {
  try {
    if (!fs.lstatSync(file).isSocket()) throw new Error(`${file} exists and is not a socket: remove it or choose another --socket`);
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await new Promise<void>((resolve, reject) => {
    const net = srv.server;
    net.once('error', reject);
    net.listen({ path: file, backlog: 128 }, () => resolve());
  });
  fs.chmodSync(file, 0o666);
  worker.log.info({ event: 'smtp-listening', socket: file });
  return srv;
}

export function main(): void {
  runWorker('smtp', (worker) => {
    const servers: SmtpListener[] = [];
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
            servers.push(await listenLocal(worker, listenerFor(worker, viewOf(l), config, certs, cas, peersUp), config.localSocket));
            continue;
          }
          for (const addr of bindAddresses(l.on, l.family)) {
            const srv = listenerFor(worker, viewOf(l), config, certs, cas, peersUp);
            await new Promise<void>((resolve, reject) => {
              const net = srv.server;
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
