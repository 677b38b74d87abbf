/**
 * smtp: inbound SMTP sessions (listeners, TLS, AUTH dialogue, Received header, DATA streamed
 * to the queue). Today it only runs and answers liveness checks.
 * Privileges: runs as the daemon user (_smtpd). Peers: control, lka, queue.
 * Never decides policy itself: it asks lka.
 */
import { runWorker } from '../bus/worker-runtime';

export function main(): void {
  runWorker('smtp', () => ({}));
}
