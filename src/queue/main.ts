/**
 * queue: the only owner of the spool (message and envelope files, atomic commit, bounces,
 * recovery at start). Today it only runs and answers liveness checks.
 * Privileges: runs as the queue user (_smtpq). Peers: control, smtp, scheduler, lka, mta, mda.
 * Never talks to the network.
 */
import { runWorker } from '../bus/worker-runtime';

export function main(): void {
  runWorker('queue', () => ({}));
}
