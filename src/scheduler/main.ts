/**
 * scheduler: the in-memory run queue (ramqueue.ts): hands due envelopes to the queue for
 * delivery, reschedules temporary failures with OpenSMTPD's backoff, and tells the queue which
 * envelopes have expired (it bounces them) and which have waited past a `bounce
 * warn-interval` (it warns their senders).
 * It also answers smtpctl through control: when each envelope is next tried, and `schedule`.
 * Privileges: runs as the daemon user (_smtpd). Peers: control, queue. Does no I/O besides
 * its peers.
 */
import type { ControlToScheduler } from '../bus/msg-control-scheduler';
import type { QueueToScheduler } from '../bus/msg-queue-scheduler';
import { dispatch, type Handlers } from '../bus/schema';
import { runWorker, type PeerChannel } from '../bus/worker-runtime';
import { RamQueue } from './ramqueue';
import { SCHEDULER_LIMIT_DEFAULTS } from '../mail/scheduler-limit-defaults';

/** expired envelopes reported to the queue in one message */
const BATCH = 256;

/** `scheduler limit max-inflight` and `max-evp-batch-size`, the configuration's or OpenSMTPD's defaults */
function limitsOf(config: unknown): { maxInflight: number; batch: number } {
  const limits = (config as { limits?: Readonly<Record<string, number>> }).limits ?? {};
  return {
    maxInflight: limits['max-inflight'] ?? SCHEDULER_LIMIT_DEFAULTS['max-inflight']!,
    batch: Math.max(1, limits['max-evp-batch-size'] ?? SCHEDULER_LIMIT_DEFAULTS['max-evp-batch-size']!),
  };
}

export function main(): void {
  runWorker('scheduler', (worker) => {
    const q = new RamQueue();
    /** cumulative counters for smtpctl show stats and monitor */
    const counters = { ok: 0, tempfail: 0, permfail: 0, incoming: 0, expired: 0, removed: 0 };
    let queue: PeerChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    const now = () => Math.floor(Date.now() / 1000);
    const run = () => {
      timer = undefined;
      if (!queue || queue.isClosed) return;
      const expired = q.expired(now());
      counters.expired += expired.length;
      for (let i = 0; i < expired.length; i += BATCH) queue.send({ type: 'SCHED_EXPIRE', evpids: expired.slice(i, i + BATCH) });
      // at most max-inflight envelopes out for delivery at once, handed out in batches
      const { maxInflight, batch } = limitsOf(worker.config);
      for (;;) {
        const room = Math.min(batch, maxInflight - q.inflight);
        if (room <= 0) break;
        const due = q.due(now(), room);
        if (due.length === 0) break;
        queue.send({ type: 'SCHED_DELIVER', evpids: due });
      }
      arm();
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      const wait = q.nextDue(now());
      if (wait !== undefined) timer = setTimeout(run, Math.min(wait * 1000 + 50, 2 ** 31 - 1));
    };
    const fromQueue: Handlers<QueueToScheduler, void> = {
      SCHED_ADD: (m) => {
        if (m.now !== true) counters.incoming += m.envelopes.length;
        for (const e of m.envelopes) q.add(e, now(), m.now === true);
        run();
      },
      SCHED_RESULT: (m) => {
        counters[m.result]++;
        const warnAfter = (worker.config as { bounceWarnInterval?: number[] }).bounceWarnInterval ?? [];
        if (q.result(m.evpid, m.result, now(), warnAfter) && queue && !queue.isClosed) queue.send({ type: 'SCHED_WARN', evpid: m.evpid });
        // a slot of max-inflight is free: what waits for one goes now
        run();
      },
      SCHED_NOW: (m) => {
        let n = 0;
        for (const evpid of m.evpids) n += q.scheduleNow(evpid, now());
        if (n > 0) worker.log.info({ event: 'holdq-released', count: n });
        run();
      },
      SCHED_REMOVE: (m) => {
        counters.removed += m.evpids.length;
        q.remove(m.evpids);
        run();
      },
      PING: () => undefined,
      PONG: () => undefined,
    };
    const fromControl = (ch: PeerChannel): Handlers<ControlToScheduler, void> => ({
      CTL_SCHED_TIMES: (m) => ch.send({ type: 'CTL_SCHED_TIMES_REPLY', re: m.reqid, times: q.times(), suspended: q.suspendedIds() }),
      CTL_SCHED_NOW: (m) => {
        const count = q.scheduleNow(m.id, now());
        ch.send({ type: 'CTL_SCHED_COUNT', re: m.reqid, count });
        run();
      },
      CTL_SCHED_PAUSE: (m) => {
        if (m.what !== undefined && m.paused !== undefined) {
          q.setPaused(m.what, m.paused, now());
          worker.log.info({ event: m.paused ? 'paused' : 'resumed', what: m.what });
          run();
        }
        ch.send({ type: 'CTL_SCHED_STATE', re: m.reqid, mda: q.isPaused('mda'), mta: q.isPaused('mta') });
      },
      CTL_SCHED_SUSPEND: (m) => {
        const count = q.setSuspended(m.id, m.suspended, now());
        ch.send({ type: 'CTL_SCHED_COUNT', re: m.reqid, count });
        run();
      },
      // answered by the worker runtime
      STATS: () => undefined,
      LOG_LEVEL: () => undefined,
      TRACE: () => undefined,
      PROFILE: () => undefined,
      PING: () => undefined,
      PONG: () => undefined,
    });
    return {
      stats: () => {
        const c = q.counts();
        return {
          'scheduler.delivery.ok': counters.ok,
          'scheduler.delivery.tempfail': counters.tempfail,
          'scheduler.delivery.permfail': counters.permfail,
          'scheduler.envelope': q.size,
          'scheduler.envelope.incoming': counters.incoming,
          'scheduler.envelope.inflight': c.inflight,
          'scheduler.envelope.expired': counters.expired,
          'scheduler.envelope.removed': counters.removed,
          'scheduler.ramqueue.envelope': q.size,
          'scheduler.ramqueue.hold': c.held,
        };
      },
      onPeer: (peer, ch) => {
        if (peer === 'queue') queue = ch;
      },
      onPeerMessage: (peer, msg, ch) => {
        if (peer === 'queue') dispatch(fromQueue, msg as QueueToScheduler);
        else if (peer === 'control') dispatch(fromControl(ch), msg as ControlToScheduler);
      },
    };
  });
}
