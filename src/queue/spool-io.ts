/**
 * The spool's file operations on the hot path, each job run synchronously in a worker thread of
 * the queue process: a commit (write, fsync of message, envelopes and directory, rename into
 * the queue, fsync of the bucket) costs one round trip to a thread instead of a dozen hops
 * through libuv's pool, and several threads commit at once, so the disk groups their fsyncs.
 * Privileges: the queue user's (a thread of the queue process). Peers: SpoolIo (spool-io-pool.ts)
 * only, over the thread's message port. Paths come built and checked by Spool.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';

export interface EnvelopeFile {
  readonly name: string;
  readonly text: string;
}

export type IoJob =
  /** add body bytes to the message file of `dir` (made, with the directory, when `create`) */
  | { readonly op: 'append'; readonly dir: string; readonly data: Uint8Array; readonly create: boolean }
  /** the last bytes, the envelopes, every fsync and the rename of `dir` to `target` */
  | {
      readonly op: 'commit';
      readonly dir: string;
      readonly data: Uint8Array;
      readonly create: boolean;
      readonly envelopes: readonly EnvelopeFile[];
      readonly target: string;
    }
  /** remove an envelope, and the message with its directory when none is left */
  | { readonly op: 'remove'; readonly dir: string; readonly evpid: string }
  /** remove what was written of a message that will not be committed */
  | { readonly op: 'discard'; readonly dir: string };

export interface IoRequest {
  readonly id: number;
  readonly job: IoJob;
}

export interface IoReply {
  readonly id: number;
  readonly error?: { readonly message: string; readonly code?: string };
  /** remove: the message itself is gone */
  readonly messageRemoved?: boolean;
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}

/** open the message file for more bytes (made with its directory at the first write) */
function openMessage(dir: string, create: boolean): number {
  if (create) fs.mkdirSync(dir, { mode: 0o700 });
  return fs.openSync(path.join(dir, 'message'), create ? 'wx' : 'a', 0o600);
}

function append(dir: string, data: Uint8Array, create: boolean): void {
  const fd = openMessage(dir, create);
  try {
    writeAll(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

function commit(job: Extract<IoJob, { op: 'commit' }>): void {
  const fd = openMessage(job.dir, job.create);
  try {
    writeAll(fd, job.data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  for (const e of job.envelopes) {
    const efd = fs.openSync(path.join(job.dir, e.name), 'wx', 0o600);
    try {
      fs.writeSync(efd, e.text);
      fs.fsyncSync(efd);
    } finally {
      fs.closeSync(efd);
    }
  }
  fsyncDir(job.dir);
  const bucket = path.dirname(job.target);
  if (!fs.existsSync(bucket)) {
    try {
      fs.mkdirSync(bucket, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    fsyncDir(path.dirname(bucket));
  }
  fs.renameSync(job.dir, job.target); // the commit point
  fsyncDir(bucket);
}

function remove(dir: string, evpid: string): boolean {
  try {
    fs.unlinkSync(path.join(dir, evpid));
  } catch (e) {
    ignoreMissing(e);
  }
  let left: string[];
  try {
    left = fs.readdirSync(dir);
  } catch {
    return false;
  }
  if (left.length === 0 || !left.every((f) => f === 'message')) return false;
  try {
    fs.unlinkSync(path.join(dir, 'message'));
    fs.rmdirSync(dir);
  } catch (e) {
    ignoreMissing(e);
  }
  return true;
}

export function runJob(job: IoJob): Omit<IoReply, 'id'> {
  switch (job.op) {
    case 'append':
      append(job.dir, job.data, job.create);
      return {};
    case 'commit':
      commit(job);
      return {};
    case 'remove':
      return { messageRemoved: remove(job.dir, job.evpid) };
    case 'discard':
      fs.rmSync(job.dir, { recursive: true, force: true });
      return {};
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (req: IoRequest) => {
    let reply: IoReply;
    try {
      reply = { id: req.id, ...runJob(req.job) };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      reply = { id: req.id, error: { message: err.message, ...(err.code ? { code: err.code } : {}) } };
    }
    port.postMessage(reply);
  });
}
