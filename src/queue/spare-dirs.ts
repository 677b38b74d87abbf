/**
 * The trees of removed messages, kept in `purge/` to hold the next messages received: their
 * directory, their message file and the envelope files they had (renamed `<evpid>.gone`), all
 * written over by the next message and cut to its length (a message file larger than
 * SPARE_KEEP_BYTES is emptied when kept, so spares hold little disk). A message then costs the
 * file system no inode made or freed, and mostly no block: on ext4 without a journal,
 * allocating an inode skips every inode freed in the last ~30 s, so under a steady load the
 * mkdir and the creates of a commit were the queue's largest kernel cost (perf, 20 sessions:
 * `__ext4_new_inode` ~22 % of the queue's CPU; spare trees cut the spool's system time a
 * message by about a third in a scratch loop). At most SPARES_MAX are kept; beyond that a
 * removed tree is deleted. Everything in purge/ is deleted at start.
 * Privileges: the queue user; only the queue process (spool.ts) uses it. No peers.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ignoreMissing } from '../util/errno';

/** how many removed trees are kept for reuse */
export const SPARES_MAX = 256;

/** a spare tree keeps the blocks of a message file up to this size (written over by the next
 * message, no block freed and allocated again); a larger one is emptied */
export const SPARE_KEEP_BYTES = 128 * 1024;

/** the suffix of an envelope file whose envelope was removed */
export const GONE = '.gone';

export interface SpareTree {
  /** envelope files of the old message still in it (`<evpid>.gone`), to be renamed or unlinked */
  readonly gone: string[];
}

export class SpareDirs {
  private readonly spares: { dir: string; gone: string[] }[] = [];
  private next = 0;

  constructor(
    private readonly purgeDir: string,
    private readonly max = SPARES_MAX,
  ) {}

  /** Delete everything in purge/ (at start): the names that could not be deleted, with why. */
  clear(): { name: string; error: string }[] {
    this.spares.length = 0;
    const failed: { name: string; error: string }[] = [];
    for (const name of fs.readdirSync(this.purgeDir)) {
      try {
        fs.rmSync(path.join(this.purgeDir, name), { recursive: true, force: true });
      } catch (e) {
        failed.push({ name: `purge/${name}`, error: (e as Error).message });
      }
    }
    return failed;
  }

  get size(): number {
    return this.spares.length;
  }

  /** A spare tree renamed to `dir` (which must not exist), or undefined when there is none:
   * the caller makes its directory itself. */
  take(dir: string): SpareTree | undefined {
    for (let s = this.spares.pop(); s; s = this.spares.pop()) {
      try {
        fs.renameSync(s.dir, dir);
        return { gone: s.gone };
      } catch {
        fs.rmSync(s.dir, { recursive: true, force: true }); // unusable: forget it
      }
    }
    return undefined;
  }

  /** Take in the tree of a message whose envelopes are all gone (`entries`, as read from `dir`:
   * its message file and `<evpid>.gone` files): moved out of the queue in one rename, its
   * message file emptied unless `size` says it is small; deleted instead when enough are kept.
   * Does nothing when `dir` is no longer there (another removal of the same message took it). */
  async keep(dir: string, entries: readonly string[], size?: number): Promise<void> {
    if (this.spares.length >= this.max) {
      for (const f of entries) await fsp.unlink(path.join(dir, f)).catch(ignoreMissing);
      await fsp.rmdir(dir).catch(ignoreMissing);
      return;
    }
    const spare = path.join(this.purgeDir, `s${(this.next++).toString(36)}`);
    try {
      await fsp.rename(dir, spare);
    } catch (e) {
      ignoreMissing(e);
      return;
    }
    try {
      if (size === undefined || size > SPARE_KEEP_BYTES) await fsp.truncate(path.join(spare, 'message'), 0);
      this.spares.push({ dir: spare, gone: entries.filter((f) => f.endsWith(GONE)) });
    } catch {
      await fsp.rm(spare, { recursive: true, force: true });
    }
  }
}
