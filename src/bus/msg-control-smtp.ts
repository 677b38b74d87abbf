/**
 * control <-> smtp: smtpctl pause smtp / resume smtp (new sessions get 421 while paused) and
 * the state for show status; plus what control asks of every worker (msg-control-common).
 */
import { COMMON_MESSAGES } from './msg-common';
import { CONTROL_REPLIES, CONTROL_REQUESTS } from './msg-control-common';
import { bool, int, opt, union, type Infer } from './schema';

export const ControlToSmtp = union({
  ...COMMON_MESSAGES,
  ...CONTROL_REQUESTS,
  /** without `paused`: only the state */
  CTL_SMTP_PAUSE: { reqid: int, paused: opt(bool) },
});
export type ControlToSmtp = Infer<typeof ControlToSmtp>;

export const SmtpToControl = union({
  ...COMMON_MESSAGES,
  ...CONTROL_REPLIES,
  CTL_SMTP_STATE: { re: int, paused: bool },
});
export type SmtpToControl = Infer<typeof SmtpToControl>;
