/**
 * smtpctl trace: which subsystem turns on what. `imsg` logs one line per bus message (as
 * `smtpd -T imsg`); the others turn on the debug lines of the workers that do that work
 * (`mproc` and `all`: every worker). Pure: the worker runtime applies it.
 */
import type { TraceSubsystem } from './msg-control-common';
import type { WorkerName } from './topology';

const WORKERS_OF: Readonly<Record<TraceSubsystem, readonly WorkerName[] | 'every'>> = {
  imsg: [],
  io: ['smtp', 'mta'],
  smtp: ['smtp'],
  filters: ['smtp', 'lka'],
  transfer: ['mta'],
  mta: ['mta'],
  bounce: ['queue'],
  scheduler: ['scheduler'],
  expand: ['lka'],
  lookup: ['lka'],
  stat: ['control'],
  rules: ['lka'],
  mproc: 'every',
  all: 'every',
};

/** the traced subsystems after `smtpctl trace|untrace subsystem` (untrace all: none) */
export function retrace(traced: ReadonlySet<string>, subsystem: TraceSubsystem, on: boolean): Set<string> {
  const next = new Set(traced);
  if (on) next.add(subsystem);
  else if (subsystem === 'all') next.clear();
  else next.delete(subsystem);
  return next;
}

/** does one of `traced` ask for the debug lines of `worker`? */
export function debugTraced(worker: WorkerName, traced: ReadonlySet<string>): boolean {
  return [...traced].some((s) => {
    const w = WORKERS_OF[s as TraceSubsystem];
    return w === 'every' || (w !== undefined && w.includes(worker));
  });
}

/** is every bus message to be logged? */
export function imsgTraced(traced: ReadonlySet<string>): boolean {
  return traced.has('imsg') || traced.has('all');
}
