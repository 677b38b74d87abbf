/**
 * scheduler: the in-memory run queue: when each envelope is tried, backoff, expiry, holds and
 * pauses. Today it only runs and answers liveness checks.
 * Privileges: runs as the daemon user (_smtpd). Peers: control, queue. Does no I/O besides
 * its peers.
 */
import { runWorker } from '../bus/worker-runtime';

export function main(): void {
  runWorker('scheduler', () => ({}));
}
