/**
 * What control may ask of every worker, whatever else their pair speaks: STATS (its counters,
 * for smtpctl show stats and monitor), LOG_LEVEL (smtpctl log brief / log verbose), TRACE
 * (smtpctl trace / untrace) and PROFILE (smtpctl profile / unprofile). The worker runtime
 * answers them itself, from the worker's stats hook and its logger.
 */
import { COMMON_MESSAGES } from './msg-common';
import { bool, int, lit, record, union, type Fields, type Infer } from './schema';

/** smtpctl trace's subsystems (OpenSMTPD's names; `transfer` is also called `mta`) */
export const TRACE_SUBSYSTEMS = ['imsg', 'io', 'smtp', 'filters', 'transfer', 'mta', 'bounce', 'scheduler', 'expand', 'lookup', 'stat', 'rules', 'mproc', 'all'] as const;
export type TraceSubsystem = (typeof TRACE_SUBSYSTEMS)[number];

export const CONTROL_REQUESTS = {
  STATS: { reqid: int },
  LOG_LEVEL: { verbose: bool },
  TRACE: { subsystem: lit(...TRACE_SUBSYSTEMS), on: bool },
  PROFILE: { what: lit('imsg', 'queue'), on: bool },
} satisfies Record<string, Fields>;

export const CONTROL_REPLIES = {
  /** counters by key (smtpctl show stats' names) */
  STATS_REPLY: { re: int, stats: record(int) },
} satisfies Record<string, Fields>;

export const ControlToWorker = union({ ...COMMON_MESSAGES, ...CONTROL_REQUESTS });
export type ControlToWorker = Infer<typeof ControlToWorker>;

export const WorkerToControl = union({ ...COMMON_MESSAGES, ...CONTROL_REPLIES });
export type WorkerToControl = Infer<typeof WorkerToControl>;
