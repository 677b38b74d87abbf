/**
 * Idle outbound sessions kept for the next message to the same server (several messages per
 * connection, as Postfix's connection cache): a session whose transaction ended cleanly waits
 * up to `mta limit session-keepalive` seconds for another one with the same route (address,
 * port, source address, TLS and its client certificate, CA and settings, credentials, HELO
 * name, LMTP), then says QUIT; one that has carried `session-mail-max` messages says QUIT at
 * once. At most MAX_IDLE wait per route.
 * Privileges: none (mta). Peers: the remote servers, through the sessions. No I/O of its own.
 */
import { createHash } from 'node:crypto';
import type * as tls from 'node:tls';
import type { Peer, Session } from './smtp-client';

export const IDLE_MS = 10_000;
export const MAX_IDLE = 20;

/** a digest of a certificate or key, to tell them apart in a route key */
function digest(b: string | Buffer | (string | Buffer | tls.KeyObject)[] | undefined): string {
  if (b === undefined) return '';
  const h = createHash('sha256');
  for (const x of Array.isArray(b) ? b : [b]) h.update(Buffer.isBuffer(x) || typeof x === 'string' ? x : String(x));
  return h.digest('hex');
}

/** what makes two routes the same session: a session made with one action's client
 * certificate, credentials, CA or TLS settings never carries another action's mail */
function routeKey(p: Peer): string {
  const t = p.tlsExtra;
  return JSON.stringify([
    p.address, p.port, p.name, p.tls, p.verify, p.helo, p.localAddress ?? '', p.lmtp === true,
    p.auth?.user ?? '', p.auth?.password ?? '', digest(p.ca), digest(t?.cert), t?.ciphers ?? '', t?.minVersion ?? '', t?.maxVersion ?? '',
  ]);
}

export class SessionPool {
  private readonly idle = new Map<string, { session: Session; timer: NodeJS.Timeout }[]>();

  constructor(
    private readonly idleMs = IDLE_MS,
    /** told when a session starts or stops waiting (smtpctl show routes: K) */
    private readonly onIdle: (peer: Peer, delta: 1 | -1) => void = () => undefined,
    /** how many messages one session may carry */
    private readonly mailMax = Infinity,
  ) {}

  /** an idle session to this route that still looks alive, or undefined */
  take(peer: Peer): Session | undefined {
    const key = routeKey(peer);
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const { session, timer } = list.pop()!;
      clearTimeout(timer);
      this.onIdle(session.peer, -1);
      if (session.alive()) return session;
      session.close();
    }
    this.idle.delete(key);
    return undefined;
  }

  /** keep `session` for the next message, or close it when it cannot carry one */
  give(session: Session): void {
    const key = routeKey(session.peer);
    const list = this.idle.get(key) ?? [];
    if (!session.reusable || !session.alive() || list.length >= MAX_IDLE || session.transactions >= this.mailMax) return session.close();
    const entry = {
      session,
      timer: setTimeout(() => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        this.onIdle(session.peer, -1);
        session.close();
      }, this.idleMs),
    };
    entry.timer.unref();
    list.push(entry);
    this.onIdle(session.peer, 1);
    this.idle.set(key, list);
  }

  /** how many sessions wait */
  get size(): number {
    let n = 0;
    for (const l of this.idle.values()) n += l.length;
    return n;
  }

  closeAll(): void {
    for (const list of this.idle.values()) for (const { session, timer } of list) {
      clearTimeout(timer);
      this.onIdle(session.peer, -1);
      session.close();
    }
    this.idle.clear();
  }
}
