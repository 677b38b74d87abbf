/**
 * "Has this user no ~/.forward?", answered in lka when it can be, without a round trip to the
 * parent (which reads .forward files as their users): lka looks as the daemon user, and only
 * an answer that the parent would give too is taken: root (whose .forward is never read), a
 * home that does not exist, or no .forward in a home lka may search and whose sticky bit is
 * not set. Anything else (a .forward there, a home lka cannot search, a sticky home) is left
 * to the parent. Only names and metadata are looked at, never a file's content. This holds
 * because lka sees the real file system (it is not chrooted).
 * Privileges: the daemon user (lka). Peers: none. I/O: stat and lstat.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** 'none' when the user surely has no .forward to follow; undefined: ask the parent */
export function noForward(user: { readonly uid: number; readonly home: string }): 'none' | undefined {
  if (user.uid === 0) return 'none';
  let home: fs.Stats;
  try {
    home = fs.statSync(user.home);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : undefined;
  }
  if (home.mode & 0o1000) return undefined;
  try {
    return fs.lstatSync(path.join(user.home, '.forward'), { throwIfNoEntry: false }) === undefined ? 'none' : undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'none' : undefined;
  }
}
