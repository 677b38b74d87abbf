/**
 * mda: local delivery coordination (maildir, mbox, LMTP, mda commands spawned by the parent as
 * the recipient). Today it only runs and answers liveness checks.
 * Privileges: runs as the daemon user (_smtpd). Peers: control, queue, lka.
 * Never runs anything through a shell with envelope data.
 */
import { runWorker } from '../bus/worker-runtime';

export function main(): void {
  runWorker('mda', () => ({}));
}
