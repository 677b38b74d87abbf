/**
 * mta: outbound SMTP (routes, connections, TLS, AUTH to smarthosts, per-domain limits).
 * Today it only runs and answers liveness checks.
 * Privileges: runs as the daemon user (_smtpd). Peers: control, queue, lka.
 * Never reads the spool directly.
 */
import { runWorker } from '../bus/worker-runtime';

export function main(): void {
  runWorker('mta', () => ({}));
}
