/**
 * What control may ask of every worker, whatever else their pair speaks: STATS (its counters,
 * for smtpctl show stats and monitor) and LOG_LEVEL (smtpctl log brief / log verbose). The
 * worker runtime answers them itself, from the worker's stats hook and its logger.
 */
import { COMMON_MESSAGES } from './msg-common';
import { bool, int, record, union, type Fields, type Infer } from './schema';

export const CONTROL_REQUESTS = {
  STATS: { reqid: int },
  LOG_LEVEL: { verbose: bool },
} satisfies Record<string, Fields>;

export const CONTROL_REPLIES = {
  /** counters by key (smtpctl show stats' names) */
  STATS_REPLY: { re: int, stats: record(int) },
} satisfies Record<string, Fields>;

export const ControlToWorker = union({ ...COMMON_MESSAGES, ...CONTROL_REQUESTS });
export type ControlToWorker = Infer<typeof ControlToWorker>;

export const WorkerToControl = union({ ...COMMON_MESSAGES, ...CONTROL_REPLIES });
export type WorkerToControl = Infer<typeof WorkerToControl>;
