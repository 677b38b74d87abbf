/**
 * The spool on disk: `incoming/<msgid>/` while a message is received, then an atomic rename to
 * `queue/<2 hex>/<msgid>/` holding `message` and one file per envelope (`<evpid>`, JSON).
 *
 * Durability: the message file, every envelope file and the message directory are fsynced
 * before the rename, and the queue bucket directory after it; only then is the commit reported
 * (and smtp answers 250). At start, everything still in incoming/ (never committed) is purged.
 * Removals are not fsynced: a removal lost in a crash means a delivery done again (at least
 * once), never a message lost.
 * Speed: the body is gathered in memory and written in pieces of FLUSH_BYTES (a small message
 * in one write at commit). The fsyncs go to libuv's thread pool (the parent gives the queue a
 * larger one), all of a commit's at once, so those of concurrent messages overlap and the disk
 * commits them together; so does the removal of a delivered message (renames and a readdir),
 * whose directory operations wait while other commits' fsyncs hold the disk (unlinks measured
 * on the queue's event loop: 0.6 ms median, 2.3 ms at the 90th percentile, holding up every
 * session's commit meanwhile).
 * The commit's other operations (mkdir, open, write to the page cache, rename) are done at
 * once: a round trip to a pool thread and back costs two thread wake-ups, more than they do.
 * A removed message's tree goes to purge/ and holds a later message (spare-dirs.ts): no inode
 * is made or freed a message while the load is steady.
 * Files are 0600, directories 0700. Only the queue process touches the spool.
 */
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ignoreMissing } from '../util/errno';
import { fsyncAsync, writeAll } from '../util/fd-io';
import { GONE, SpareDirs } from './spare-dirs';

export const ENVELOPE_VERSION = 1;

export interface StoredEnvelope {
  readonly version: number;
  readonly evpid: string;
  readonly msgid: string;
  readonly ctime: number;
  readonly retry: number;
  readonly [field: string]: unknown;
}

export class SpoolFullError extends Error {}

function hex32(): string {
  return randomInt(0, 2 ** 32).toString(16).padStart(8, '0');
}

/** close descriptors, ignoring errors (what matters was fsynced, or is being thrown away) */
function closeAll(fds: number[]): void {
  for (const fd of fds.splice(0)) {
    try {
      fs.closeSync(fd);
    } catch {
      // nothing more to do with it
    }
  }
}

/** a message body is written to disk in pieces of this size (or at once at commit) */
export const FLUSH_BYTES = 256 * 1024;

async function fsyncDirAsync(dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write `text` into `file` and leave it open: its descriptor. A new file must not exist; a
 * `reused` one is written over and cut to the new length (its blocks stay allocated: no block
 * freed and allocated again). */
function writeFile(file: string, text: string, reused: boolean): number {
  const fd = fs.openSync(file, reused ? 'r+' : 'wx', 0o600);
  try {
    const data = Buffer.from(text);
    writeAll(fd, data);
    if (reused) fs.ftruncateSync(fd, data.length);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

interface Incoming {
  readonly msgid: string;
  readonly dir: string;
  /** the message file's descriptor, opened (with its directory made) at the first write */
  fd?: number;
  /** body bytes not written yet */
  chunks: Buffer[];
  buffered: number;
  size: number;
  /** the first write error: the commit fails with it */
  error?: unknown;
  /** the whole message, when it was written in one piece (kept for its delivery) */
  whole?: Buffer;
  /** envelope files of a removed message in its directory (a spare tree), to be reused */
  reuse?: string[];
  /** the message file is a removed message's, written over: cut to the size at commit */
  overwrite?: boolean;
}

/** Bodies of recently committed messages, so that their delivery does not read them back from
 * disk: at most CACHE_BYTES, the oldest dropped first. */
export const CACHE_BYTES = 32 * 1024 * 1024;

class RecentBodies {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;

  put(msgid: string, body: Buffer): void {
    if (body.length > CACHE_BYTES / 4) return;
    this.map.set(msgid, body);
    this.bytes += body.length;
    for (const [id, b] of this.map) {
      if (this.bytes <= CACHE_BYTES) break;
      this.map.delete(id);
      this.bytes -= b.length;
    }
  }

  get(msgid: string): Buffer | undefined {
    return this.map.get(msgid);
  }

  delete(msgid: string): void {
    const b = this.map.get(msgid);
    if (!b) return;
    this.map.delete(msgid);
    this.bytes -= b.length;
  }
}

export class Spool {
  private readonly incoming = new Map<string, Incoming>();
  private readonly recent = new RecentBodies();
  /** updates and removals of envelopes under way, and the last one asked for each envelope */
  private readonly pending = new Set<Promise<void>>();
  private readonly lastOp = new Map<string, Promise<void>>();
  private readonly spares: SpareDirs;
  /** the size of each message committed since start (a spare tree keeps a small one's blocks) */
  private readonly sizes = new Map<string, number>();

  constructor(
    readonly root: string,
    /** refuse new messages when less than this fraction of blocks or inodes is free */
    private readonly minFree = 0.05,
  ) {
    this.spares = new SpareDirs(path.join(root, 'purge'));
  }

  /** Create the tree, purge uncommitted messages and empty purge/: how many messages were
   * purged, and the entries that could not be (they stay; the queue goes on). */
  open(): { purged: number; failed: { name: string; error: string }[] } {
    for (const d of ['incoming', 'queue', 'corrupt', 'offline', 'purge']) fs.mkdirSync(path.join(this.root, d), { recursive: true, mode: 0o700 });
    let purged = 0;
    const failed: { name: string; error: string }[] = [];
    for (const name of fs.readdirSync(path.join(this.root, 'incoming'))) {
      try {
        fs.rmSync(path.join(this.root, 'incoming', name), { recursive: true, force: true });
        purged++;
      } catch (e) {
        failed.push({ name, error: (e as Error).message });
      }
    }
    failed.push(...this.spares.clear());
    return { purged, failed };
  }

  /** less than minFree of the spool's blocks or inodes are free */
  spaceLow(): boolean {
    const s = fs.statfsSync(this.root);
    const blocksFree = s.bavail / s.blocks;
    const inodesFree = s.files > 0 ? s.ffree / s.files : 1;
    return blocksFree < this.minFree || inodesFree < this.minFree;
  }

  private checkSpace(): void {
    if (this.spaceLow()) throw new SpoolFullError('the spool file system is nearly full');
  }

  private bucket(msgid: string): string {
    return path.join(this.root, 'queue', msgid.slice(0, 2));
  }

  /** A new message id; nothing is on disk until its first bytes are written. */
  create(): string {
    this.checkSpace();
    for (;;) {
      const msgid = hex32();
      if (this.incoming.has(msgid) || fs.existsSync(path.join(this.bucket(msgid), msgid))) continue;
      const dir = path.join(this.root, 'incoming', msgid);
      this.incoming.set(msgid, { msgid, dir, chunks: [], buffered: 0, size: 0 });
      return msgid;
    }
  }

  isOpen(msgid: string): boolean {
    return this.incoming.has(msgid);
  }

  append(msgid: string, bytes: Buffer): void {
    const m = this.incoming.get(msgid);
    if (!m) throw new Error(`no message ${msgid} being received`);
    m.chunks.push(bytes);
    m.buffered += bytes.length;
    m.size += bytes.length;
    if (m.buffered >= FLUSH_BYTES) this.flush(m);
  }

  /** write what is buffered (the file is made by the first write); an error is kept for the commit */
  private flush(m: Incoming): void {
    const data = m.chunks.length === 1 ? m.chunks[0]! : Buffer.concat(m.chunks);
    m.chunks = [];
    m.buffered = 0;
    m.whole = data.length === m.size ? data : undefined;
    if (m.error !== undefined) return;
    try {
      if (m.fd === undefined) {
        const spare = this.spares.take(m.dir);
        if (spare) m.reuse = spare.gone;
        else fs.mkdirSync(m.dir, { mode: 0o700 });
        m.overwrite = spare !== undefined;
        m.fd = fs.openSync(path.join(m.dir, 'message'), spare ? 'r+' : 'wx', 0o600);
      }
      if (data.length > 0) writeAll(m.fd, data);
    } catch (e) {
      m.error = e;
    }
  }

  /** Write the envelopes, fsync everything and move the message into the queue. The fsyncs
   * (message, envelopes and directory together, then the bucket after the rename) run on
   * libuv's thread pool, so several messages commit at once and their fsyncs overlap (group
   * commit by the disk), instead of one after the other. */
  async commit(msgid: string, envelopes: readonly Record<string, unknown>[]): Promise<StoredEnvelope[]> {
    const m = this.incoming.get(msgid);
    if (!m) throw new Error(`no message ${msgid} being received`);
    this.incoming.delete(msgid); // from now on the commit owns it (an abort cannot race it)
    this.flush(m);
    const fds: number[] = [];
    try {
      if (m.error !== undefined) throw m.error;
      if (m.overwrite) fs.ftruncateSync(m.fd!, m.size);
      fds.push(m.fd!);
      m.fd = undefined;
      const ctime = Math.floor(Date.now() / 1000);
      const used = new Set<string>();
      const stored = envelopes.map((env) => {
        let evpid: string;
        do evpid = `${msgid}${hex32()}`;
        while (used.has(evpid));
        used.add(evpid);
        return { version: ENVELOPE_VERSION, evpid, msgid, ctime, retry: 0, ...env } as StoredEnvelope;
      });
      for (const e of stored) {
        const file = path.join(m.dir, e.evpid);
        const old = m.reuse?.pop();
        if (old !== undefined) fs.renameSync(path.join(m.dir, old), file);
        fds.push(writeFile(file, `${JSON.stringify(e)}\n`, old !== undefined));
      }
      for (const old of m.reuse?.splice(0) ?? []) fs.unlinkSync(path.join(m.dir, old));
      // the directory is complete: its entries and every file's data reach the disk together
      fds.push(fs.openSync(m.dir, 'r'));
      const synced = await Promise.allSettled(fds.map(fsyncAsync));
      for (const r of synced) if (r.status === 'rejected') throw r.reason;
      closeAll(fds);
      const bucket = this.bucket(msgid);
      if (!fs.existsSync(bucket)) {
        try {
          fs.mkdirSync(bucket, { mode: 0o700 });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        await fsyncDirAsync(path.join(this.root, 'queue'));
      }
      fs.renameSync(m.dir, path.join(bucket, msgid)); // the commit point
      await fsyncDirAsync(bucket);
      if (m.whole) this.recent.put(msgid, m.whole);
      this.sizes.set(msgid, m.size);
      return stored;
    } catch (e) {
      closeAll(fds);
      this.discard(m);
      throw e;
    }
  }

  /** close and remove what was written of a message that will not be committed */
  private discard(m: Incoming): void {
    if (m.fd !== undefined) closeAll([m.fd]);
    m.fd = undefined;
    fs.rmSync(m.dir, { recursive: true, force: true });
  }

  /** Forget a message being received; its partial file is removed. */
  abort(msgid: string): Promise<void> {
    const m = this.incoming.get(msgid);
    if (!m) return Promise.resolve();
    this.incoming.delete(msgid);
    m.chunks = [];
    try {
      this.discard(m);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private messageDir(msgid: string): string {
    return path.join(this.bucket(msgid), msgid);
  }

  /** Every envelope in the queue. Unreadable envelopes are moved to corrupt/, and so is a
   * message left with no valid envelope or no message file (each reported in `corrupt`). */
  load(): { envelopes: StoredEnvelope[]; corrupt: string[] } {
    const envelopes: StoredEnvelope[] = [];
    const corrupt: string[] = [];
    const q = path.join(this.root, 'queue');
    const quarantine = (from: string, name: string, why: string) => {
      fs.renameSync(from, path.join(this.root, 'corrupt', name));
      corrupt.push(`${name}: ${why}`);
    };
    for (const bucket of fs.readdirSync(q)) {
      for (const msgid of fs.readdirSync(path.join(q, bucket))) {
        const dir = path.join(q, bucket, msgid);
        const found: StoredEnvelope[] = [];
        let removed = false;
        for (const f of fs.readdirSync(dir)) {
          if (f === 'message') continue;
          if (f.endsWith('.tmp') || f.endsWith(GONE)) {
            // an update that never finished, or an envelope removed before a stop
            fs.rmSync(path.join(dir, f), { force: true });
            removed ||= f.endsWith(GONE);
            continue;
          }
          try {
            const e = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as StoredEnvelope;
            if (e.version !== ENVELOPE_VERSION || e.evpid !== f || e.msgid !== msgid) throw new Error('not an envelope of this message');
            found.push(e);
          } catch (err) {
            quarantine(path.join(dir, f), `${msgid}-${f}`, (err as Error).message);
          }
        }
        if (found.length === 0 && removed) {
          fs.rmSync(dir, { recursive: true, force: true }); // delivered: its removal was cut short
          continue;
        }
        if (found.length === 0 || !fs.existsSync(path.join(dir, 'message'))) {
          quarantine(dir, msgid, found.length === 0 ? 'no valid envelope left' : 'no message file');
          continue;
        }
        envelopes.push(...found);
      }
    }
    return { envelopes, corrupt };
  }

  /** The valid envelopes of one message in the queue, read from its directory (smtpctl
   * discover); nothing is moved, unreadable files are skipped. */
  readEnvelopes(msgid: string): StoredEnvelope[] {
    const dir = this.messageDir(msgid);
    if (!fs.existsSync(path.join(dir, 'message'))) return [];
    const found: StoredEnvelope[] = [];
    for (const f of fs.readdirSync(dir)) {
      if (!/^[0-9a-f]{16}$/.test(f)) continue;
      try {
        const e = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as StoredEnvelope;
        if (e.version === ENVELOPE_VERSION && e.evpid === f && e.msgid === msgid) found.push(e);
      } catch {
        // not an envelope: left for the next start, which moves it to corrupt/
      }
    }
    return found;
  }

  /** the envelope file as stored (smtpctl show envelope) */
  readEnvelopeFile(msgid: string, evpid: string): Promise<string> {
    return fsp.readFile(path.join(this.messageDir(msgid), evpid), 'latin1');
  }

  readMessage(msgid: string): Promise<Buffer> {
    const cached = this.recent.get(msgid);
    if (cached) return Promise.resolve(cached);
    return fsp.readFile(path.join(this.messageDir(msgid), 'message'));
  }

  /** Replace an envelope atomically (tmp file, fsync, rename, fsync of the directory), on the
   * thread pool: a deferral does not stop the queue's event loop for its two fsyncs. The
   * writes and the removal of one envelope run one after the other, in the order asked. */
  updateEnvelope(e: StoredEnvelope): Promise<void> {
    return this.inOrder(e.evpid, async () => {
      const dir = this.messageDir(e.msgid);
      const tmp = path.join(dir, `${e.evpid}.tmp`);
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(e)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, path.join(dir, e.evpid));
      await fsyncDirAsync(dir);
    });
  }

  /** run `op` after the operations already asked for `evpid`; counted until done (see settled) */
  private inOrder(evpid: string, op: () => Promise<void>): Promise<void> {
    const before = this.lastOp.get(evpid) ?? Promise.resolve();
    const p: Promise<void> = before.then(op, op).finally(() => {
      this.pending.delete(p);
      if (this.lastOp.get(evpid) === p) this.lastOp.delete(evpid);
    });
    this.lastOp.set(evpid, p);
    this.pending.add(p);
    return p;
  }


  /** Remove an envelope; the message goes too when it was the last one. Not fsynced (see the
   * header); on the thread pool, after any update of the same envelope still under way. */
  removeEnvelope(msgid: string, evpid: string): Promise<void> {
    return this.inOrder(evpid, () => this.remove(msgid, evpid));
  }

  /** Resolves once every update and removal under way has finished (the queue waits for it
   * before it exits, so that a clean stop loses none). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** The envelope file is renamed `<evpid>.gone`; when none is left, the message's tree
   * leaves the queue in one rename (see spare-dirs.ts). */
  private async remove(msgid: string, evpid: string): Promise<void> {
    const dir = this.messageDir(msgid);
    await fsp.rename(path.join(dir, evpid), path.join(dir, `${evpid}${GONE}`)).catch(ignoreMissing);
    const left = await fsp.readdir(dir).catch(() => [] as string[]);
    if (left.includes('message') && left.every((f) => f === 'message' || f.endsWith(GONE))) {
      this.recent.delete(msgid);
      const size = this.sizes.get(msgid);
      this.sizes.delete(msgid);
      await this.spares.keep(dir, left, size);
    }
  }


  /** every message being received (aborted when their smtp channel goes away) */
  receiving(): string[] {
    return [...this.incoming.keys()];
  }
}
