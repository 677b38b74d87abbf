/**
 * What the mta knows of the servers it delivers to, for smtpctl and for its own choices:
 * - hosts: each address connected to (its name, routes using it, connections open now, the
 *   time of the last connection): `show hosts`;
 * - hoststats: per destination domain, the time and result of the last delivery attempt, kept
 *   four hours: `show hoststats`; and the holdq: up to `mta max-deferred` envelopes deferred
 *   for the domain, to be tried at once when a delivery there works again;
 * - routes: source <-> destination address, with connections open now, consecutive errors and
 *   flags N (never connected), D (disabled), Q (waiting to be tried again), K (a session is
 *   kept open): `show routes`. After MAX_ERRORS failed connections in a row a route is disabled
 *   for DISABLE_MS (its mail is deferred, not tried); `resume route ID` enables it again;
 * - relays: each destination (domain by MX, or smarthost) with its counters: `show relays`.
 * Privileges: none (mta). Peers: none. No I/O.
 */

import { humanDuration } from '../util/units';

export const MAX_ERRORS = 10;
export const DISABLE_MS = 5 * 60_000;
const HOSTSTAT_MS = 4 * 3600_000;

interface Host {
  name: string;
  routes: Set<number>;
  nconn: number;
  lastconn: number;
}

interface Route {
  readonly id: number;
  readonly src: string;
  readonly dst: string;
  readonly name: string;
  nconn: number;
  nerror: number;
  connected: boolean;
  disabledUntil: number;
  kept: number;
}

interface Relay {
  readonly text: string;
  ntask: number;
  nconn: number;
  lastconn: number;
}

/** `1h2m3s`-style duration of a number of milliseconds (none below zero) */
export function duration(ms: number): string {
  return humanDuration(Math.max(0, Math.round(ms / 1000)));
}

export class RouteBook {
  private readonly hosts = new Map<string, Host>();
  private readonly routes = new Map<string, Route>();
  private readonly stats = new Map<string, { tm: number; status: string; deferred: Set<string> }>();
  private readonly relays = new Map<string, Relay>();
  private nextId = 1;

  constructor(private readonly now: () => number = Date.now) {}

  private route(dst: string, name: string, src = '0.0.0.0'): Route {
    const key = `${src} ${dst}`;
    let r = this.routes.get(key);
    if (!r) {
      r = { id: this.nextId++, src, dst, name, nconn: 0, nerror: 0, connected: false, disabledUntil: 0, kept: 0 };
      this.routes.set(key, r);
    }
    let h = this.hosts.get(dst);
    if (!h) this.hosts.set(dst, (h = { name, routes: new Set(), nconn: 0, lastconn: 0 }));
    h.routes.add(r.id);
    return r;
  }

  /** the relay (destination) of a delivery: counted while it runs */
  task(relay: string, delta: 1 | -1): void {
    let r = this.relays.get(relay);
    if (!r) this.relays.set(relay, (r = { text: relay, ntask: 0, nconn: 0, lastconn: 0 }));
    r.ntask += delta;
  }

  /** why the route to `dst` may not be used now, or undefined */
  disabled(dst: string, name: string): string | undefined {
    const r = this.route(dst, name);
    if (r.disabledUntil === 0) return undefined;
    if (this.now() >= r.disabledUntil) {
      r.disabledUntil = 0;
      r.nerror = 0;
      return undefined;
    }
    return `route ${r.id} to ${name} [${dst}] is disabled after ${MAX_ERRORS} failed connections (smtpctl resume route ${r.id})`;
  }

  connecting(dst: string, name: string, relay: string): void {
    const r = this.route(dst, name);
    const h = this.hosts.get(dst)!;
    const rel = this.relays.get(relay);
    const t = this.now();
    r.nconn++;
    h.nconn++;
    h.lastconn = t;
    if (rel) {
      rel.nconn++;
      rel.lastconn = t;
    }
  }

  /** the session is up: the route works */
  opened(dst: string, name: string): void {
    const r = this.route(dst, name);
    r.connected = true;
    r.nerror = 0;
  }

  /** the connection ended (`ok`: it had worked) */
  closed(dst: string, name: string, relay: string, ok: boolean): void {
    const r = this.route(dst, name);
    const h = this.hosts.get(dst)!;
    const rel = this.relays.get(relay);
    r.nconn = Math.max(0, r.nconn - 1);
    h.nconn = Math.max(0, h.nconn - 1);
    if (rel) rel.nconn = Math.max(0, rel.nconn - 1);
    if (!ok && ++r.nerror >= MAX_ERRORS) r.disabledUntil = this.now() + DISABLE_MS;
  }

  /** sessions kept open on the route */
  kept(dst: string, name: string, delta: 1 | -1): void {
    const r = this.route(dst, name);
    r.kept = Math.max(0, r.kept + delta);
  }

  /** the outcome of a delivery attempt of `evpid` to `domain`: a deferred envelope is kept in
   * the domain's holdq (up to `maxDeferred`); after a success, the envelopes held are returned,
   * to be tried now */
  outcome(domain: string, evpid: string, result: 'ok' | 'tempfail' | 'permfail', status: string, maxDeferred: number): string[] {
    this.expireStats(false);
    let s = this.stats.get(domain);
    if (!s || this.now() - s.tm * 1000 > HOSTSTAT_MS) this.stats.set(domain, (s = { tm: 0, status: '', deferred: new Set() }));
    s.tm = Math.floor(this.now() / 1000);
    s.status = status;
    if (result === 'tempfail') {
      if (s.deferred.size < maxDeferred) s.deferred.add(evpid);
      return [];
    }
    s.deferred.delete(evpid);
    return result === 'ok' ? this.release(domain) : [];
  }

  /** the envelopes held for `domain`, handed out (to be tried now) */
  release(domain: string): string[] {
    const s = this.stats.get(domain);
    if (!s) return [];
    const held = [...s.deferred];
    s.deferred.clear();
    return held;
  }

  /** when expireStats last went through the hoststats */
  private swept = 0;

  /** hoststats (and their holdqs) older than four hours are forgotten; outcome() runs for every
   * envelope, so unless `now` it looks for them at most once a minute */
  private expireStats(now: boolean): void {
    const t = this.now();
    if (!now && t - this.swept < 60_000) return;
    this.swept = t;
    for (const [d, s] of this.stats) if (t - s.tm * 1000 > HOSTSTAT_MS) this.stats.delete(d);
  }

  resume(id: number): boolean {
    for (const r of this.routes.values()) {
      if (r.id !== id) continue;
      r.disabledUntil = 0;
      r.nerror = 0;
      return true;
    }
    return false;
  }

  showHosts(): string[] {
    const t = this.now();
    return [...this.hosts.entries()].map(([ip, h]) => `${ip} ${h.name} refcount=${h.routes.size} nconn=${h.nconn} lastconn=${h.lastconn ? duration(t - h.lastconn) : '-'}`);
  }

  showHoststats(): string[] {
    this.expireStats(true);
    return [...this.stats.entries()].map(([d, s]) => `${d}|${s.tm}|${s.status}`);
  }

  showRoutes(): string[] {
    const t = this.now();
    return [...this.routes.values()].map((r) => {
      const disabled = r.disabledUntil > t;
      const flags = `${r.connected ? '-' : 'N'}${disabled ? 'D' : '-'}${disabled ? 'Q' : '-'}${r.kept > 0 ? 'K' : '-'}`;
      return `${r.id}. ${r.src} <-> ${r.dst} (${r.name}) ${flags} nconn=${r.nconn} nerror=${r.nerror} penalty=0 timeout=${disabled ? duration(r.disabledUntil - t) : '-'}`;
    });
  }

  showRelays(): string[] {
    const t = this.now();
    return [...this.relays.values()].map((r) => `${r.text} refcount=${r.ntask} ntask=${r.ntask} nconn=${r.nconn} lastconn=${r.lastconn ? duration(t - r.lastconn) : '-'}`);
  }
}
