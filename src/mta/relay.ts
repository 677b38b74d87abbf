/**
 * The relay: how the mta delivers one group of envelopes (one message, one action, one
 * domain) in one transaction. The route is the action's smarthost (`relay host URL`, or the
 * `domain` table's URL for the recipient's domain) or the domain's MX hosts, asked of lka,
 * tried in order, each address in turn, until one server answers; one outcome per recipient
 * (delivered, temporary: retried by the scheduler, permanent: bounced). A session that ended
 * cleanly is kept for the next message to the same server (session-pool.ts); new connections
 * wait for what `mta limit` allows (conn-limits.ts); the envelopes deferred for a domain (up to
 * `mta max-deferred`) are returned when a delivery there works again (the holdq,
 * route-book.ts); `srs` rewrites forwarded senders; `smtpctl pause mta from/for` pairs hold.
 * TLS: opportunistic STARTTLS unless the route says otherwise (smtp+tls, smtps, `tls`), with
 * verification where the route asks for it; AUTH only under TLS.
 * Privileges: the mta's (_smtpd); CA files and client certificates are read before the drop
 * (loadCas). Peers: lka (MX lookups), the remote servers. Never reads the spool.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Ca, Config, Pki, RelayAction, Table } from '../parse/config';
import { tableList, tableMap, tableValue } from './relay-tables';
import type { Fetched } from '../bus/content-fetch';
import type { RelayEnvelope } from '../bus/msg-queue-mta';
import type { LkaToMta } from '../bus/msg-mta-lka';
import type { PeerChannel, WorkerContext } from '../bus/worker-runtime';
import { interfaceAddresses, serverName } from '../util/hostname';
import { parseRelayUrl } from './relay-url';
import { cipherList, protocolRange } from '../mail/tls-words';
import { srsEncode } from '../mail/srs';
import { openSession, type Outcome, type Peer, type Session, type Transaction } from './smtp-client';
import { SessionPool } from './session-pool';
import { RouteBook } from './route-book';
import { ConnLimiter, familyFor, limitFor, type LimitKeys } from './conn-limits';

/** The part of the configuration mta receives (see parent/config-parts.ts). */
export interface MtaConfig {
  readonly mta: Config['mta'];
  readonly actions: readonly RelayAction[];
  readonly ca: readonly Ca[];
  /** the pki a relay action names (its client certificate) */
  readonly pki: readonly Pki[];
  /** MX hosts are reached on this port (25; --mx-port for tests) */
  readonly mxPort: number;
  /** the tables the relay actions name (host, domain, auth) */
  readonly tables: readonly Table[];
  /** the ports smtp listens on: an MX on this host at one of them is this daemon (a loop) */
  readonly listenPorts: readonly number[];
  /** how long each reply of a remote server may take (--mta-timeout) */
  readonly timeoutMs: number;
  /** `srs key` (and backup, ttl): senders of forwarded mail are rewritten with it */
  readonly srs?: Config['srs'];
}

/** how long a delivery waits for lka's channel before it is deferred */
const LKA_WAIT_MS = 30_000;
/** how long a delivery waits for a connection `mta limit` allows before it is deferred */
const LIMIT_WAIT_MS = 5 * 60_000;

/** addresses of this host: its interfaces and all of 127/8 */
function isLocal(address: string, own: ReadonlySet<string>): boolean {
  return own.has(address.toLowerCase()) || /^127\./.test(address) || /^::ffff:127\./i.test(address);
}

export interface Job {
  readonly ch: PeerChannel;
  readonly envelope: RelayEnvelope;
  /** asks the queue for the message (once a connection is there for it) */
  readonly message: () => Promise<Fetched>;
}

/** the source of a delivery from an action without `src` (as show routes prints it) */
const ANY_SOURCE = '0.0.0.0';

function blockKey(src: string, domain: string): string {
  return `${src} ${domain}`;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export class Relay {
  private readonly cas = new Map<string, Buffer>();
  /** which `src` address the next delivery uses */
  private srcTurn = 0;
  /** which URL of a `host` list the next delivery starts with */
  private hostTurn = 0;
  private own: ReadonlySet<string> | undefined;

  /** this host's addresses, read once (not at every delivery) */
  private ownAddresses(): ReadonlySet<string> {
    return (this.own ??= new Set(interfaceAddresses()));
  }
  /** what smtpctl shows of hosts, routes and relays; disabled routes */
  readonly book = new RouteBook();
  /** source address and domain pairs paused by smtpctl (pause mta from ADDR for DOMAIN) */
  readonly blocks = new Set<string>();

  /** pause / resume mta from `src` for `domain`; on resume, the domain's deferred mail is
   * returned to be tried now. An error text, or undefined */
  block(src: string, domain: string, blocked: boolean): { error?: string; release: string[] } {
    if (net.isIP(src) === 0) return { error: `not an IP address: ${JSON.stringify(src)} (the source address, ${ANY_SOURCE} for an action without src)`, release: [] };
    const d = domain.toLowerCase().replace(/\.$/, '');
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(d)) return { error: `not a domain: ${JSON.stringify(domain)}`, release: [] };
    const key = blockKey(src, d);
    if (blocked) {
      this.blocks.add(key);
      return { release: [] };
    }
    if (!this.blocks.delete(key)) return { error: `relaying from ${src} for ${d} is not paused (smtpctl show mta paused lists what is)`, release: [] };
    return { release: this.book.release(d) };
  }

  /** `mta limit`: connections open and started, per host, route, source, connector, relay, domain */
  readonly limiter = new ConnLimiter();
  /** sessions kept open between messages to the same server */
  readonly pool: SessionPool;

  constructor(private readonly worker: WorkerContext) {
    const global = (key: string) => limitFor(key, '', this.config.mta.limits, {});
    this.pool = new SessionPool(
      global('session-keepalive') * 1000,
      (peer, delta) => {
        this.book.kept(peer.address, peer.name, delta);
        if (delta === 1) this.limiter.changed();
      },
      Math.max(1, global('session-mail-max')),
    );
  }

  private get config(): MtaConfig {
    return this.worker.config as MtaConfig;
  }

  /** a relay URL as a server to try, or why it cannot be used */
  private smarthostPeer(text: string, action: RelayAction, base: Pick<Peer, 'helo' | 'localAddress' | 'heloSrc' | 'timeoutMs' | 'ca' | 'tlsExtra'>): Peer | string {
    const url = parseRelayUrl(text);
    if (typeof url === 'string') return `451 4.3.0 action "${action.name}": ${url}`;

    let auth: Peer['auth'];
    if (action.auth !== undefined) {
      const cred = url.label !== undefined ? tableValue(this.config.tables, action.auth, url.label) : undefined;
      const colon = cred?.indexOf(':') ?? -1;
      if (cred === undefined || colon < 0) return `451 4.7.8 action "${action.name}": no credentials "user:password" for label "${url.label ?? ''}" in <${action.auth}>`;
      auth = { user: cred.slice(0, colon), password: cred.slice(colon + 1) };
    }
    const tls = url.tls === 'opportunistic' && action.tls !== undefined ? 'starttls' : url.tls;
    const verify = tls === 'smtps' || tls === 'starttls' ? action.tls !== 'no-verify' : false;
    return { ...base, address: url.host, port: url.port, name: url.host, tls, verify, ...(auth ? { auth } : {}), ...(url.proto === 'lmtp' ? { lmtp: true } : {}) };
  }

  /** waiting for lka's channel (at start the queue may hand over mail before it is up) */
  private lkaWaiters: (() => void)[] = [];

  lkaConnected(): void {
    for (const w of this.lkaWaiters.splice(0)) w();
  }

  /** lka's channel, waiting up to LKA_WAIT_MS for it */
  private async lka(): Promise<PeerChannel | undefined> {
    const now = this.worker.peers.get('lka');
    if (now && !now.isClosed) return now;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, LKA_WAIT_MS);
      this.lkaWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    const later = this.worker.peers.get('lka');
    return later && !later.isClosed ? later : undefined;
  }

  /** client certificates and keys of the relay actions' `pki` */
  private readonly pkis = new Map<string, { cert: Buffer; key: Buffer }>();

  /** read the CA files and client certificates of the relay actions (before the privilege drop) */
  loadCas(): void {
    for (const c of this.config.ca ?? []) this.cas.set(c.name, fs.readFileSync(c.cert));
    for (const p of this.config.pki ?? []) this.pkis.set(p.name, { cert: fs.readFileSync(p.cert), key: fs.readFileSync(p.key) });
  }

  /** the TLS options of an action beyond verification: pki, ciphers, protocols */
  private tlsExtra(action: RelayAction): Peer['tlsExtra'] {
    const pki = action.pki !== undefined ? this.pkis.get(action.pki) : undefined;
    const extra = {
      ...(pki ? { cert: pki.cert, key: pki.key } : {}),
      ...(action.ciphers !== undefined ? { ciphers: cipherList(action.ciphers) } : {}),
      ...(action.protocols !== undefined ? protocolRange(action.protocols) : {}),
    };
    return Object.keys(extra).length > 0 ? extra : undefined;
  }

  /** the envelope sender, rewritten with SRS (`srs` on the action, `srs key` set) when an
   * alias or a .forward sent the mail on elsewhere: the recipient it was sent to is another
   * address than where it goes, in a domain other than the sender's */
  private srsSender(action: RelayAction, e: RelayEnvelope): string {
    const key = this.config.srs?.key;
    if (!action.srs || key === undefined || !e.sender.includes('@') || !e.rcpt.includes('@')) return e.sender;
    const forwarder = domainOf(e.rcpt);
    if (e.rcpt.toLowerCase() === e.dest.toLowerCase() || domainOf(e.sender) === forwarder) return e.sender;
    return srsEncode(e.sender, forwarder, key) ?? e.sender;
  }

  /** deliver one group (one message, one action, one domain); one outcome per job, and the
   * envelopes of the domain's holdq to try now (it works again) */
  async deliver(jobs: readonly Job[]): Promise<{ outcomes: Outcome[]; release: string[] }> {
    const domain = domainOf(jobs[0]!.envelope.dest);
    const outcomes = await this.route(jobs);
    const release = jobs.flatMap((j, i) => {
      const o = outcomes[i] ?? { result: 'tempfail', text: '451 4.3.0 no outcome' };
      return this.book.outcome(domain, j.envelope.evpid, o.result, o.text, this.config.mta.maxDeferred);
    });
    return { outcomes, release };
  }

  private async route(jobs: readonly Job[]): Promise<Outcome[]> {
    const first = jobs[0]!.envelope;
    const action = this.config.actions.find((a) => a.name === first.action);
    const all = (o: Outcome) => jobs.map(() => o);
    if (!action) return all({ result: 'tempfail', text: `451 4.3.0 no relay action "${first.action}" in the configuration` });
    const domain = domainOf(first.dest);
    // `host`: a list of relay URLs, each delivery starting at the next one (the others are the
    // fallbacks); `domain`: the URL for the recipient's domain
    const hostList = action.host !== undefined ? tableList(this.config.tables, action.host) : [];
    const turn = hostList.length > 0 ? this.hostTurn++ % hostList.length : 0;
    const urls = action.host !== undefined ? [...hostList.slice(turn), ...hostList.slice(0, turn)] : action.domain !== undefined ? [tableValue(this.config.tables, action.domain, domain)].filter((u): u is string => u !== undefined) : [];
    const smarthost = urls[0];
    if ((action.host !== undefined || action.domain !== undefined) && smarthost === undefined) {
      return all({ result: 'tempfail', text: `451 4.3.0 action "${action.name}": no relay host for ${domain}` });
    }
    const helo = action.helo ?? serverName();
    const timeoutMs = this.config.timeoutMs;
    // `src`: the local addresses to connect from, one after the other; `helo-src`: the EHLO
    // name for each of them
    // `smtpctl pause mta from ADDR for DOMAIN` takes a source out for that domain
    const sources = action.src !== undefined ? tableList(this.config.tables, action.src) : [];
    const open = sources.filter((s) => !this.blocks.has(blockKey(s, domain)));
    if ((sources.length > 0 && open.length === 0) || (sources.length === 0 && this.blocks.has(blockKey(ANY_SOURCE, domain)))) {
      const src = sources.length > 0 ? sources.join(', ') : ANY_SOURCE;
      return all({ result: 'tempfail', text: `451 4.4.5 relaying from ${src} for ${domain} is paused (smtpctl resume mta from ADDR for ${domain})` });
    }
    const localAddress = open.length > 0 ? open[this.srcTurn++ % open.length] : undefined;
    const heloSrc = action.heloSrc !== undefined ? tableMap(this.config.tables, action.heloSrc) : undefined;
    const tlsExtra = this.tlsExtra(action);
    const origin = { helo, ...(localAddress ? { localAddress } : {}), ...(heloSrc ? { heloSrc } : {}), ...(tlsExtra ? { tlsExtra } : {}) };
    const ca = action.ca !== undefined ? this.cas.get(action.ca) : undefined;
    const head = { sender: action.mailFrom ?? this.srsSender(action, first), rcpts: jobs.map((j) => j.envelope.dest), dsn: jobs.map((j) => j.envelope.dsn) };
    // the envelopes of a group are of one message: the first one's is asked for, once
    let asked: Promise<Fetched> | undefined;
    const tx = async (): Promise<Transaction | string> => {
      const got = await (asked ??= jobs[0]!.message());
      return 'content' in got ? { ...head, content: got.content } : got.text;
    };
    let peers: Peer[];
    if (smarthost !== undefined) {
      const made = urls.map((u) => this.smarthostPeer(u, action, { ...origin, timeoutMs, ...(ca ? { ca } : {}) }));
      peers = made.filter((p): p is Peer => typeof p !== 'string');
      if (peers.length === 0) return all({ result: 'tempfail', text: made[0] as string });
    } else {
      const lka = await this.lka();
      if (!lka) return all({ result: 'tempfail', text: '451 4.3.0 lookups are not available (lka)' });
      const r = await lka.request<LkaToMta>({ type: 'LKA_MX', domain }, 30_000).catch(() => undefined);
      if (r?.type !== 'LKA_MX_RESULT') return all({ result: 'tempfail', text: `451 4.4.3 ${domain}: no answer to the MX lookup` });
      if (r.error === 'nullmx') return all({ result: 'permfail', text: `556 5.1.10 ${r.text ?? `${domain} accepts no mail`}` });
      if (r.error === 'nodomain') return all({ result: 'permfail', text: `550 5.1.2 ${r.text ?? `${domain}: no such domain`}` });
      if (r.error !== undefined) return all({ result: 'tempfail', text: `451 4.4.3 ${r.text ?? `${domain}: MX lookup failed`}` });
      // this host among the MX (RFC 5321 §5.1): only better-preferred hosts are tried, and with
      // none, the mail would loop back here
      const own = this.ownAddresses();
      const self = this.config.listenPorts.includes(this.config.mxPort) ? r.hosts.find((h) => h.addresses.some((a) => isLocal(a, own))) : undefined;
      let hosts = self ? r.hosts.filter((h) => h.preference < self.preference) : r.hosts;
      if (hosts.length === 0) return all({ result: 'permfail', text: `554 5.4.6 ${domain}: its MX ${self!.name} is this host: the mail would loop back to itself` });
      // a backup MX hands mail only to the exchangers preferred to itself
      if (action.backup) {
        const me = (action.backup.mx ?? serverName()).toLowerCase().replace(/\.$/, '');
        const mine = hosts.find((h) => h.name.replace(/\.$/, '') === me);
        if (mine) hosts = hosts.filter((h) => h.preference < mine.preference);
        if (hosts.length === 0) return all({ result: 'tempfail', text: `451 4.4.4 ${domain}: no MX is preferred to this backup MX (${me})` });
      }
      const tls = action.tls !== undefined ? 'starttls' : 'opportunistic';
      // `mta limit inet4|inet6`: MX addresses of the other family are not used
      const family = familyFor(domain, this.config.mta.limits, this.config.mta.domainLimits);
      const wanted = (a: string) => family === undefined || (family === 'inet6') === a.includes(':');
      peers = hosts.flatMap((h) => h.addresses.filter(wanted).map((address) => ({ address, port: this.config.mxPort, name: h.name, tls, verify: action.tls === 'verify', ...origin, timeoutMs, ...(ca ? { ca } : {}) })));
    }
    const relay = smarthost !== undefined ? `[relay:${smarthost}]` : `[mx:${domain}]`;
    this.book.task(relay, 1);
    try {
      if (peers.length === 0) return all({ result: 'tempfail', text: `451 4.4.4 ${domain}: no MX address of the family \`mta limit\` allows` });
      return await this.transfer(peers, tx, relay, domain, all);
    } finally {
      this.book.task(relay, -1);
    }
  }

  /** a session kept for `peer`, or a slot for a new connection under `mta limit` (waiting for
   * one, up to LIMIT_WAIT_MS): the kept session, true (connect), or why not */
  private async slot(peer: Peer, keys: LimitKeys, domain: string): Promise<Session | true | string> {
    const limits = this.config.mta;
    const limit = (key: string) => limitFor(key, domain, limits.limits, limits.domainLimits);
    const until = Date.now() + LIMIT_WAIT_MS;
    for (;;) {
      const kept = this.pool.take(peer);
      if (kept) return kept;
      const v = this.limiter.check(keys, limit);
      if (v.go) {
        this.limiter.acquire(keys);
        return true;
      }
      const left = until - Date.now();
      if (left <= 0) return `421 4.4.5 ${peer.name} [${peer.address}]: ${v.why} (mta limit): waited ${LIMIT_WAIT_MS / 1000}s`;
      await this.limiter.wait(Math.min(left, v.afterMs ?? left));
    }
  }

  /** the queue could not give the message: the session goes back to the pool unused and
   * every envelope of the group is a temporary failure with the queue's reason */
  private noMessage(session: Session, text: string, all: (o: Outcome) => Outcome[]): Outcome[] {
    this.pool.give(session);
    return all({ result: 'tempfail', text });
  }

  /** the transaction with the first of `peers` that takes it */
  private async transfer(peers: readonly Peer[], message: () => Promise<Transaction | string>, relay: string, domain: string, all: (o: Outcome) => Outcome[]): Promise<Outcome[]> {
    let last = `421 4.4.1 ${domain}: no server to try`;
    for (const peer of peers) {
      const disabled = this.book.disabled(peer.address, peer.name);
      if (disabled !== undefined) {
        last = `421 4.4.1 ${disabled}`;
        continue;
      }
      const source = peer.localAddress ?? '0.0.0.0';
      const keys: LimitKeys = { host: peer.address, route: `${source} ${peer.address}`, source, connector: `${source} ${relay}`, relay, domain };
      // the sessions kept from earlier messages first; one the server had closed is dropped for
      // the next, and with none left, a new connection
      let got = await this.slot(peer, keys, domain);
      while (typeof got === 'object') {
        const tx = await message();
        if (typeof tx === 'string') return this.noMessage(got, tx, all);
        const r = await got.transaction(tx);
        if (!r.stale) {
          this.pool.give(got);
          return r.outcomes;
        }
        got.close();
        got = await this.slot(peer, keys, domain);
      }
      if (typeof got === 'string') {
        last = got;
        continue;
      }
      this.book.connecting(peer.address, peer.name, relay);
      const session = await openSession(peer);
      if ('failed' in session) {
        this.limiter.release(keys);
        this.book.closed(peer.address, peer.name, relay, false);
        this.worker.log.info({ event: 'mta-connect-failed', host: peer.name, address: peer.address, port: peer.port }, session.failed);
        last = session.failed;
        continue;
      }
      this.book.opened(peer.address, peer.name);
      session.onClose(() => {
        this.limiter.release(keys);
        this.book.closed(peer.address, peer.name, relay, true);
      });
      const tx = await message();
      if (typeof tx === 'string') return this.noMessage(session, tx, all);
      const r = await session.transaction(tx);
      this.pool.give(session);
      return r.outcomes;
    }
    return all({ result: 'tempfail', text: last });
  }
}
