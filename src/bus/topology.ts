/**
 * Which processes exist and which pairs of workers may talk directly.
 *
 * Purpose: the one table the parent uses to build channels and a Channel uses to refuse a peer
 * it must not have. Every worker also talks to the parent over its IPC channel. No I/O.
 */

export const WORKERS = ['control', 'lka', 'queue', 'scheduler', 'smtp', 'mta', 'mda'] as const;
export type WorkerName = (typeof WORKERS)[number];
export type ProcName = 'parent' | WorkerName;

/** The direct channels between workers (unordered pairs). */
export const PAIRS: readonly (readonly [WorkerName, WorkerName])[] = [
  ['control', 'lka'],
  ['control', 'queue'],
  ['control', 'scheduler'],
  ['control', 'smtp'],
  ['control', 'mta'],
  ['control', 'mda'],
  ['smtp', 'lka'],
  ['smtp', 'queue'],
  ['queue', 'scheduler'],
  ['queue', 'lka'],
  ['queue', 'mta'],
  ['queue', 'mda'],
  ['mta', 'lka'],
  ['mda', 'lka'],
];

export class TopologyError extends Error {}

export function isWorker(name: string): name is WorkerName {
  return (WORKERS as readonly string[]).includes(name);
}

export function allowed(a: ProcName, b: ProcName): boolean {
  if (a === b) return false;
  if (a === 'parent' || b === 'parent') return true;
  return PAIRS.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
}

/** The workers `name` has a direct channel with. */
export function peersOf(name: WorkerName): WorkerName[] {
  return PAIRS.filter(([a, b]) => a === name || b === name).map(([a, b]) => (a === name ? b : a));
}

export function assertAllowed(a: ProcName, b: ProcName): void {
  if (!allowed(a, b)) throw new TopologyError(`${a} and ${b} are not allowed to talk (see src/bus/topology.ts)`);
}
