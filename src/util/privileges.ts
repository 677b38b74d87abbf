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
  getgroups(): number[];
  setgroups(groups: number[]): void;
}

const posix = process as unknown as PosixProcess;

export function currentIdentity(): Identity {
  return { uid: posix.getuid(), gid: posix.getgid() };
}

/** Become `user` (uid, gid, its groups from the group database, or none when `systemGroups`
 * is false, and `extraGroups`) when running as root; a no-op otherwise. */
export function dropPrivileges(user: string, uid: number, gid: number, extraGroups: readonly number[] = [], systemGroups = true): Identity {
  if (posix.getuid() !== 0) return currentIdentity();
  if (systemGroups) posix.initgroups(user, gid);
  else posix.setgroups([gid]);
  if (extraGroups.length > 0) posix.setgroups([...new Set([...posix.getgroups(), ...extraGroups])]);
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
