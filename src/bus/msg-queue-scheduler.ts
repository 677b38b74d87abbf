/**
 * queue <-> scheduler: what is in the queue and when to try it.
 *
 * queue -> scheduler: SCHED_ADD (envelopes committed, or found in the spool at start),
 * SCHED_RESULT (how a delivery attempt ended: ok, tempfail, permfail), SCHED_REMOVE (the
 * operator removed these).
 * scheduler -> queue: SCHED_DELIVER (these envelopes are due now), SCHED_EXPIRE (these have
 * outlived their ttl: bounce them and remove them; they are out of the run queue already),
 * SCHED_WARN (send its sender a delay warning).
 */
import { COMMON_MESSAGES } from './msg-common';
import { arr, bool, int, lit, obj, opt, str, union, type Infer } from './schema';

export const ScheduledEnvelope = obj({
  evpid: str,
  /** mda: local delivery; mta: relaying */
  type: lit('mda', 'mta'),
  /** seconds since the epoch */
  ctime: int,
  /** seconds */
  ttl: int,
  retry: int,
  /** delay warnings already sent for it */
  warned: opt(int),
});
export type ScheduledEnvelope = Infer<typeof ScheduledEnvelope>;

export const QueueToScheduler = union({
  ...COMMON_MESSAGES,
  /** `now`: try them at once whatever their retry count (envelopes found at start) */
  SCHED_ADD: { envelopes: arr(ScheduledEnvelope, 100_000), now: opt(bool) },
  SCHED_RESULT: { evpid: str, result: lit('ok', 'tempfail', 'permfail'), error: opt(str) },
  /** removed by the operator (smtpctl remove): out of the run queue */
  SCHED_REMOVE: { evpids: arr(str, 1_000_000) },
  /** try these now, their retry count unchanged (the mta's holdq: their domain works again) */
  SCHED_NOW: { evpids: arr(str, 100_000) },
});
export type QueueToScheduler = Infer<typeof QueueToScheduler>;

export const SchedulerToQueue = union({
  ...COMMON_MESSAGES,
  SCHED_DELIVER: { evpids: arr(str, 10_000) },
  SCHED_EXPIRE: { evpids: arr(str, 10_000) },
  /** it has waited past a `bounce warn-interval`: tell its sender (it stays queued) */
  SCHED_WARN: { evpid: str },
});
export type SchedulerToQueue = Infer<typeof SchedulerToQueue>;
