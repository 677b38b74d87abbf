/**
 * The scheduler's run queue, in memory: when each envelope is next tried.
 *
 * OpenSMTPD's backoff: the next try of an envelope is at ctime + base x retry^2, moved on to
 * the next step while that is already past; base 10 s for local delivery, 400 s for relaying.
 * An envelope older than its ttl (counted from ctime) expires instead of being tried again.
 * Two heaps (next try, expiry) make each operation O(log n), whatever the size of the queue.
 * Holds (smtpctl pause mda/mta, pause envelope): a due envelope that is held is parked instead
 * of handed out, and goes back to the run queue, due at once, when the hold is lifted; a parked
 * envelope still expires.
 * No I/O: the caller drives it with the clock.
 */
import type { ScheduledEnvelope } from '../bus/msg-queue-scheduler';
import { MinHeap } from './heap';

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

/** a heap entry: valid while its generation is the envelope's */
interface Ref {
  readonly evpid: string;
  readonly gen: number;
}

export class RamQueue {
  private readonly entries = new Map<string, Entry & { gen: number }>();
  /** by next try, and by expiry (ctime + ttl); stale refs are skipped when met */
  private readonly byNext = new MinHeap<Ref>();
  private readonly byExpiry = new MinHeap<Ref>();
  private gen = 0;
  /** delivery types on hold (pause mda, pause mta) */
  private readonly pausedTypes = new Set<'mda' | 'mta'>();
  /** envelopes on hold (pause envelope) */
  private readonly suspended = new Set<string>();
  /** due but held: out of the next-try heap until released */
  private readonly parked = new Set<string>();
  /** envelopes handed out and not yet answered */
  private inflightCount = 0;

  private schedule(e: Entry & { gen: number }): void {
    e.gen = ++this.gen;
    this.byNext.push(e.next, { evpid: e.env.evpid, gen: e.gen });
    this.byExpiry.push(e.env.ctime + e.env.ttl, { evpid: e.env.evpid, gen: e.gen });
  }

  /** the live, waiting entry a ref stands for, if it still does */
  private live(ref: Ref): (Entry & { gen: number }) | undefined {
    const e = this.entries.get(ref.evpid);
    return e && e.gen === ref.gen && !e.inflight ? e : undefined;
  }

  /** drop stale refs from the top of a heap */
  private clean(h: MinHeap<Ref>): void {
    while (h.size > 0 && !this.live(h.peek()!)) h.pop();
  }

  /** Add (or replace) an envelope; `immediately`: due now whatever its retry count. */
  add(env: ScheduledEnvelope, now: number, immediately = false): void {
    if (this.entries.get(env.evpid)?.inflight) return;
    const e = { env, next: env.retry === 0 || immediately ? now : nextTry(env, now), inflight: false, gen: 0 };
    this.entries.set(env.evpid, e);
    this.schedule(e);
  }

  private held(e: Entry): boolean {
    return this.pausedTypes.has(e.env.type) || this.suspended.has(e.env.evpid);
  }

  /** envelopes due at `now` (marked in flight), at most `max`; held ones are parked */
  due(now: number, max: number): string[] {
    const out: string[] = [];
    while (out.length < max) {
      this.clean(this.byNext);
      const t = this.byNext.peekTime();
      if (t === undefined || t > now) break;
      const e = this.live(this.byNext.pop()!)!;
      if (this.held(e)) {
        this.parked.add(e.env.evpid);
        continue;
      }
      e.inflight = true;
      this.inflightCount++;
      out.push(e.env.evpid);
    }
    return out;
  }

  /** seconds until the next due envelope or expiry, or undefined when nothing waits */
  nextDue(now: number): number | undefined {
    this.clean(this.byNext);
    this.clean(this.byExpiry);
    const times = [this.byNext.peekTime(), this.byExpiry.peekTime()].filter((t): t is number => t !== undefined);
    return times.length === 0 ? undefined : Math.max(0, Math.min(...times) - now);
  }

  /** The result of a try. After a temporary failure, true when the envelope has now waited
   * past the next of `warnAfter` (ages in seconds, ascending): its sender is to be warned. */
  result(evpid: string, result: 'ok' | 'tempfail' | 'permfail', now: number, warnAfter: readonly number[] = []): boolean {
    const e = this.entries.get(evpid);
    if (!e) return false;
    if (e.inflight) this.inflightCount--;
    if (result !== 'tempfail') {
      this.entries.delete(evpid);
      this.suspended.delete(evpid);
      return false;
    }
    const warned = e.env.warned ?? 0;
    const warn = warned < warnAfter.length && now >= e.env.ctime + warnAfter[warned]!;
    e.env = { ...e.env, retry: e.env.retry + 1, ...(warn ? { warned: warned + 1 } : {}) };
    e.next = nextTry(e.env, now);
    e.inflight = false;
    this.schedule(e);
    return warn;
  }

  /** envelopes whose ttl is over (removed from the run queue) */
  expired(now: number): string[] {
    const out: string[] = [];
    for (;;) {
      this.clean(this.byExpiry);
      const t = this.byExpiry.peekTime();
      if (t === undefined || t > now) break;
      const e = this.live(this.byExpiry.pop()!)!;
      this.entries.delete(e.env.evpid);
      this.parked.delete(e.env.evpid);
      this.suspended.delete(e.env.evpid);
      out.push(e.env.evpid);
    }
    return out;
  }

  /** put parked envelopes that are no longer held back in the run queue, due now */
  private release(now: number): void {
    for (const evpid of this.parked) {
      const e = this.entries.get(evpid);
      if (!e) {
        this.parked.delete(evpid);
        continue;
      }
      if (this.held(e)) continue;
      this.parked.delete(evpid);
      e.next = Math.min(e.next, now);
      this.schedule(e);
    }
  }

  /** pause or resume a delivery type (smtpctl pause mda / resume mta) */
  setPaused(type: 'mda' | 'mta', paused: boolean, now: number): void {
    if (paused) this.pausedTypes.add(type);
    else this.pausedTypes.delete(type);
    this.release(now);
  }

  isPaused(type: 'mda' | 'mta'): boolean {
    return this.pausedTypes.has(type);
  }

  /** pause or resume the envelopes of `id` (an evpid, a msgid or `all`); how many changed */
  setSuspended(id: string, suspended: boolean, now: number): number {
    let n = 0;
    for (const evpid of this.entries.keys()) {
      if (!(id === 'all' || evpid === id || (id.length === 8 && evpid.startsWith(id)))) continue;
      if (this.suspended.has(evpid) === suspended) continue;
      if (suspended) this.suspended.add(evpid);
      else this.suspended.delete(evpid);
      n++;
    }
    this.release(now);
    return n;
  }

  /** envelopes in flight, and envelopes held (parked or suspended) */
  counts(): { inflight: number; held: number } {
    let inflight = 0;
    for (const e of this.entries.values()) if (e.inflight) inflight++;
    return { inflight, held: new Set([...this.parked, ...this.suspended]).size };
  }

  /** envelopes on hold by pause envelope */
  suspendedIds(): string[] {
    return [...this.suspended];
  }

  /** each envelope's next try, -1 when in flight (smtpctl show queue) */
  times(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [evpid, e] of this.entries) out[evpid] = e.inflight ? -1 : e.next;
    return out;
  }

  /** Make the waiting envelopes of `id` (an evpid, a msgid or `all`) due now (smtpctl
   * schedule); how many. */
  scheduleNow(id: string, now: number): number {
    let n = 0;
    for (const [evpid, e] of this.entries) {
      if (e.inflight || !(id === 'all' || evpid === id || (id.length === 8 && evpid.startsWith(id)))) continue;
      e.next = now;
      if (!this.parked.has(evpid)) this.schedule(e);
      n++;
    }
    return n;
  }

  /** forget envelopes (removed by the operator) */
  remove(evpids: readonly string[]): void {
    for (const evpid of evpids) {
      if (this.entries.get(evpid)?.inflight) this.inflightCount--;
      this.entries.delete(evpid);
      this.parked.delete(evpid);
      this.suspended.delete(evpid);
    }
  }

  /** envelopes handed out for delivery and not answered yet */
  get inflight(): number {
    return this.inflightCount;
  }

  get size(): number {
    return this.entries.size;
  }
}
