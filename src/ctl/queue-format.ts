/**
 * smtpctl show queue's line, in OpenSMTPD's format:
 * `evpid|family|type|flags|sender|rcpt|dest|ctime|expire|lasttry|retry|runstate|delay|errorline`
 * (runstate pending with the seconds until the next try, inflight, or offline with an empty
 * delay; the errorline vis-encoded). Also the ids smtpctl accepts. No I/O.
 */
import type { QueueEntry } from '../bus/msg-control-queue';

/** an evpid (16 hex), a msgid (8 hex) or `all` */
export const QUEUE_ID = /^(?:[0-9a-f]{8}|[0-9a-f]{16}|all)$/;
export const EVPID = /^[0-9a-f]{16}$/;

/** vis(3)-like: backslash, controls and non-ASCII as octal escapes, so a line stays a line */
export function vis(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x5c) out += '\\\\';
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

export type RunState = { readonly state: 'pending'; readonly delay: number } | { readonly state: 'inflight'; readonly delay: number } | { readonly state: 'offline' };

export function queueLine(e: QueueEntry, run: RunState): string {
  const delay = run.state === 'offline' ? '' : String(run.delay);
  const fields = [e.evpid, e.family, e.type, e.flags, vis(e.sender), vis(e.rcpt), vis(e.dest), e.ctime, e.expire, e.lasttry, e.retry, run.state, delay, vis(e.errorline)];
  return fields.join('|');
}

/** the run state of an envelope from the scheduler's next try (-1 in flight, absent: not there) */
export function runStateOf(e: QueueEntry, next: number | undefined, now: number): RunState {
  if (e.inflight || next === -1) return { state: 'inflight', delay: Math.max(0, now - (e.lasttry || e.ctime)) };
  return { state: 'pending', delay: Math.max(0, (next ?? now) - now) };
}
