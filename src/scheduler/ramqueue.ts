/**
 * The scheduler's run queue, in memory: when each envelope is next tried.
 *
 * OpenSMTPD's backoff: the next try of an envelope is at ctime + base x retry^2, moved on to
 * the next step while that is already past; base 10 s for local delivery, 400 s for relaying.
 * An envelope older than its ttl (counted from ctime) expires instead of being tried again.
 * No I/O: the caller drives it with the clock.
 */
import type { ScheduledEnvelope } from '../bus/msg-queue-scheduler';

export const BASE_DELAY = { mda: 10, mta: 400 } as const;

interface Entry {
  env: ScheduledEnvelope;
  next: number;
  inflight: boolean;
}

export function nextTry(env: ScheduledEnvelope, now: number): number {
  let step = env.retry;
  let t = env.ctime + BASE_DELAY[env.type] * step * step;
  while (step > 0 && t <= now) {
    step++;
    t = env.ctime + BASE_DELAY[env.type] * step * step;
  }
  return t;
}

export class RamQueue {
  private readonly entries = new Map<string, Entry>();

  /** Add (or replace) an envelope; `immediately`: due now whatever its retry count. */
  add(env: ScheduledEnvelope, now: number, immediately = false): void {
    if (this.entries.get(env.evpid)?.inflight) return;
    this.entries.set(env.evpid, { env, next: env.retry === 0 || immediately ? now : nextTry(env, now), inflight: false });
  }

  /** envelopes due at `now` (marked in flight), at most `max` */
  due(now: number, max: number): string[] {
    const out: string[] = [];
    for (const e of this.entries.values()) {
      if (out.length >= max) break;
      if (!e.inflight && e.next <= now) {
        e.inflight = true;
        out.push(e.env.evpid);
      }
    }
    return out;
  }

  /** seconds until the next due envelope or expiry, or undefined when nothing waits */
  nextDue(now: number): number | undefined {
    let min: number | undefined;
    for (const e of this.entries.values()) {
      if (e.inflight) continue;
      const t = Math.min(e.next, e.env.ctime + e.env.ttl);
      if (min === undefined || t < min) min = t;
    }
    return min === undefined ? undefined : Math.max(0, min - now);
  }

  result(evpid: string, result: 'ok' | 'tempfail' | 'permfail', now: number): void {
    const e = this.entries.get(evpid);
    if (!e) return;
    if (result !== 'tempfail') {
      this.entries.delete(evpid);
      return;
    }
    e.env = { ...e.env, retry: e.env.retry + 1 };
    e.next = nextTry(e.env, now);
    e.inflight = false;
  }

  /** envelopes whose ttl is over (removed from the run queue) */
  expired(now: number): string[] {
    const out: string[] = [];
    for (const [id, e] of this.entries) {
      if (!e.inflight && e.env.ctime + e.env.ttl <= now) {
        out.push(id);
        this.entries.delete(id);
      }
    }
    return out;
  }

  get size(): number {
    return this.entries.size;
  }
}
