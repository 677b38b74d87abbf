/**
 * smtp <-> queue: a message enters the spool.
 *
 * smtp -> queue: QUEUE_MSG_CREATE (`count` new msgids, reserved ahead of need: one round trip for
 * several messages); for each message, the body as raw byte frames on the stream whose id is
 * the msgid (as a number), then QUEUE_MSG_COMMIT with the envelopes, or QUEUE_MSG_ABORT. A
 * reserved msgid holds nothing on disk; those smtp still holds are dropped when it goes away.
 * queue -> smtp: QUEUE_MSG_CREATED (the msgids), QUEUE_MSG_COMMITTED (after the fsync of the
 * message, its envelopes and the directories: only then may smtp answer 250), QUEUE_FAIL (the
 * SMTP reply to give, e.g. 452 4.3.1 when the disk is full); QUEUE_SPACE (unasked, when smtp
 * connects and whenever it changes: the spool is nearly full, so MAIL gets 452 4.3.1).
 */
import { COMMON_MESSAGES } from './msg-common';
import { arr, bool, int, lit, obj, opt, str, union, type Infer } from './schema';
import { ForwardVia } from './msg-smtp-lka';

/** what the sender asked of delivery status notifications (RFC 3461): per recipient NOTIFY and
 * ORCPT, per message RET and ENVID */
export const DsnRequest = obj({
  notify: opt(arr(lit('NEVER', 'SUCCESS', 'FAILURE', 'DELAY'), 4)),
  orcpt: opt(str),
  ret: opt(lit('FULL', 'HDRS')),
  envid: opt(str),
});
export type DsnRequest = Infer<typeof DsnRequest>;

export const EnvelopeIn = obj({
  action: str,
  sender: str,
  rcpt: str,
  dest: str,
  helo: str,
  src: str,
  tls: bool,
  auth: opt(str),
  tag: opt(str),
  /** a ~/.forward's command or file instead of the mailbox */
  via: opt(ForwardVia),
  dsn: opt(DsnRequest),
});
export type EnvelopeIn = Infer<typeof EnvelopeIn>;

/** the most msgids one QUEUE_MSG_CREATE may reserve */
export const MAX_RESERVED = 64;

export const SmtpToQueue = union({
  ...COMMON_MESSAGES,
  QUEUE_MSG_CREATE: { reqid: int, count: int },
  QUEUE_MSG_COMMIT: { reqid: int, msgid: str, envelopes: arr(EnvelopeIn, 100_000) },
  QUEUE_MSG_ABORT: { msgid: str },
});
export type SmtpToQueue = Infer<typeof SmtpToQueue>;

export const QueueToSmtp = union({
  ...COMMON_MESSAGES,
  QUEUE_MSG_CREATED: { re: int, msgids: arr(str, MAX_RESERVED) },
  QUEUE_MSG_COMMITTED: { re: int, msgid: str, evpids: arr(str, 100_000) },
  QUEUE_FAIL: { re: int, code: int, esc: str, text: str },
  QUEUE_SPACE: { low: bool },
});
export type QueueToSmtp = Infer<typeof QueueToSmtp>;
