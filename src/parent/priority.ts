/**
 * Reception before delivery: the processes that deliver (the mda and mta workers and the
 * delivery helpers) run at a lower CPU priority than those that receive (smtp, queue, lka).
 * When the CPU is short, a client gets its 250 first and the delivery follows: the message
 * is already on disk, so a delivery that waits loses nothing, while a client that waits may
 * time out and send again. When the CPU is not short, nothing changes.
 *
 * Privileges: the parent sets it on the children it forks (raising a child's nice value
 * needs no privilege). Peers: none.
 */
import * as os from 'node:os';
import type { Logger } from '../log/logger';

/** how much nicer the delivering processes are than the parent (the receiving ones keep its) */
export const DELIVERY_NICE = 5;

/** Lower a delivering child's priority: DELIVERY_NICE above the parent's nice value (19 at
 * most); a failure is logged and the child runs on at the parent's priority. */
export function deliveryPriority(pid: number | undefined, log: Logger): void {
  if (pid === undefined) return;
  try {
    os.setPriority(pid, Math.min(19, os.getPriority(0) + DELIVERY_NICE));
  } catch (e) {
    log.warn({ event: 'priority-failed', child: pid }, `could not lower the delivery priority: ${(e as Error).message}`);
  }
}
