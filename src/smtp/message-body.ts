/**
 * The body of one message as the session hands it to its handler: an async iterable of
 * chunks with backpressure (the session stops reading the socket while too much is waiting),
 * `sizeExceeded` once the message went over the limit, and an error for the reader when the
 * client goes away before the final dot.
 * Privileges: none. Peers: none. No I/O.
 */

/** bytes waiting for the reader before the session stops reading the client */
export const BODY_HIGH_WATER = 256 * 1024;

export class MessageBody implements AsyncIterable<Buffer> {
  /** the message went over the size limit: the rest was not passed on */
  sizeExceeded = false;
  private readonly chunks: Buffer[] = [];
  private waiting = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private drained: (() => void) | undefined;

  /** adds a chunk; false when the reader is behind (wait with onDrain) */
  write(chunk: Buffer): boolean {
    if (this.ended || this.failure) return true;
    this.chunks.push(chunk);
    this.waiting += chunk.length;
    this.poke();
    return this.waiting < BODY_HIGH_WATER;
  }

  /** `cb` runs once the reader has taken what was waiting */
  onDrain(cb: () => void): void {
    if (this.waiting < BODY_HIGH_WATER || this.failure) return cb();
    this.drained = cb;
  }

  /** the final dot came */
  end(): void {
    this.ended = true;
    this.poke();
  }

  /** the client went away before the final dot */
  fail(e: Error): void {
    if (this.ended) return;
    this.failure = e;
    this.poke();
    this.release();
  }

  /** reads and drops the rest (a handler that decides without reading) */
  async discard(): Promise<void> {
    try {
      for await (const _ of this) {
        // dropped
      }
    } catch {
      // the client went away: nothing to discard
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      while (this.chunks.length > 0) {
        const c = this.chunks.shift()!;
        this.waiting -= c.length;
        if (this.waiting < BODY_HIGH_WATER / 2) this.release();
        yield c;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private release(): void {
    const d = this.drained;
    this.drained = undefined;
    d?.();
  }
}
