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

/** The user, or undefined when there is no such user. */
export function lookupUser(name: string): SystemUser | undefined {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}
