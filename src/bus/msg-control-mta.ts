/**
 * control <-> mta: what smtpctl shows of outbound delivery (show hosts, hoststats, relays,
 * routes, mta paused: one line each, in smtpctl's formats), resume route, and pause / resume
 * mta from ADDR for DOMAIN; plus what control asks of
 * every worker (msg-control-common).
 */
import { COMMON_MESSAGES } from './msg-common';
import { CONTROL_REPLIES, CONTROL_REQUESTS } from './msg-control-common';
import { arr, bool, int, lit, str, union, type Infer } from './schema';

export const ControlToMta = union({
  ...COMMON_MESSAGES,
  ...CONTROL_REQUESTS,
  CTL_MTA_SHOW: { reqid: int, what: lit('hosts', 'hoststats', 'relays', 'routes', 'paused') },
  CTL_MTA_RESUME_ROUTE: { reqid: int, id: int },
  CTL_MTA_BLOCK: { reqid: int, src: str, domain: str, blocked: bool },
});
export type ControlToMta = Infer<typeof ControlToMta>;

export const MtaToControl = union({
  ...COMMON_MESSAGES,
  ...CONTROL_REPLIES,
  CTL_MTA_LINES: { re: int, lines: arr(str, 100_000) },
  CTL_MTA_RESUMED: { re: int, ok: bool, text: str },
});
export type MtaToControl = Infer<typeof MtaToControl>;
