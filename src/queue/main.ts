/**
 * queue: the only owner of the spool. Receives messages from smtp (body as raw byte frames),
 * commits them durably (see spool.ts) and only then answers, so smtp can say 250.
 * Privileges: runs as the queue user (_smtpq). Peers: control, smtp, scheduler, lka, mta, mda.
 * Answers smtpctl (show queue, envelope, message; remove) through control.
 * Never talks to the network.
 */
import type { Config } from '../parse/config';
import { familyAndFlags, type ControlToQueue, type QueueEntry, type QueueToControl } from '../bus/msg-control-queue';
import type { DeliveryEnvelope, MdaToQueue } from '../bus/msg-queue-mda';
import type { ScheduledEnvelope, SchedulerToQueue } from '../bus/msg-queue-scheduler';
import { MAX_RESERVED, type QueueToSmtp, type SmtpToQueue } from '../bus/msg-smtp-queue';
import { dispatch, type Handlers } from '../bus/schema';
import { perChannel, runWorker, type PeerChannel, type WorkerContext } from '../bus/worker-runtime';
import type { MtaToQueue, RelayEnvelope } from '../bus/msg-queue-mta';
import { Agent } from './agent';
import { Bouncer } from './bouncer';
import { Spool, SpoolFullError, type StoredEnvelope } from './spool';

/** The part of the configuration the queue receives (see parent/config-parts.ts). */
export interface QueueConfig {
  readonly queue: Config['queue'];
  readonly actions: readonly { name: string; kind: 'local' | 'relay'; ttl?: number }[];
}

const STREAM_CHUNK = 256 * 1024;

/** Envelopes in the queue, their delivery through mda (local) or mta (relay), and what the
 * scheduler is told. */
class Deliveries {
  readonly envelopes = new Map<string, StoredEnvelope>();
  scheduler?: PeerChannel;
  private stream = 0;
  private readonly agents = { mda: new Agent((evpid) => this.deliver(evpid)), mta: new Agent((evpid) => this.deliver(evpid)) };

  set mda(ch: PeerChannel) {
    this.agents.mda.connect(ch);
  }

  set mta(ch: PeerChannel) {
    this.agents.mta.connect(ch);
  }

  /** handed to mda or mta, no result yet */
  private inflight(evpid: string): boolean {
    return this.agents.mda.inflight.has(evpid) || this.agents.mta.inflight.has(evpid);
  }

  private lkaChannel?: PeerChannel;
  readonly bouncer: Bouncer;

  set lka(ch: PeerChannel) {
    this.lkaChannel = ch;
    this.bouncer.lkaReady();
  }

  constructor(private readonly worker: WorkerContext, private readonly spool: Spool) {
    this.bouncer = new Bouncer({ worker, spool, lka: () => this.lkaChannel, add: (list) => this.add(list), remove: (e) => this.remove(e) });
  }

  private config(): QueueConfig {
    return this.worker.config as QueueConfig;
  }

  scheduled(e: StoredEnvelope): ScheduledEnvelope {
    const action = this.config().actions.find((a) => a.name === e.action);
    return {
      evpid: e.evpid,
      type: action?.kind === 'relay' ? 'mta' : 'mda',
      ctime: e.ctime,
      ttl: action?.ttl ?? this.config().queue.ttl,
      retry: e.retry,
      ...(typeof e.warned === 'number' ? { warned: e.warned } : {}),
    };
  }

  add(list: readonly StoredEnvelope[], now = false): void {
    for (const e of list) this.envelopes.set(e.evpid, e);
    if (this.scheduler && !this.scheduler.isClosed && list.length > 0) {
      this.scheduler.send({ type: 'SCHED_ADD', envelopes: list.map((e) => this.scheduled(e)), ...(now ? { now } : {}) });
    }
  }

  private report(evpid: string, result: 'ok' | 'tempfail' | 'permfail', error?: string): void {
    if (this.scheduler && !this.scheduler.isClosed) {
      this.scheduler.send({ type: 'SCHED_RESULT', evpid, result, ...(error !== undefined ? { error } : {}) });
    }
  }

  deliver(evpid: string): void {
    const e = this.envelopes.get(evpid);
    if (!e) return this.report(evpid, 'permfail', 'no such envelope');
    const type = this.scheduled(e).type;
    const agent = this.agents[type];
    const ch = agent.take(evpid);
    if (!ch) return;
    // the agent asks for the message when it can start the delivery (MDA_FETCH, MTA_FETCH)
    if (type === 'mda') {
      const via = e.via as DeliveryEnvelope['via'];
      ch.send({ type: 'MDA_DELIVER', envelope: { evpid, action: String(e.action), dest: String(e.dest), rcpt: String(e.rcpt), sender: String(e.sender), ...(via ? { via } : {}) } });
    } else {
      const dsn = e.dsn as RelayEnvelope['dsn'];
      ch.send({ type: 'MTA_DELIVER', envelope: { evpid, msgid: e.msgid, action: String(e.action), dest: String(e.dest), rcpt: String(e.rcpt), sender: String(e.sender), ...(dsn ? { dsn } : {}) } });
    }
  }

  /** MDA_FETCH, MTA_FETCH: the message of an envelope handed to that agent, now that it can
   * start the delivery: the bytes and MDA_CONTENT / MTA_CONTENT, or why not */
  fetch(ch: PeerChannel, agent: 'mda' | 'mta', evpid: string): void {
    const fail = (text: string): void => {
      if (agent === 'mda') ch.send({ type: 'MDA_NO_CONTENT', evpid, text });
      else ch.send({ type: 'MTA_NO_CONTENT', evpid, text });
    };
    const e = this.envelopes.get(evpid);
    if (!e || !this.agents[agent].inflight.has(evpid)) return fail(`451 4.3.0 this envelope is not out for ${agent === 'mda' ? 'local delivery' : 'relaying'}`);
    this.spool.readMessage(e.msgid).then(
      (content) => {
        if (ch.isClosed) return;
        const stream = (this.stream = (this.stream + 1) >>> 0);
        for (let off = 0; off < content.length; off += STREAM_CHUNK) ch.sendBytes(stream, content.subarray(off, off + STREAM_CHUNK));
        if (agent === 'mda') ch.send({ type: 'MDA_CONTENT', evpid, stream });
        else ch.send({ type: 'MTA_CONTENT', evpid, stream });
      },
      (err: Error) => {
        if (!ch.isClosed) fail(`451 4.3.0 cannot read the message: ${err.message}`);
      },
    );
  }

  /** the envelopes `id` names (an evpid, a msgid or `all`) */
  private matching(id: string | undefined): StoredEnvelope[] {
    return [...this.envelopes.values()].filter((e) => id === undefined || id === 'all' || e.evpid === id || e.msgid === id);
  }

  /** smtpctl show queue */
  entries(id: string | undefined): QueueEntry[] {
    return this.matching(id).map((e) => {
      const s = this.scheduled(e);
      return {
        evpid: e.evpid,
        ...familyAndFlags(e),
        type: s.type,
        sender: String(e.sender ?? ''),
        rcpt: String(e.rcpt ?? ''),
        dest: String(e.dest ?? ''),
        ctime: e.ctime,
        expire: e.ctime + s.ttl,
        lasttry: typeof e.lasttry === 'number' ? e.lasttry : 0,
        retry: e.retry,
        inflight: this.inflight(e.evpid),
        errorline: typeof e.errorline === 'string' ? e.errorline : '',
      };
    });
  }

  /** smtpctl remove: the envelopes of `id` that are not being delivered right now */
  removeById(id: string): number {
    const gone = this.matching(id).filter((e) => !this.inflight(e.evpid));
    for (const e of gone) {
      this.remove(e);
      this.worker.log.info({ event: 'envelope-removed', evpid: e.evpid }, 'removed by smtpctl');
    }
    if (gone.length > 0 && this.scheduler && !this.scheduler.isClosed) this.scheduler.send({ type: 'SCHED_REMOVE', evpids: gone.map((e) => e.evpid) });
    return gone.length;
  }

  /** the envelope is done with: out of memory and off the disk */
  remove(e: StoredEnvelope): void {
    this.envelopes.delete(e.evpid);
    this.spool.removeEnvelope(e.msgid, e.evpid).catch((err: unknown) => this.worker.log.error({ event: 'envelope-remove-failed', evpid: e.evpid }, String(err)));
  }

  /** rewrite an envelope with these fields, here at once and on disk in the background; a
   * failed write is logged (the file keeps the fields it had: after a restart the envelope
   * has, say, one retry less) */
  private update(e: StoredEnvelope, fields: Record<string, unknown>): StoredEnvelope {
    const updated = { ...e, ...fields };
    this.envelopes.set(e.evpid, updated);
    this.spool.updateEnvelope(updated).catch((err: unknown) => this.worker.log.error({ event: 'envelope-update-failed', evpid: e.evpid }, String(err)));
    return updated;
  }

  /** the envelope has waited long: warn its sender (and remember it, for a restart) */
  warn(evpid: string): void {
    const e = this.envelopes.get(evpid);
    if (!e) return;
    const updated = this.update(e, { warned: (typeof e.warned === 'number' ? e.warned : 0) + 1 });
    const last = typeof e.errorline === 'string' ? e.errorline : 'temporary failure';
    this.bouncer.warn(updated, last, e.ctime + this.scheduled(e).ttl);
  }

  /** the scheduler gave up on these: bounce them with their last error */
  expire(evpids: readonly string[]): void {
    for (const evpid of evpids) {
      const e = this.envelopes.get(evpid);
      if (!e) continue;
      const last = typeof e.errorline === 'string' ? e.errorline : 'no delivery attempt succeeded';
      this.worker.log.warn({ event: 'envelope-expired', evpid, retry: e.retry });
      this.bouncer.bounce(e, last, true);
    }
  }

  /** `dsnPassed`: the next hop took the sender's DSN request, so no success notice from here */
  finish(evpid: string, result: 'ok' | 'tempfail' | 'permfail', text: string, dsnPassed = false): void {
    this.agents.mda.done(evpid);
    this.agents.mta.done(evpid);
    const e = this.envelopes.get(evpid);
    if (e && result === 'tempfail') this.update(e, { retry: e.retry + 1, lasttry: Math.floor(Date.now() / 1000), errorline: text });
    else if (e && result === 'permfail') this.bouncer.bounce(e, text, false);
    else if (e && (dsnPassed || !this.bouncer.delivered(e, text, this.scheduled(e).type === 'mta'))) this.remove(e);
    this.report(evpid, result, text);
  }
}

function failure(re: number, e: unknown): QueueToSmtp {
  const code = (e as NodeJS.ErrnoException).code;
  if (e instanceof SpoolFullError || code === 'ENOSPC' || code === 'EDQUOT') {
    return { type: 'QUEUE_FAIL', re, code: 452, esc: '4.3.1', text: 'Insufficient system storage' };
  }
  return { type: 'QUEUE_FAIL', re, code: 451, esc: '4.3.0', text: 'Temporary failure in the queue' };
}

/** smtpctl's requests, through control */
function controlHandlers(ch: PeerChannel, deliveries: Deliveries, spool: Spool): Handlers<ControlToQueue, void> {
  const reply = (m: QueueToControl) => {
    if (!ch.isClosed) ch.send(m);
  };
  return {
    CTL_QUEUE_LIST: (m) => reply({ type: 'CTL_QUEUE_ENTRIES', re: m.reqid, entries: deliveries.entries(m.id) }),
    CTL_QUEUE_SHOW: (m) => {
      const e = deliveries.envelopes.get(m.id) ?? [...deliveries.envelopes.values()].find((x) => x.msgid === m.id);
      if (!e || (m.what === 'envelope' && e.evpid !== m.id)) return reply({ type: 'CTL_QUEUE_FAIL', re: m.reqid, message: `no ${m.what === 'envelope' ? 'envelope' : 'message'} ${m.id} in the queue` });
      const text = m.what === 'envelope' ? spool.readEnvelopeFile(e.msgid, e.evpid) : spool.readMessage(e.msgid).then((b) => b.toString('latin1'));
      text.then(
        (t) => reply({ type: 'CTL_QUEUE_TEXT', re: m.reqid, text: t }),
        (err: Error) => reply({ type: 'CTL_QUEUE_FAIL', re: m.reqid, message: err.message }),
      );
    },
    CTL_QUEUE_REMOVE: (m) => reply({ type: 'CTL_QUEUE_COUNT', re: m.reqid, count: deliveries.removeById(m.id) }),
    CTL_QUEUE_DISCOVER: (m) => {
      let found: StoredEnvelope[];
      try {
        found = spool.readEnvelopes(m.id.slice(0, 8)).filter((e) => !deliveries.envelopes.has(e.evpid) && (m.id.length === 8 || e.evpid === m.id));
      } catch (e) {
        return reply({ type: 'CTL_QUEUE_FAIL', re: m.reqid, message: `cannot read ${m.id}: ${(e as Error).message}` });
      }
      deliveries.add(found, true);
      reply({ type: 'CTL_QUEUE_COUNT', re: m.reqid, count: found.length });
    },
    // answered by the worker runtime
    STATS: () => undefined,
    LOG_LEVEL: () => undefined,
    TRACE: () => undefined,
    PROFILE: () => undefined,
    PING: () => undefined,
    PONG: () => undefined,
  };
}

/** how often the spool's free space is looked at (it is also checked at each new message) */
const SPACE_CHECK_MS = 1000;

export function main(): void {
  runWorker('queue', (worker) => {
    const spool = new Spool(worker.settings.spool);
    const deliveries = new Deliveries(worker, spool);
    /** messages whose body could not be written: their commit fails */
    const failed = new Map<string, unknown>();
    /** smtpctl profile queue: each commit's time is logged */
    let profile = false;
    const fromSmtp = perChannel((ch: PeerChannel): Handlers<SmtpToQueue, void> => ({
      QUEUE_MSG_CREATE: (m) => {
        try {
          const count = Math.max(1, Math.min(m.count, MAX_RESERVED));
          ch.send({ type: 'QUEUE_MSG_CREATED', re: m.reqid, msgids: Array.from({ length: count }, () => spool.create()) });
        } catch (e) {
          worker.log.error({ event: 'queue-create-failed' }, String(e));
          ch.send(failure(m.reqid, e));
        }
      },
      QUEUE_MSG_COMMIT: (m) => {
        const writeError = failed.get(m.msgid);
        if (writeError !== undefined) {
          failed.delete(m.msgid);
          spool.abort(m.msgid);
          ch.send(failure(m.reqid, writeError));
          return;
        }
        // each envelope keeps its ttl and kind: smtpctl shows them with smtpd stopped
        const envelopes = m.envelopes.map((e) => {
          const action = (worker.config as QueueConfig).actions.find((a) => a.name === e.action);
          return { ...e, ttl: action?.ttl ?? (worker.config as QueueConfig).queue.ttl, relay: action?.kind === 'relay' };
        });
        const t0 = performance.now();
        spool.commit(m.msgid, envelopes).then(
          (stored) => {
            worker.log.info({ event: 'message-committed', msgid: m.msgid, envelopes: stored.length });
            if (profile) worker.log.info({ event: 'profile-queue', msgid: m.msgid, what: 'commit', ms: Number((performance.now() - t0).toFixed(3)) });
            if (!ch.isClosed) ch.send({ type: 'QUEUE_MSG_COMMITTED', re: m.reqid, msgid: m.msgid, evpids: stored.map((e) => e.evpid) });
            deliveries.add(stored);
          },
          (e: unknown) => {
            worker.log.error({ event: 'queue-commit-failed', msgid: m.msgid }, String(e));
            if (!ch.isClosed) ch.send(failure(m.reqid, e));
          },
        );
      },
      QUEUE_MSG_ABORT: (m) => {
        failed.delete(m.msgid);
        spool.abort(m.msgid);
      },
      PING: () => undefined,
      PONG: () => undefined,
    }));
    /** the spool's space, as smtp last heard it (it refuses MAIL while low) */
    let spaceLow = false;
    let smtp: PeerChannel | undefined;
    const checkSpace = () => {
      let low: boolean;
      try {
        low = spool.spaceLow();
      } catch (e) {
        worker.log.error({ event: 'spool-statfs-failed' }, String(e));
        return;
      }
      if (low !== spaceLow) worker.log.warn({ event: low ? 'spool-space-low' : 'spool-space-ok' });
      if (low !== spaceLow && smtp && !smtp.isClosed) smtp.send({ type: 'QUEUE_SPACE', low });
      spaceLow = low;
    };
    setInterval(checkSpace, SPACE_CHECK_MS).unref();
    return {
      stats: () => ({ 'queue.evpcache.size': deliveries.envelopes.size, 'queue.bounce': deliveries.bouncer.made }),
      // envelope updates and removals run on the thread pool: a clean stop lets them finish
      onShutdown: () => spool.settled(),
      beforeDrop: () => undefined,
      onProfile: (_what, on) => {
        profile = on;
      },
      onPeer: (peer, ch) => {
        if (peer === 'smtp') {
          smtp = ch;
          ch.send({ type: 'QUEUE_SPACE', low: spaceLow });
          ch.onClose(() => {
            for (const msgid of spool.receiving()) spool.abort(msgid);
          });
        } else if (peer === 'scheduler') {
          deliveries.scheduler = ch;
          // a (re)started scheduler learns everything; what was waiting is tried at once
          deliveries.add([...deliveries.envelopes.values()], true);
        } else if (peer === 'mda') deliveries.mda = ch;
        else if (peer === 'mta') deliveries.mta = ch;
        else if (peer === 'lka') deliveries.lka = ch;
      },
      onPeerMessage: (peer, msg, ch) => {
        if (peer === 'smtp') dispatch(fromSmtp(ch), msg as SmtpToQueue);
        else if (peer === 'scheduler') {
          const m = msg as SchedulerToQueue;
          if (m.type === 'SCHED_DELIVER') for (const id of m.evpids) deliveries.deliver(id);
          else if (m.type === 'SCHED_EXPIRE') deliveries.expire(m.evpids);
          else if (m.type === 'SCHED_WARN') deliveries.warn(m.evpid);
        } else if (peer === 'control') {
          dispatch(controlHandlers(ch, deliveries, spool), msg as ControlToQueue);
        } else if (peer === 'mda') {
          const m = msg as MdaToQueue;
          if (m.type === 'MDA_RESULT') deliveries.finish(m.evpid, m.result, m.text);
          else if (m.type === 'MDA_FETCH') deliveries.fetch(ch, 'mda', m.evpid);
        } else if (peer === 'mta') {
          const m = msg as MtaToQueue;
          if (m.type === 'MTA_RESULT') deliveries.finish(m.evpid, m.result, m.text, m.dsnPassed === true);
          else if (m.type === 'MTA_FETCH') deliveries.fetch(ch, 'mta', m.evpid);
          else if (m.type === 'MTA_SCHEDULE' && deliveries.scheduler && !deliveries.scheduler.isClosed) deliveries.scheduler.send({ type: 'SCHED_NOW', evpids: m.evpids });
        }
      },
      onPeerBytes: (peer, id, bytes) => {
        const msgid = id.toString(16).padStart(8, '0');
        if (peer !== 'smtp' || !spool.isOpen(msgid)) return;
        try {
          spool.append(msgid, bytes);
        } catch (e) {
          if (!failed.has(msgid)) worker.log.error({ event: 'queue-write-failed', msgid }, String(e));
          failed.set(msgid, e);
        }
      },
      onStart: () => {
        const { purged, failed: stuck } = spool.open();
        if (purged > 0) worker.log.info({ event: 'incoming-purged', count: purged });
        for (const f of stuck) worker.log.error({ event: 'incoming-purge-failed', entry: f.name }, f.error);
        const { envelopes, corrupt } = spool.load();
        for (const c of corrupt) worker.log.error({ event: 'envelope-corrupt' }, `moved to corrupt/: ${c}`);
        for (const e of envelopes) deliveries.envelopes.set(e.evpid, e);
        if (envelopes.length > 0) worker.log.info({ event: 'queue-loaded', envelopes: envelopes.length });
      },
    };
  });
}
