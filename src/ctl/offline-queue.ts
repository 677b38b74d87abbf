/**
 * smtpctl show queue with smtpd stopped: the envelopes read from the spool itself (each
 * `queue/<2 hex>/<msgid>/<evpid>` file), shown with runstate `offline`. Needs read access to
 * the spool (root or the queue user). Unreadable files are skipped.
 * Privileges: the caller's. Peers: none.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { familyAndFlags, type QueueEntry } from '../bus/msg-control-queue';
import { EVPID, queueLine } from './queue-format';

/** OpenSMTPD's default queue ttl, for envelopes that do not carry theirs */
const DEFAULT_TTL = 4 * 24 * 3600;

function entryOf(raw: Record<string, unknown>): QueueEntry | undefined {
  const evpid = raw.evpid;
  if (typeof evpid !== 'string' || !EVPID.test(evpid) || typeof raw.ctime !== 'number') return undefined;
  const s = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : '');
  const n = (k: string) => (typeof raw[k] === 'number' ? (raw[k] as number) : 0);
  return {
    evpid,
    ...familyAndFlags(raw),
    type: raw.relay === true ? 'mta' : 'mda',
    sender: s('sender'),
    rcpt: s('rcpt'),
    dest: s('dest'),
    ctime: raw.ctime,
    expire: raw.ctime + (typeof raw.ttl === 'number' ? raw.ttl : DEFAULT_TTL),
    lasttry: n('lasttry'),
    retry: n('retry'),
    inflight: false,
    errorline: s('errorline'),
  };
}

export function offlineQueueLines(spool: string, id?: string): string[] {
  const q = path.join(spool, 'queue');
  const entries: QueueEntry[] = [];
  for (const bucket of fs.readdirSync(q)) {
    for (const msgid of fs.readdirSync(path.join(q, bucket))) {
      if (id !== undefined && !(id === msgid || id.startsWith(msgid))) continue;
      let files: string[];
      try {
        files = fs.readdirSync(path.join(q, bucket, msgid));
      } catch {
        continue;
      }
      for (const f of files) {
        if (!EVPID.test(f) || (id !== undefined && id.length === 16 && f !== id)) continue;
        try {
          const e = entryOf(JSON.parse(fs.readFileSync(path.join(q, bucket, msgid, f), 'utf8')) as Record<string, unknown>);
          if (e) entries.push(e);
        } catch {
          // unreadable: smtpd moves it to corrupt/ at its next start
        }
      }
    }
  }
  return entries.sort((a, b) => a.ctime - b.ctime || a.evpid.localeCompare(b.evpid)).map((e) => queueLine(e, { state: 'offline' }));
}
