/**
 * Does a recipient user exist? Through the system's user database (`<getpwnam>`, via NSS) or
 * a userbase table (`user -> uid:gid:home`). System lookups are cached for a minute.
 */
import { lookupUser } from '../util/users';
import type { Tables } from './tables';

const TTL_MS = 60_000;

export class Users {
  private readonly cache = new Map<string, { exists: boolean; at: number }>();

  constructor(private readonly tables: () => Tables) {}

  exists(user: string, userbase: string): boolean {
    if (userbase !== '<getpwnam>') {
      const v = this.tables().lookup(userbase, user);
      return v !== undefined && /^\d+:\d+:\//.test(v);
    }
    const hit = this.cache.get(user);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.exists;
    const exists = /^[a-z_][a-z0-9_.-]*\$?$/i.test(user) && lookupUser(user) !== undefined;
    this.cache.set(user, { exists, at: Date.now() });
    return exists;
  }
}
