/**
 * smtp's counters for smtpctl show stats and monitor: sessions now (in all, by family) and
 * sessions opened and closed so far. A session counts from its acceptance to its close.
 * Privileges: none. Peers: none (smtp's Inbound tells it). No I/O.
 */
export type Family = 'inet4' | 'inet6' | 'local';

export class SessionStats {
  private readonly open = new Map<string, Family>();
  private readonly now: Record<Family, number> = { inet4: 0, inet6: 0, local: 0 };
  private opened = 0;
  private closed = 0;

  opening(session: string, family: Family): void {
    this.open.set(session, family);
    this.now[family]++;
    this.opened++;
  }

  closing(session: string): void {
    const f = this.open.get(session);
    if (f === undefined) return;
    this.open.delete(session);
    this.now[f]--;
    this.closed++;
  }

  stats(): Record<string, number> {
    return {
      'smtp.session': this.open.size,
      'smtp.session.inet4': this.now.inet4,
      'smtp.session.inet6': this.now.inet6,
      'smtp.session.local': this.now.local,
      'smtp.session.opened': this.opened,
      'smtp.session.closed': this.closed,
    };
  }
}
