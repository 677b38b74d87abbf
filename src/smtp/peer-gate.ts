/**
 * The peers a session cannot do without (lka for every recipient, the queue for every
 * message). smtp listens before the parent has connected it to them (the listeners are bound
 * while the worker is still root); a client arriving in that window, or while a restarted peer
 * is being reconnected, waits for them before its banner instead of getting 421 at RCPT.
 * Privileges: none. Peers: none (smtp's main tells it which channels it has). No I/O.
 */
export class PeerGate<Peer extends string = string> {
  private waiters: (() => void)[] = [];

  /** `has` says whether a peer's channel is up now (the worker runtime's peer map) */
  constructor(
    private readonly needed: readonly Peer[],
    private readonly has: (peer: Peer) => boolean,
  ) {}

  /** every needed peer is connected */
  get open(): boolean {
    return this.needed.every((p) => this.has(p));
  }

  /** a peer's channel came up (connected or reconnected): sessions waiting may go on */
  connected(): void {
    if (!this.open) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** true once every needed peer is connected, false if that takes longer than `ms` */
  wait(ms: number): Promise<boolean> {
    if (this.open) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((f) => f !== done);
        resolve(false);
      }, ms);
      this.waiters.push(done);
    });
  }
}
