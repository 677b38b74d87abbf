/**
 * The queue's file-operation threads (spool-io.ts): jobs of one message always go to the same
 * thread, so they run in the order they were given. A thread that dies takes the queue process
 * with it (the parent restarts it; committed messages are on disk, uncommitted ones purged).
 * Privileges: the queue user's. Peers: the threads it starts, nothing else.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { IoJob, IoReply } from './spool-io';

/** threads committing at once: their fsyncs overlap, and the disk groups them */
export const IO_THREADS = 4;

export class SpoolIoError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

interface Waiting {
  readonly thread: Worker;
  readonly resolve: (r: IoReply) => void;
  readonly reject: (e: Error) => void;
}

/** `chunks` in one new ArrayBuffer of their exact size (a Buffer may be a view of a larger
 * pool, which would be sent whole) */
export function ownBytes(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export class SpoolIo {
  private readonly threads: Worker[] = [];
  private readonly waiting = new Map<number, Waiting>();
  /** jobs not answered yet, per thread: a thread keeps the process alive only while it has some */
  private readonly busy = new Map<Worker, number>();
  private nextId = 1;

  constructor(count = IO_THREADS) {
    for (let i = 0; i < count; i++) {
      const w = new Worker(path.join(__dirname, 'spool-io.js'));
      w.on('message', (r: IoReply) => this.answer(r));
      w.on('error', (e) => {
        throw new Error(`spool thread failed: ${e.message}`);
      });
      w.unref();
      this.threads.push(w);
    }
  }

  /** Run a job on the thread of message `msgid` (8 hex digits). The job's bytes are copied
   * over with their whole ArrayBuffer: give them one of their own (ownBytes). */
  run(msgid: string, job: IoJob): Promise<IoReply> {
    const id = this.nextId++;
    const thread = this.threads[parseInt(msgid.slice(-2), 16) % this.threads.length]!;
    return new Promise<IoReply>((resolve, reject) => {
      this.waiting.set(id, { thread, resolve, reject });
      const n = this.busy.get(thread) ?? 0;
      if (n === 0) thread.ref();
      this.busy.set(thread, n + 1);
      thread.postMessage({ id, job });
    });
  }

  private answer(r: IoReply): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    const n = this.busy.get(w.thread)! - 1;
    this.busy.set(w.thread, n);
    if (n === 0) w.thread.unref();
    if (r.error) w.reject(new SpoolIoError(r.error.message, r.error.code));
    else w.resolve(r);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
