/**
 * Does a recipient user exist? Through the system's user database (`<getpwnam>`, via NSS,
 * cached for a minute) or a userbase table (`user -> uid:gid:home`).
 */
import { lookupUserCached } from '../util/users';
import type { Tables } from './tables';

export class Users {
  constructor(private readonly tables: () => Tables) {}

  exists(user: string, userbase: string): boolean {
    if (userbase !== '<getpwnam>') {
      const v = this.tables().lookup(userbase, user);
      return v !== undefined && /^\d+:\d+:\//.test(v);
    }
    return lookupUserCached(user) !== undefined;
  }
}
