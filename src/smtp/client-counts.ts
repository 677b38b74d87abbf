/**
 * Inbound sessions at once per client address, so one address cannot take every connection
 * slot (X07). A session counts from its acceptance to its close.
 * Privileges: none. Peers: none (smtp's Inbound asks it). No I/O.
 */
export class ClientCounts {
  private readonly byIp = new Map<string, number>();
  private readonly sessions = new Map<string, string>();

  /** count a new session; false (and not counted) when `ip` already has `max` */
  open(session: string, ip: string, max: number): boolean {
    const n = this.byIp.get(ip) ?? 0;
    if (n >= max) return false;
    this.byIp.set(ip, n + 1);
    this.sessions.set(session, ip);
    return true;
  }

  /** a session ended (counted or not) */
  close(session: string): void {
    const ip = this.sessions.get(session);
    if (ip === undefined) return;
    this.sessions.delete(session);
    const n = (this.byIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.byIp.delete(ip);
    else this.byIp.set(ip, n);
  }

  of(ip: string): number {
    return this.byIp.get(ip) ?? 0;
  }
}
