/**
 * The messages a delivery agent (mda, mta) asks the queue for. The queue hands the agent
 * envelopes only; the agent asks for a delivery's message when it can start it (mda: once the
 * delivery has a slot of `mda limit`; mta: once it has a connection), or before, for at most
 * `window` deliveries that wait, in the order they came (those are likely the next to start:
 * their message is there when they do). A backlog of deliveries therefore holds envelopes,
 * not messages: it cannot fill the agent's memory, or the queue's, which reads each message
 * when it is asked for it. One per queue channel: when the channel closes, every delivery
 * still waiting for its message gets a temporary failure (the queue hands them over again
 * when it is back).
 * Privileges: none. Peers: the queue, through the `ask` function and the messages and byte
 * frames the agent's main passes in. No I/O of its own.
 */
import { StreamPieces } from '../util/chunks';

/** the message, or why the queue could not give it */
export type Fetched = { content: Buffer } | { text: string };

const GONE: Fetched = { text: '451 4.3.0 the queue went away' };

export class ContentFetcher {
  /** pieces of the messages being received, by stream */
  private readonly streams = new StreamPieces();
  /** asked for, not arrived yet: by evpid */
  private readonly waiting = new Map<string, (got: Fetched) => void>();
  /** asked for ahead of the delivery's start, not taken yet */
  private readonly ahead = new Map<string, Promise<Fetched>>();
  /** announced, not taken: the order they came in (some may have been asked for since) */
  private readonly announced = new Set<string>();
  private closed = false;

  /** `ask` sends the agent's request for an envelope's message (MDA_FETCH, MTA_FETCH);
   * `window` is how many may be asked for ahead */
  constructor(
    private readonly ask: (evpid: string) => void,
    private readonly window: () => number,
  ) {}

  /** messages asked for and not arrived yet */
  get pending(): number {
    return this.waiting.size;
  }

  /** messages asked for ahead of their delivery's start (arrived or not) */
  get prefetched(): number {
    return this.ahead.size;
  }

  /** A delivery came (MDA_DELIVER): its message is asked for now if the window has room. */
  announce(evpid: string): void {
    if (this.closed || this.announced.has(evpid)) return;
    this.announced.add(evpid);
    this.fill();
  }

  /** The delivery of `evpid` starts: its message, or why the queue cannot give it (never
   * rejects). */
  take(evpid: string): Promise<Fetched> {
    this.announced.delete(evpid);
    const early = this.ahead.get(evpid);
    if (early) {
      this.ahead.delete(evpid);
      this.fill();
      return this.closed ? Promise.resolve(GONE) : early;
    }
    return this.fetch(evpid);
  }

  /** a piece of a message (stream `id`); the bus never reuses a buffer it has handed out */
  bytes(id: number, piece: Buffer): void {
    this.streams.add(id, piece);
  }

  /** MDA_CONTENT, MTA_CONTENT: the message of `evpid` is complete on `stream` */
  content(evpid: string, stream: number): void {
    this.settle(evpid, { content: this.streams.take(stream) });
  }

  /** MDA_NO_CONTENT, MTA_NO_CONTENT */
  noContent(evpid: string, text: string): void {
    this.settle(evpid, { text });
  }

  /** the queue channel closed: whatever waits fails, nothing more is asked */
  close(): void {
    this.closed = true;
    this.streams.clear();
    this.announced.clear();
    this.ahead.clear();
    for (const evpid of [...this.waiting.keys()]) this.settle(evpid, GONE);
  }

  /** ask for the oldest announced deliveries' messages while the window has room */
  private fill(): void {
    const window = this.window();
    if (this.ahead.size >= window) return;
    for (const evpid of this.announced) {
      if (this.ahead.size >= window) break;
      if (this.ahead.has(evpid)) continue;
      this.ahead.set(evpid, this.fetch(evpid));
    }
  }

  private fetch(evpid: string): Promise<Fetched> {
    if (this.closed) return Promise.resolve(GONE);
    if (this.waiting.has(evpid)) return Promise.resolve({ text: '451 4.3.0 this envelope is already being delivered' });
    return new Promise((resolve) => {
      this.waiting.set(evpid, resolve);
      this.ask(evpid);
    });
  }

  private settle(evpid: string, got: Fetched): void {
    const resolve = this.waiting.get(evpid);
    this.waiting.delete(evpid);
    resolve?.(got);
  }
}

/** One fetcher per queue channel (made by `make`, closed with its channel), and the one of the
 * channel in use, which the byte frames go to. */
export class QueueFetchers<C extends { onClose(cb: () => void): void }> {
  private readonly made = new WeakMap<C, ContentFetcher>();
  /** the fetcher of the last queue channel connected */
  current: ContentFetcher | undefined;

  constructor(private readonly make: (ch: C) => ContentFetcher) {}

  of(ch: C): ContentFetcher {
    let f = this.made.get(ch);
    if (!f) {
      const fetcher = this.make(ch);
      ch.onClose(() => fetcher.close());
      this.made.set(ch, (f = fetcher));
    }
    return f;
  }

  /** a queue channel connected: its byte frames go to its fetcher from now on */
  connected(ch: C): void {
    this.current = this.of(ch);
  }
}
