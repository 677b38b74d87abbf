/**
 * The skeleton every worker process runs on, in OpenSMTPD's fixed order: take the
 * configuration from the parent, open what needs root (beforeDrop), drop privileges and prove
 * it, tell the parent READY, then accept direct channels to peers and serve messages.
 *
 * Purpose: one place for the life cycle of a worker: IPC with the parent (decoded like every
 * other channel), peer channels (replaced when a peer restarts), PING/PONG, reload, shutdown,
 * and exit when the parent is gone or a peer sends a malformed frame (the parent restarts us).
 * Privileges: starts as the parent's user, drops to its own before the first channel.
 */
import type { Socket } from 'node:net';
import { debugTraced, imsgTraced, retrace } from './trace';
import { createLogger, type Logger } from '../log/logger';
import { dropPrivileges, currentIdentity } from '../util/privileges';
import { Channel, type OmitEach } from './channel';
import { ToParent, ToWorker } from './msg-parent';
import { decoderFor, type PeerMessage } from './msg-workers';
import { DecodeError, dispatch, type Handlers } from './schema';
import type { WorkerName } from './topology';
import { foreignBusVersion, versionMismatchText } from './version';

export type PeerChannel = Channel<PeerMessage, PeerMessage>;
type ConfigMsg = Extract<ToWorker, { type: 'WORKER_CONFIG' }>;

export interface WorkerContext {
  readonly name: WorkerName;
  readonly log: Logger;
  /** this worker's part of the configuration (replaced on reload) */
  config: unknown;
  readonly settings: Omit<ConfigMsg, 'type' | 'config'>;
  readonly peers: Map<WorkerName, PeerChannel>;
  /** ask the parent whether it is alive: resolves with its pid */
  pingParent(timeoutMs?: number): Promise<number>;
  /** a request to the parent (its reqid is filled in); resolves with the answer */
  requestParent(msg: OmitEach<ToParent, 'reqid'>, timeoutMs: number): Promise<ToWorker>;
  /** the same, for an answer that may come with a socket (HELPER_CHANNEL) */
  requestParentSocket(msg: OmitEach<ToParent, 'reqid'>, timeoutMs: number): Promise<{ msg: ToWorker; socket?: Socket }>;
}

export interface WorkerHooks {
  /** counters for smtpctl show stats (keys as OpenSMTPD names them) */
  stats?(): Record<string, number>;
  /** runs before privileges are dropped (as root when started as root) */
  beforeDrop?(): void | Promise<void>;
  /** runs after privileges are dropped, before READY */
  onStart?(): void | Promise<void>;
  /** a message other than PING/PONG from a peer (decoded with that pair's decoder) */
  onPeerMessage?(peer: WorkerName, msg: PeerMessage, channel: PeerChannel): void;
  /** raw bytes of stream `id` from a peer (a message body) */
  onPeerBytes?(peer: WorkerName, id: number, bytes: Buffer): void;
  onPeer?(peer: WorkerName, channel: PeerChannel): void;
  onReload?(): void;
  onShutdown?(): void | Promise<void>;
  /** smtpctl profile queue / unprofile queue (the queue times its commits) */
  onProfile?(what: 'queue', on: boolean): void;
}

/** Handler tables that need their channel (to answer on it), made once per channel rather
 * than once per message. */
export function perChannel<U extends { type: string }>(make: (ch: PeerChannel) => Handlers<U, void>): (ch: PeerChannel) => Handlers<U, void> {
  const made = new WeakMap<PeerChannel, Handlers<U, void>>();
  return (ch) => {
    let h = made.get(ch);
    if (!h) made.set(ch, (h = make(ch)));
    return h;
  };
}

function sendToParent(msg: ToParent): void {
  process.send?.(msg);
}

export function runWorker(name: WorkerName, makeHooks: (ctx: WorkerContext) => WorkerHooks): void {
  process.title = `smtpd: ${name}`;
  // The parent coordinates stopping and reloading: signals meant for the daemon are its own.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);
  let ctx: WorkerContext | undefined;
  let hooks: WorkerHooks = {};
  let ready = false;
  let nextReqid = 1;
  const parentWaits = new Map<number, (msg: ToWorker, socket?: Socket) => void>();
  const early = (what: string) => {
    process.stderr.write(`smtpd: ${name}: ${what} before its configuration\n`);
    process.exit(1);
  };

  const fatal = (event: string, err: unknown): never => {
    const message = err instanceof Error ? err.message : String(err);
    if (ctx) ctx.log.fatal({ event }, message);
    else process.stderr.write(`smtpd: ${name}: ${event}: ${message}\n`);
    process.exit(1);
  };

  /** smtpctl trace (and -T), log verbose, profile imsg: what this worker shows */
  let traced = new Set<string>();
  let verbose = false;
  let profileImsg = false;
  const imsgLine = (line: string) => ctx!.log.info({ event: 'imsg' }, line);
  const applyTrace = () => {
    const c = ctx!;
    c.log.level = verbose || debugTraced(name, traced) ? 'debug' : 'info';
    for (const ch of c.peers.values()) ch.setTrace(imsgTraced(traced) ? imsgLine : undefined);
  };

  const addPeer = (peer: WorkerName, socket: Socket) => {
    if (!ctx || !ready) early('a channel');
    const c = ctx!;
    const channel: PeerChannel = new Channel({
      self: name,
      peer,
      socket,
      decoder: decoderFor(name, peer),
      ...(imsgTraced(traced) ? { trace: imsgLine } : {}),
    });
    if (hooks.onPeerBytes) channel.onBytes((id, bytes) => hooks.onPeerBytes!(peer, id, bytes));
    const old = c.peers.get(peer);
    c.peers.set(peer, channel);
    old?.close();
    channel
      .onMessage((msg) => {
        if (msg.type === 'PING') channel.send({ type: 'PONG', re: msg.reqid, pid: process.pid, name });
        else if (msg.type === 'STATS') channel.send({ type: 'STATS_REPLY', re: msg.reqid, stats: hooks.stats?.() ?? {} });
        else if (msg.type === 'LOG_LEVEL') {
          verbose = msg.verbose;
          applyTrace();
        } else if (msg.type === 'TRACE') {
          traced = retrace(traced, msg.subsystem, msg.on);
          applyTrace();
        } else if (msg.type === 'PROFILE') {
          if (msg.what === 'imsg') profileImsg = msg.on;
          else hooks.onProfile?.(msg.what, msg.on);
        } else if (profileImsg) {
          const t0 = performance.now();
          hooks.onPeerMessage?.(peer, msg, channel);
          c.log.info({ event: 'profile-imsg', from: peer, type: msg.type, ms: Number((performance.now() - t0).toFixed(3)) });
        } else hooks.onPeerMessage?.(peer, msg, channel);
      })
      .onError((err) => fatal('protocol-error', err))
      .onClose(() => {
        // a channel lost while both ends run (not replaced by a restart) leaves this worker
        // without that peer until the parent reconnects them: worth a line at the default level
        const current = c.peers.get(peer) === channel;
        if (current) c.peers.delete(peer);
        if (current) c.log.info({ event: 'peer-closed', peer });
        else c.log.debug({ event: 'peer-closed', peer, replaced: true });
      });
    c.log.debug({ event: 'peer-connected', peer });
    hooks.onPeer?.(peer, channel);
  };

  const configure = async (msg: ConfigMsg) => {
    const { type: _t, config, ...settings } = msg;
    const log = createLogger({ worker: name, format: settings.logFormat, verbose: settings.verbose, fd: settings.logFd });
    traced = new Set(settings.trace);
    verbose = settings.verbose;
    const requestParentSocket = (msg: OmitEach<ToParent, 'reqid'>, timeoutMs: number) =>
      new Promise<{ msg: ToWorker; socket?: Socket }>((resolve, reject) => {
        const reqid = nextReqid++;
        const timer = setTimeout(() => {
          parentWaits.delete(reqid);
          reject(new Error('the parent did not answer'));
        }, timeoutMs);
        parentWaits.set(reqid, (m, socket) => {
          clearTimeout(timer);
          resolve({ msg: m, ...(socket ? { socket } : {}) });
        });
        sendToParent({ ...msg, reqid } as ToParent);
      });
    const requestParent = async (msg: OmitEach<ToParent, 'reqid'>, timeoutMs: number) => (await requestParentSocket(msg, timeoutMs)).msg;
    ctx = {
      name,
      log,
      config,
      settings,
      peers: new Map(),
      requestParent,
      requestParentSocket,
      pingParent: async (timeoutMs = 2000) => {
        const m = await requestParent({ type: 'PING' }, timeoutMs);
        return m.type === 'PONG' ? m.pid : -1;
      },
    };
    hooks = makeHooks(ctx);
    await hooks.beforeDrop?.();
    const id = settings.user ? dropPrivileges(settings.user.name, settings.user.uid, settings.user.gid) : currentIdentity();
    await hooks.onStart?.();
    ready = true;
    log.info({ event: 'worker-started', uid: id.uid, gid: id.gid });
    sendToParent({ type: 'WORKER_READY', pid: process.pid, uid: id.uid, gid: id.gid });
  };

  /** the parent's answer to a request of this worker: to whoever waits for it */
  const answered = (m: Extract<ToWorker, { re: number }>) => {
    parentWaits.get(m.re)?.(m);
    parentWaits.delete(m.re);
  };
  const handlers: Handlers<ToWorker, void> = {
    WORKER_CONFIG: (m) => {
      if (ctx) fatal('protocol-error', new Error('a second WORKER_CONFIG'));
      configure(m).catch((e) => fatal('start-failed', e));
    },
    WORKER_CHANNEL: () => fatal('protocol-error', new Error('WORKER_CHANNEL without a socket')),
    WORKER_RELOAD: (m) => {
      if (!ctx) early('a reload');
      ctx!.config = m.config;
      hooks.onReload?.();
      ctx!.log.info({ event: 'config-reloaded' });
    },
    WORKER_SHUTDOWN: () => {
      ctx?.log.info({ event: 'worker-stopping' });
      Promise.resolve(hooks.onShutdown?.())
        .catch((e) => ctx?.log.error({ event: 'shutdown-error' }, String(e)))
        .finally(() => process.exit(0));
    },
    PING: (m) => sendToParent({ type: 'PONG', re: m.reqid, pid: process.pid, name }),
    PONG: answered,
    // with a socket: handled with its handle below; a refusal has none
    HELPER_CHANNEL: answered,
    SYSTEM_AUTH_RESULT: answered,
    FORWARD_RESULT: answered,
    TABLE_UPDATE_RESULT: answered,
  };

  process.on('message', (raw: unknown, handle: unknown) => {
    const theirs = foreignBusVersion(raw);
    if (theirs !== undefined) fatal('version-mismatch', new Error(versionMismatchText(theirs)));
    let msg: ToWorker;
    try {
      msg = ToWorker.decode(raw, '');
    } catch (e) {
      fatal('protocol-error', e instanceof DecodeError ? new Error(`from parent: ${e.message}`) : e);
      return;
    }
    if (msg.type === 'WORKER_CHANNEL') {
      if (!handle) fatal('protocol-error', new Error('WORKER_CHANNEL without a socket'));
      addPeer(msg.peer, handle as Socket);
      return;
    }
    if (msg.type === 'HELPER_CHANNEL' && handle) {
      const wait = parentWaits.get(msg.re);
      parentWaits.delete(msg.re);
      if (wait) wait(msg, handle as Socket);
      else (handle as Socket).destroy(); // asked for too long ago: nobody wants it now
      return;
    }
    dispatch(handlers, msg);
  });
  process.on('disconnect', () => {
    ctx?.log.info({ event: 'parent-gone' }, 'the parent process is gone: exiting');
    process.exit(1);
  });
}
