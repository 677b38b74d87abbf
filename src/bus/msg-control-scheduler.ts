/**
 * control <-> scheduler: when each envelope is next tried (smtpctl show queue's runstate and
 * delay), and `smtpctl schedule` (make envelopes eligible now). `id` is an evpid, a msgid or
 * `all`.
 */
import { COMMON_MESSAGES } from './msg-common';
import { int, record, str, union, type Infer } from './schema';

export const ControlToScheduler = union({
  ...COMMON_MESSAGES,
  CTL_SCHED_TIMES: { reqid: int },
  CTL_SCHED_NOW: { reqid: int, id: str },
});
export type ControlToScheduler = Infer<typeof ControlToScheduler>;

export const SchedulerToControl = union({
  ...COMMON_MESSAGES,
  /** evpid -> the time of its next try (seconds since the epoch); in flight: -1 */
  CTL_SCHED_TIMES_REPLY: { re: int, times: record(int) },
  CTL_SCHED_COUNT: { re: int, count: int },
});
export type SchedulerToControl = Infer<typeof SchedulerToControl>;
