/**
 * control <-> scheduler: when each envelope is next tried (smtpctl show queue's runstate and
 * delay), `smtpctl schedule` (make envelopes eligible now), pause and resume of mda, mta and
 * envelopes, and the state for show status. `id` is an evpid, a msgid or `all`.
 */
import { COMMON_MESSAGES } from './msg-common';
import { CONTROL_REPLIES, CONTROL_REQUESTS } from './msg-control-common';
import { arr, bool, int, lit, opt, record, str, union, type Infer } from './schema';

export const ControlToScheduler = union({
  ...COMMON_MESSAGES,
  ...CONTROL_REQUESTS,
  CTL_SCHED_TIMES: { reqid: int },
  CTL_SCHED_NOW: { reqid: int, id: str },
  /** pause or resume a delivery type; without `paused`: only the state */
  CTL_SCHED_PAUSE: { reqid: int, what: opt(lit('mda', 'mta')), paused: opt(bool) },
  /** pause envelope / resume envelope */
  CTL_SCHED_SUSPEND: { reqid: int, id: str, suspended: bool },
});
export type ControlToScheduler = Infer<typeof ControlToScheduler>;

export const SchedulerToControl = union({
  ...COMMON_MESSAGES,
  ...CONTROL_REPLIES,
  /** evpid -> the time of its next try (seconds since the epoch); in flight: -1 */
  CTL_SCHED_TIMES_REPLY: { re: int, times: record(int), suspended: arr(str, 1_000_000) },
  CTL_SCHED_COUNT: { re: int, count: int },
  CTL_SCHED_STATE: { re: int, mda: bool, mta: bool },
});
export type SchedulerToControl = Infer<typeof SchedulerToControl>;
