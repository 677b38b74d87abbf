/**
 * smtp <-> lka: the ruleset decision for each recipient, AUTH credentials, allowed senders.
 *
 * smtp -> lka: LKA_RCPT (the session as the rules see it, MAIL FROM and RCPT TO); LKA_AUTH (a
 * user name and password to check against the listener's credentials table, or against the
 * system passwords when it has none); LKA_SENDER (may this authenticated user send as this
 * MAIL FROM, by the listener's `senders` table).
 * lka -> smtp: LKA_RCPT_OK (the envelopes it yields: action and destination address, after
 * alias expansion) or LKA_RCPT_FAIL (the SMTP reply: code, enhanced code, text);
 * LKA_AUTH_RESULT; LKA_SENDER_RESULT.
 */
import { COMMON_MESSAGES } from './msg-common';
import { arr, bool, int, lit, obj, opt, str, union, type Infer } from './schema';

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

/** a password check: right, wrong, or could not be checked now (a table or system failure) */
export const AuthResult = lit('ok', 'fail', 'tempfail');
export type AuthResult = Infer<typeof AuthResult>;

/** a delivery a user's ~/.forward asks for instead of the mailbox: its command (run by
 * /bin/sh as that user) or its file (an mbox), and the user */
export const ForwardVia = obj({ kind: lit('command', 'file'), value: str, user: str });
export type ForwardVia = Infer<typeof ForwardVia>;

export const EnvelopeTarget = obj({ action: str, dest: str, via: opt(ForwardVia) });
export type EnvelopeTarget = Infer<typeof EnvelopeTarget>;

export const SmtpToLka = union({
  ...COMMON_MESSAGES,
  LKA_RCPT: { reqid: int, session: SessionInfo, mailFrom: str, rcpt: str },
  /** table absent: system passwords (checked by the parent) */
  LKA_AUTH: { reqid: int, table: opt(str), user: str, password: str },
  LKA_SENDER: { reqid: int, table: str, user: str, mailFrom: str },
});
export type SmtpToLka = Infer<typeof SmtpToLka>;

export const LkaToSmtp = union({
  ...COMMON_MESSAGES,
  LKA_RCPT_OK: { re: int, targets: arr(EnvelopeTarget, 1000) },
  LKA_RCPT_FAIL: { re: int, code: int, esc: str, text: str },
  LKA_AUTH_RESULT: { re: int, result: AuthResult },
  LKA_SENDER_RESULT: { re: int, result: lit('allowed', 'refused', 'tempfail') },
});
export type LkaToSmtp = Infer<typeof LkaToSmtp>;
