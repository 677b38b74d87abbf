/**
 * smtp <-> lka: the ruleset decision for each recipient.
 *
 * smtp -> lka: LKA_RCPT (the session as the rules see it, MAIL FROM and RCPT TO).
 * lka -> smtp: LKA_RCPT_OK (the envelopes it yields: action and destination address, after
 * alias expansion) or LKA_RCPT_FAIL (the SMTP reply: code, enhanced code, text).
 */
import { COMMON_MESSAGES } from './msg-common';
import { arr, bool, int, obj, opt, str, union, type Infer } from './schema';

export const SessionInfo = obj({
  /** client address, or `local` for the local socket */
  src: str,
  /** the listener is the local socket (sendmail) */
  socket: bool,
  helo: str,
  tls: bool,
  /** authenticated user name */
  auth: opt(str),
  /** listener tag */
  tag: opt(str),
  /** reverse DNS name of the client, when known */
  rdns: opt(str),
});
export type SessionInfo = Infer<typeof SessionInfo>;

export const EnvelopeTarget = obj({ action: str, dest: str });
export type EnvelopeTarget = Infer<typeof EnvelopeTarget>;

export const SmtpToLka = union({
  ...COMMON_MESSAGES,
  LKA_RCPT: { reqid: int, session: SessionInfo, mailFrom: str, rcpt: str },
});
export type SmtpToLka = Infer<typeof SmtpToLka>;

export const LkaToSmtp = union({
  ...COMMON_MESSAGES,
  LKA_RCPT_OK: { re: int, targets: arr(EnvelopeTarget, 1000) },
  LKA_RCPT_FAIL: { re: int, code: int, esc: str, text: str },
});
export type LkaToSmtp = Infer<typeof LkaToSmtp>;
