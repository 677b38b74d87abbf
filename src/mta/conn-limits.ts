/**
 * `mta limit`: how many connections the mta may have open at once, and how soon one may follow
 * another, per remote host (address), route (source and host), source address, connector
 * (source and relay), relay (the MX set of a domain, or a smarthost) and domain; the values of
 * `mta limit for domain D` first, then `mta limit`, then the defaults (mta-limit-defaults.ts). A
 * connection that may not start yet waits (wait() resolves when one closes, a session is kept
 * for reuse, or a delay runs out) instead of failing: the limits shape traffic, they do not
 * bounce mail.
 * Privileges: none (mta). Peers: none. No I/O.
 */
import type { MtaLimits } from '../parse/config';
import { MTA_LIMIT_DEFAULTS } from '../mail/mta-limit-defaults';

export const LIMIT_KINDS = ['host', 'route', 'source', 'connector', 'relay', 'domain'] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];
export type LimitKeys = Readonly<Record<LimitKind, string>>;

/** the limit `key` for `domain` */
export function limitFor(key: string, domain: string, global: MtaLimits, perDomain: Readonly<Record<string, MtaLimits>>): number {
  return perDomain[domain]?.values[key] ?? global.values[key] ?? MTA_LIMIT_DEFAULTS[key] ?? 0;
}

/** `inet4` or `inet6` if the limits keep the mta to one address family */
export function familyFor(domain: string, global: MtaLimits, perDomain: Readonly<Record<string, MtaLimits>>): 'inet4' | 'inet6' | undefined {
  return perDomain[domain]?.family ?? global.family;
}

export type Verdict = { readonly go: true } | { readonly go: false; readonly why: string; /** ms until a delay runs out; undefined: until a connection closes */ readonly afterMs?: number };

export class ConnLimiter {
  private readonly open = new Map<string, number>();
  private readonly lastStart = new Map<string, number>();
  private waiters: (() => void)[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** may a connection with these keys start now, given `limit(key)`? */
  check(keys: LimitKeys, limit: (key: string) => number): Verdict {
    const t = this.now();
    let afterMs: number | undefined;
    let why = '';
    for (const kind of LIMIT_KINDS) {
      const id = `${kind} ${keys[kind]}`;
      const max = limit(`max-conn-per-${kind}`);
      if ((this.open.get(id) ?? 0) >= max) return { go: false, why: `max-conn-per-${kind} ${max} reached for ${keys[kind]}` };
      const delay = limit(`conn-delay-${kind}`) * 1000;
      const since = t - (this.lastStart.get(id) ?? -Infinity);
      if (delay > 0 && since < delay && (afterMs === undefined || delay - since > afterMs)) {
        afterMs = delay - since;
        why = `conn-delay-${kind} for ${keys[kind]}`;
      }
    }
    return afterMs === undefined ? { go: true } : { go: false, why, afterMs };
  }

  /** a connection with these keys starts (counted until released) */
  acquire(keys: LimitKeys): void {
    const t = this.now();
    for (const kind of LIMIT_KINDS) {
      const id = `${kind} ${keys[kind]}`;
      this.open.set(id, (this.open.get(id) ?? 0) + 1);
      this.lastStart.set(id, t);
    }
  }

  /** the connection closed */
  release(keys: LimitKeys): void {
    for (const kind of LIMIT_KINDS) {
      const id = `${kind} ${keys[kind]}`;
      const n = (this.open.get(id) ?? 0) - 1;
      if (n > 0) this.open.set(id, n);
      else this.open.delete(id);
    }
    this.changed();
  }

  /** something a waiting delivery may use: a slot, or a session kept for reuse */
  changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** resolves at the next change, or after `ms` */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((f) => f !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.waiters.push(done);
    });
  }

  /** connections open now under `kind` `key` */
  count(kind: LimitKind, key: string): number {
    return this.open.get(`${kind} ${key}`) ?? 0;
  }
}
