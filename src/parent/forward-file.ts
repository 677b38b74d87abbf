/**
 * A recipient's ~/.forward, read by the parent for lka, with OpenSMTPD's rules: opened as the
 * user (its uid, gid and only that group, for the length of one open), never through a
 * symbolic link; used only when it is a regular file of the user, not writable by group or
 * others, in a home owned by the user (or root) that is not group- or world-writable (an unsafe
 * file is logged and ignored: the mail goes to the mailbox); a sticky bit on the home defers
 * the lookup (a temporary failure). Root's .forward is not read. At most 64 KiB.
 * A file that is not there is found so as root, without switching (the common case, and cheap).
 * Privileges: root, the euid switched to the user around the open. Peers: none (the Daemon
 * answers lka's FORWARD_READ with it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Identity } from './helpers';

export type ForwardRead = { readonly result: 'none' } | { readonly result: 'ok'; readonly content: string } | { readonly result: 'tempfail' | 'unsafe'; readonly text: string };

const MAX_FORWARD = 64 * 1024;

/** open `file` as the user; the process's own identity is back before this returns */
function openAsUser(file: string, user: Identity): number {
  const groups = process.getgroups!();
  const switchable = process.geteuid!() === 0;
  if (switchable) {
    process.setgroups!([user.gid]);
    process.setegid!(user.gid);
    process.seteuid!(user.uid);
  }
  try {
    return fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } finally {
    if (switchable) {
      process.seteuid!(0);
      process.setegid!(0);
      process.setgroups!(groups);
    }
  }
}

/** nothing at `file` (a name looked up as root; any other answer is left to the open as the user) */
function absent(file: string): boolean {
  try {
    return fs.lstatSync(file, { throwIfNoEntry: false }) === undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOTDIR';
  }
}

export function readForward(user: Identity): ForwardRead {
  if (user.uid === 0) return { result: 'none' };
  let home: fs.Stats;
  try {
    home = fs.statSync(user.home);
  } catch {
    return { result: 'none' };
  }
  if (home.mode & 0o1000) return { result: 'tempfail', text: `451 4.2.1 the home of ${user.name} has its sticky bit set: .forward lookup deferred` };
  const file = path.join(user.home, '.forward');
  // most users have no .forward: a look as root answers that without switching identity,
  // which costs a signal to every thread of this process per set*id call (glibc's setxid)
  if (absent(file)) return { result: 'none' };
  let fd: number;
  try {
    fd = openAsUser(file, user);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { result: 'none' };
    if (code === 'ELOOP') return { result: 'unsafe', text: `${file} is a symbolic link` };
    if (code === 'EACCES') return { result: 'unsafe', text: `${file} cannot be read by ${user.name}` };
    return { result: 'tempfail', text: `451 4.3.0 ${file}: ${code ?? (e as Error).message}` };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { result: 'unsafe', text: `${file} is not a regular file` };
    if (st.uid !== user.uid) return { result: 'unsafe', text: `${file} is not owned by ${user.name}` };
    if (st.mode & 0o022) return { result: 'unsafe', text: `${file} is writable by group or others` };
    if (home.mode & 0o022 || (home.uid !== user.uid && home.uid !== 0)) return { result: 'unsafe', text: `${user.home} is writable by others or not ${user.name}'s` };
    if (st.size > MAX_FORWARD) return { result: 'unsafe', text: `${file} is larger than ${MAX_FORWARD} bytes` };
    return { result: 'ok', content: fs.readFileSync(fd, 'utf8') };
  } finally {
    fs.closeSync(fd);
  }
}
