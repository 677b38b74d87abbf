/**
 * control <-> queue: the operator's view of the queue (smtpctl show queue / envelope / message)
 * and removals (smtpctl remove). The queue answers from its envelopes in memory and its spool.
 * `id` is an evpid (16 hex), a msgid (8 hex) or `all`.
 */
import { COMMON_MESSAGES } from './msg-common';
import { CONTROL_REPLIES, CONTROL_REQUESTS } from './msg-control-common';
import { arr, bool, int, lit, obj, opt, str, union, type Infer } from './schema';

export const QueueEntry = obj({
  evpid: str,
  family: lit('local', 'inet4', 'inet6'),
  type: lit('mda', 'mta', 'bounce'),
  flags: str,
  sender: str,
  rcpt: str,
  dest: str,
  ctime: int,
  expire: int,
  lasttry: int,
  retry: int,
  /** handed to mda or mta, no result yet */
  inflight: bool,
  errorline: str,
});
export type QueueEntry = Infer<typeof QueueEntry>;

/** show queue's family and flags, from the fields of a stored envelope (by the queue, and by
 * smtpctl reading the spool itself) */
export function familyAndFlags(e: { readonly [field: string]: unknown }): Pick<QueueEntry, 'family' | 'flags'> {
  const src = typeof e.src === 'string' ? e.src : '';
  return {
    family: src === 'local' ? 'local' : src.includes(':') ? 'inet6' : 'inet4',
    flags: [e.bounce === true ? 'bounce' : '', typeof e.auth === 'string' ? 'auth' : ''].filter(Boolean).join(','),
  };
}

export const ControlToQueue = union({
  ...COMMON_MESSAGES,
  ...CONTROL_REQUESTS,
  CTL_QUEUE_LIST: { reqid: int, id: opt(str) },
  CTL_QUEUE_SHOW: { reqid: int, what: lit('envelope', 'message'), id: str },
  CTL_QUEUE_REMOVE: { reqid: int, id: str },
  /** load envelopes of this message (or this envelope) found in the spool but not known */
  CTL_QUEUE_DISCOVER: { reqid: int, id: str },
});
export type ControlToQueue = Infer<typeof ControlToQueue>;

export const QueueToControl = union({
  ...COMMON_MESSAGES,
  ...CONTROL_REPLIES,
  CTL_QUEUE_ENTRIES: { re: int, entries: arr(QueueEntry, 1_000_000) },
  /** a file of the spool, as latin1 text */
  CTL_QUEUE_TEXT: { re: int, text: str },
  CTL_QUEUE_COUNT: { re: int, count: int },
  CTL_QUEUE_FAIL: { re: int, message: str },
});
export type QueueToControl = Infer<typeof QueueToControl>;
