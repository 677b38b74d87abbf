/**
 * Dropping root for good: supplementary groups, gid, then uid; then proof that root cannot be
 * regained. Node's process.initgroups/setgid/setuid apply to every thread of the process.
 * Used by every worker before it handles its first message.
 */

export interface Identity {
  readonly uid: number;
  readonly gid: number;
}

export class PrivilegeError extends Error {}

/** The POSIX identity calls, present on every platform tsmtpd runs on (not on Windows). */
interface PosixProcess {
  getuid(): number;
  geteuid(): number;
  getgid(): number;
  setuid(id: number | string): void;
  setgid(id: number | string): void;
  initgroups(user: string, extraGroup: number): void;
}

const posix = process as unknown as PosixProcess;

export function currentIdentity(): Identity {
  return { uid: posix.getuid(), gid: posix.getgid() };
}

/** Become `user` (uid, gid) when running as root; a no-op otherwise. */
export function dropPrivileges(user: string, uid: number, gid: number): Identity {
  if (posix.getuid() !== 0) return currentIdentity();
  posix.initgroups(user, gid);
  posix.setgid(gid);
  posix.setuid(uid);
  if (posix.getuid() !== uid || posix.geteuid() !== uid || posix.getgid() !== gid) {
    throw new PrivilegeError(`could not become ${user} (${uid}:${gid})`);
  }
  let regained = false;
  try {
    posix.setuid(0);
    regained = true;
  } catch {
    // expected: EPERM
  }
  if (regained) throw new PrivilegeError(`${user} could become root again after dropping privileges`);
  return { uid, gid };
}

interface EffectiveIds {
  geteuid(): number;
  getegid(): number;
  seteuid(id: number): void;
  setegid(id: number): void;
  getgroups(): number[];
  setgroups(groups: number[]): void;
}

const eff = process as unknown as EffectiveIds;

/** Run `fn` (synchronous file work only) with the effective identity of uid:gid, then come
 * back to root. Used by the parent to write into a user's mailbox as that user. Without root,
 * `fn` simply runs as the current user. */
export function asUser<T>(uid: number, gid: number, fn: () => T): T {
  if (eff.geteuid() !== 0) return fn();
  const groups = eff.getgroups();
  eff.setgroups([gid]);
  eff.setegid(gid);
  eff.seteuid(uid);
  try {
    return fn();
  } finally {
    eff.seteuid(0);
    eff.setegid(0);
    eff.setgroups(groups);
  }
}
