/**
 * Idle outbound sessions kept for the next message to the same server (several messages per
 * connection, as Postfix's connection cache): a session whose transaction ended cleanly waits
 * up to IDLE_MS for another one with the same route (address, port, TLS, credentials, HELO
 * name), then says QUIT. At most MAX_IDLE wait per route.
 * Privileges: none (mta). Peers: the remote servers, through the sessions. No I/O of its own.
 */
import type { Peer, Session } from './smtp-client';

export const IDLE_MS = 2000;
export const MAX_IDLE = 20;

/** what makes two routes the same session */
function routeKey(p: Peer): string {
  return JSON.stringify([p.address, p.port, p.name, p.tls, p.verify, p.helo, p.auth?.user ?? '', p.auth?.password ?? '', p.ca?.length ?? 0]);
}

export class SessionPool {
  private readonly idle = new Map<string, { session: Session; timer: NodeJS.Timeout }[]>();

  constructor(
    private readonly idleMs = IDLE_MS,
    /** told when a session starts or stops waiting (smtpctl show routes: K) */
    private readonly onIdle: (peer: Peer, delta: 1 | -1) => void = () => undefined,
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
    if (!session.reusable || !session.alive() || list.length >= MAX_IDLE) return session.close();
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
