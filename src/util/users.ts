/**
 * System users and groups, looked up through NSS (`getent`), so that /etc/passwd, LDAP or
 * systemd's dynamic users all work. Used by the parent before it starts workers as a user.
 */
import { execFileSync } from 'node:child_process';

export interface SystemUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

const CACHE_MS = 60_000;
const cache = new Map<string, { user: SystemUser | undefined; at: number }>();

/** lookupUser with a one-minute memory: getent costs a process per call, and deliveries and
 * recipient checks ask for the same users again and again. */
export function lookupUserCached(name: string): SystemUser | undefined {
  const hit = cache.get(name);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.user;
  const user = lookupUser(name);
  cache.set(name, { user, at: Date.now() });
  return user;
}

/** A login name as systems spell them (a trailing `$` for machine accounts): never an
 * option to a command, never a path. */
export function isLoginName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}\$?$/.test(name);
}

function getentPasswd(key: string): SystemUser | undefined {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}

/** The user, or undefined when there is no such user (or `name` is no login name). */
export function lookupUser(name: string): SystemUser | undefined {
  return isLoginName(name) ? getentPasswd(name) : undefined;
}

/** The user with this uid, or undefined. */
export function lookupUserById(uid: number): SystemUser | undefined {
  if (!Number.isInteger(uid) || uid < 0) return undefined;
  const u = getentPasswd(String(uid));
  return u?.uid === uid ? u : undefined;
}
