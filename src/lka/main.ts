/**
 * lka (lookup agent): tables, the match ruleset, alias/virtual/forward expansion, credentials,
 * DNS. Today it only runs and answers liveness checks; lookups arrive with the mail pipeline.
 * Privileges: runs as the daemon user (_smtpd). Peers: control, smtp, queue, mta, mda.
 * Never writes the spool.
 */
import { runWorker } from '../bus/worker-runtime';

export function main(): void {
  runWorker('lka', () => ({}));
}
