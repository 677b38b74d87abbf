/**
 * A typed, framed, bidirectional channel between two processes over a stream socket.
 *
 * Purpose: the imsg of tsmtpd. Outgoing messages are framed JSON; incoming frames are decoded
 * with the pair's decoder before any handler sees them. Requests carry a `reqid` and their
 * replies an `re`: `request()` resolves with the reply, or rejects on timeout or close.
 * Backpressure: `send()` returns false when the socket's buffer is full and `drained()` waits
 * for it to empty. Frames sent in one turn of the event loop leave in one write (flushed by
 * setImmediate, or at once past BATCH_BYTES): under load, one system call carries many
 * messages, and the peer reads them in one chunk; bytes of a message body from UNCOPIED_BYTES
 * up leave as they are (the frames around them copied together, the write a writev), so a
 * body crossing the bus is not copied in user space on its way. Pending frames are flushed when the process
 * exits. A frame that cannot be decoded is a protocol error: the channel is closed
 * and `onError` is told (a daemon worker then exits; the control worker drops that client).
 * Tracing (`-T imsg`): one log line per message in each direction.
 * Peers: any two processes of the topology, or smtpctl and the control worker.
 */
import type { Duplex } from 'node:stream';
import { bytesHeader, decodeJson, encodeBytes, encodeJson, FrameReader, DEFAULT_MAX_FRAME, FRAME_BYTES } from './frame';
import type { Decoder } from './schema';

export type Message = { type: string } & Record<string, unknown>;

export interface ChannelOptions<In> {
  /** for logs: `lka`, `control`, `client` */
  readonly self: string;
  readonly peer: string;
  readonly socket: Duplex;
  readonly decoder: Decoder<In>;
  readonly maxFrame?: number;
  /** called with one line per message when tracing */
  readonly trace?: (line: string) => void;
}

export class ChannelClosed extends Error {}

/** Omit a key from each member of a union. */
export type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const TRACE_MAX = 300;

/** pending output is written at once when it reaches this size */
export const BATCH_BYTES = 64 * 1024;

/** raw bytes of at least this size are written from the sender's buffer, not copied into a
 * frame (the sender never changes a buffer it has sent) */
export const UNCOPIED_BYTES = 8 * 1024;

/** channels with frames not written yet: flushed at process exit */
const unflushed = new Set<{ flush(): void }>();
process.on('exit', () => {
  for (const c of unflushed) c.flush();
});

export class Channel<In extends { type: string }, Out extends { type: string }> {
  private readonly reader: FrameReader;
  private readonly pending = new Map<number, { resolve: (m: In) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextReqid = 1;
  private closed = false;
  private messageHandler: (msg: In) => void = () => undefined;
  private bytesHandler?: (id: number, bytes: Buffer) => void;
  private errorHandler: (err: Error) => void = () => undefined;
  private closeHandlers: (() => void)[] = [];
  private tracer: ((line: string) => void) | undefined;
  private out: Buffer[] = [];
  private outBytes = 0;
  private readonly flushSoon = () => this.flush();
  private draining: Promise<void> | undefined;

  constructor(private readonly opts: ChannelOptions<In>) {
    this.tracer = opts.trace;
    this.reader = new FrameReader(opts.maxFrame ?? DEFAULT_MAX_FRAME);
    opts.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // A socket error (ECONNRESET, EPIPE: the peer died) only closes the channel; protocol
    // errors (bad frames) are what onError reports.
    opts.socket.on('error', (err) => {
      opts.socket.destroy();
      this.shutdown(new ChannelClosed(`channel to ${opts.peer} lost: ${err.message}`));
    });
    opts.socket.on('close', () => this.shutdown(new ChannelClosed(`channel to ${opts.peer} closed`)));
    // a socket made by socketPair() starts paused (see util/socketpair.ts): read from now on
    opts.socket.resume();
  }

  get peer(): string {
    return this.opts.peer;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onMessage(handler: (msg: In) => void): this {
    this.messageHandler = handler;
    return this;
  }

  /** raw bytes of stream `id` (a message body); without a handler, bytes are a protocol error */
  onBytes(handler: (id: number, bytes: Buffer) => void): this {
    this.bytesHandler = handler;
    return this;
  }

  /** Send raw bytes of stream `id`, in order with the messages; false: wait for drained(). */
  sendBytes(id: number, bytes: Buffer): boolean {
    if (this.closed) throw new ChannelClosed(`channel to ${this.opts.peer} is closed`);
    if (bytes.length < UNCOPIED_BYTES) return this.enqueue(encodeBytes(id, bytes));
    this.enqueue(bytesHeader(id, bytes.length));
    return this.enqueue(bytes);
  }

  /** a protocol error: a bad frame or an undecodable message (the channel is then closed) */
  onError(handler: (err: Error) => void): this {
    this.errorHandler = handler;
    return this;
  }

  onClose(handler: () => void): this {
    this.closeHandlers.push(handler);
    return this;
  }

  /** Send a message; false means the peer is slow: wait for drained() before sending more. */
  send(msg: Out): boolean {
    if (this.closed) throw new ChannelClosed(`channel to ${this.opts.peer} is closed`);
    this.traceLine('->', msg);
    return this.enqueue(encodeJson(msg));
  }

  private enqueue(frame: Buffer): boolean {
    this.out.push(frame);
    this.outBytes += frame.length;
    if (this.outBytes >= BATCH_BYTES) this.flush();
    else if (this.out.length === 1) {
      unflushed.add(this);
      setImmediate(this.flushSoon);
    }
    return !(this.opts.socket as Duplex & { writableNeedDrain?: boolean }).writableNeedDrain;
  }

  /** write the pending frames now, in one write (a writev when large bytes are among them) */
  flush(): void {
    if (this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    this.outBytes = 0;
    unflushed.delete(this);
    const socket = this.opts.socket;
    if (socket.destroyed) return;
    if (out.length === 1) return void socket.write(out[0]);
    const pieces: Buffer[] = [];
    let run: Buffer[] = [];
    let runBytes = 0;
    const endRun = () => {
      if (run.length > 0) pieces.push(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
      run = [];
      runBytes = 0;
    };
    for (const b of out) {
      if (b.length >= UNCOPIED_BYTES) {
        endRun();
        pieces.push(b);
      } else {
        run.push(b);
        runBytes += b.length;
      }
    }
    endRun();
    if (pieces.length === 1) return void socket.write(pieces[0]);
    socket.cork();
    for (const p of pieces) socket.write(p);
    socket.uncork();
  }

  /** resolves when the socket's buffer has drained; every waiter shares one 'drain' listener
   * (many senders may wait at once: one listener each would pile up on the socket) */
  drained(): Promise<void> {
    this.flush();
    const s = this.opts.socket as Duplex & { writableNeedDrain?: boolean };
    if (!s.writableNeedDrain) return Promise.resolve();
    this.draining ??= new Promise<void>((resolve) => {
      const done = () => {
        s.off('drain', done);
        s.off('close', done);
        this.draining = undefined;
        resolve();
      };
      s.on('drain', done);
      // a socket that closes never drains: the waiters go on (and find the channel closed)
      s.on('close', done);
    });
    return this.draining;
  }

  /** Send a request (its reqid is filled in) and wait for the message that answers it. */
  request<R extends In>(msg: OmitEach<Out, 'reqid'>, timeoutMs = 5000): Promise<R> {
    const reqid = this.nextReqid++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqid);
        reject(new Error(`no answer from ${this.opts.peer} to ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(reqid, { resolve: resolve as (m: In) => void, reject, timer });
      try {
        this.send({ ...msg, reqid } as unknown as Out);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(reqid);
        reject(e as Error);
      }
    });
  }

  close(): void {
    this.flush();
    this.opts.socket.end();
    this.shutdown(new ChannelClosed(`channel to ${this.opts.peer} closed`));
  }

  private receive(chunk: Buffer): void {
    let items: (In | { bytes: Buffer; id: number })[];
    try {
      items = this.reader.push(chunk).map((f) => {
        if (f.kind !== FRAME_BYTES) return this.opts.decoder.decode(decodeJson(f), '');
        if (!this.bytesHandler) throw new Error('unexpected bytes frame');
        return { id: f.payload.readUInt32BE(0), bytes: f.payload.subarray(4) };
      });
    } catch (e) {
      this.fail(new Error(`malformed message from ${this.opts.peer}: ${(e as Error).message}`));
      return;
    }
    for (const item of items) {
      if (this.closed) return;
      if ('bytes' in item && !('type' in item)) {
        this.bytesHandler!(item.id, item.bytes);
        continue;
      }
      const msg = item as In;
      this.traceLine('<-', msg);
      const re = (msg as { re?: unknown }).re;
      const waiting = typeof re === 'number' ? this.pending.get(re) : undefined;
      if (waiting) {
        clearTimeout(waiting.timer);
        this.pending.delete(re as number);
        waiting.resolve(msg);
      } else {
        this.messageHandler(msg);
      }
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.opts.socket.destroy();
    this.shutdown(err);
    this.errorHandler(err);
  }

  private shutdown(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.out = [];
    this.outBytes = 0;
    unflushed.delete(this);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    for (const h of this.closeHandlers) h();
  }

  /** smtpctl trace imsg / untrace imsg: one log line per message, or none */
  setTrace(trace: ((line: string) => void) | undefined): void {
    this.tracer = trace;
  }

  private traceLine(dir: '->' | '<-', msg: { type: string }): void {
    if (!this.tracer) return;
    const { type, ...rest } = msg as Message;
    const body = JSON.stringify(rest);
    const shown = body.length > TRACE_MAX ? `${body.slice(0, TRACE_MAX)}...` : body;
    this.tracer(`${this.opts.self} ${dir} ${this.opts.peer} ${type} ${shown}`);
  }
}
