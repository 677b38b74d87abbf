/**
 * A delivery agent as the queue sees it (mda for local mail, mta for relayed mail): its
 * channel, the envelopes handed to it without a result yet, and those waiting for it to
 * connect. When its channel closes, what it held is handed over again once it is back: at
 * least once, never lost.
 * Privileges: none (queue). Peers: none of its own (queue/main.ts sends). No I/O.
 */
import type { PeerChannel } from '../bus/worker-runtime';

export class Agent {
  private channel?: PeerChannel;
  /** handed over, no result yet */
  readonly inflight = new Set<string>();
  /** due while the agent had no channel */
  private waiting: string[] = [];

  constructor(private readonly resend: (evpid: string) => void) {}

  connect(ch: PeerChannel): void {
    this.channel = ch;
    ch.onClose(() => {
      if (this.channel !== ch) return;
      this.waiting.push(...this.inflight);
      this.inflight.clear();
    });
    const waiting = this.waiting;
    this.waiting = [];
    for (const evpid of waiting) this.resend(evpid);
  }

  /** the channel to hand `evpid` to (now counted in flight), or undefined: it waits */
  take(evpid: string): PeerChannel | undefined {
    const ch = this.channel;
    if (!ch || ch.isClosed) {
      this.waiting.push(evpid);
      return undefined;
    }
    this.inflight.add(evpid);
    return ch;
  }

  done(evpid: string): void {
    this.inflight.delete(evpid);
  }
}
