/**
 * Where local enqueue happens: the local socket (smtp listens there, sendmail connects) sits
 * beside the control socket, `/var/run/smtpd.sock` → `/var/run/smtpd-local.sock`; the offline
 * queue (sendmail's files while smtpd is down) is `<spool>/offline/`, and a complete file there
 * is named `<ms>.<pid>.<8 hex>`. Shared by the parent, smtp's configuration and sendmail. No I/O.
 */
import * as path from 'node:path';

export function localSocketPath(controlSocket: string): string {
  return controlSocket.endsWith('.sock') ? `${controlSocket.slice(0, -5)}-local.sock` : `${controlSocket}-local`;
}

export function offlineDir(spool: string): string {
  return path.join(spool, 'offline');
}

/** names of complete offline files (what the parent replays) */
export const OFFLINE_NAME = /^[0-9]+\.[0-9]+\.[0-9a-f]{8}$/;
