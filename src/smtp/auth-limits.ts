/**
 * Brute-force limits on AUTH, in the smtp worker's memory.
 * - In one session: each failure after the first waits one second more before its 535
 *   (1 s, 2 s, ...); at SESSION_MAX failures the session ends with 421.
 * - Per client address, across sessions: IP_MAX failures within IP_WINDOW_MS block AUTH from
 *   that address (454 4.7.0, the password is not even checked) until the oldest failure leaves
 *   the window.
 * Privileges: none. Peers: none (smtp's Inbound asks it). No I/O.
 */

export const SESSION_MAX = 3;
export const IP_MAX = 10;
export const IP_WINDOW_MS = 60_000;

export class AuthLimits {
  private readonly sessions = new Map<string, number>();
  private readonly ips = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  private recent(ip: string): number[] {
    const since = this.now() - IP_WINDOW_MS;
    const list = (this.ips.get(ip) ?? []).filter((t) => t > since);
    if (list.length === 0) this.ips.delete(ip);
    else this.ips.set(ip, list);
    return list;
  }

  /** this address has failed too often lately */
  blocked(ip: string): boolean {
    return this.recent(ip).length >= IP_MAX;
  }

  /** count a failure; returns what to answer: a delayed 535, or the end of the session */
  fail(session: string, ip: string): { close: boolean; delayMs: number } {
    const n = (this.sessions.get(session) ?? 0) + 1;
    this.sessions.set(session, n);
    const list = this.recent(ip);
    list.push(this.now());
    this.ips.set(ip, list);
    return { close: n >= SESSION_MAX, delayMs: (n - 1) * 1000 };
  }

  /** the session ended: forget its count */
  closed(session: string): void {
    this.sessions.delete(session);
  }

  /** addresses with failures in the window (to bound memory, callers may prune) */
  get size(): number {
    return this.ips.size;
  }

  prune(): void {
    for (const ip of [...this.ips.keys()]) this.recent(ip);
  }
}
