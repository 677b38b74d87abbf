/**
 * The control socket protocol, between smtpctl (or any client) and the control worker.
 *
 * The client starts with HELLO carrying its BUS_VERSION; the control worker answers HELLO with
 * its own and a nonce, and closes the connection if they differ. The client then proves its
 * rights with PROVE: an HMAC of the nonce under the key only root can read (`root`: every
 * command) or the key the socket's group can read (`group`: the read-only commands); see
 * util/control-keys.ts. Then requests (with a reqid) and replies (with `re`). A malformed frame
 * from a client closes that client only.
 */
import { COMMON_MESSAGES } from './msg-common';
import { TRACE_SUBSYSTEMS } from './msg-control-common';
import { arr, bool, int, lit, opt, record, str, union, type Infer } from './schema';

export const FromClient = union({
  ...COMMON_MESSAGES,
  HELLO: { version: int },
  PROVE: { role: lit('root', 'group'), mac: str },
  STATUS: { reqid: int },
  SHOW_QUEUE: { reqid: int, id: opt(str) },
  SHOW_FILE: { reqid: int, what: lit('envelope', 'message'), id: str },
  SCHEDULE: { reqid: int, id: str },
  REMOVE: { reqid: int, id: str },
  /** pause / resume: mda, mta, smtp, or the envelopes of `id` */
  PAUSE: { reqid: int, what: lit('mda', 'mta', 'smtp', 'envelope'), id: opt(str), paused: bool },
  SHOW_STATUS: { reqid: int },
  SHOW_STATS: { reqid: int },
  /** log brief / log verbose */
  LOG: { reqid: int, verbose: bool },
  /** read a file table again */
  UPDATE_TABLE: { reqid: int, name: str },
  /** load envelopes dropped into the spool by hand */
  DISCOVER: { reqid: int, id: str },
  /** show hosts, hoststats, relays, routes (the mta's view) */
  SHOW_MTA: { reqid: int, what: lit('hosts', 'hoststats', 'relays', 'routes', 'paused') },
  RESUME_ROUTE: { reqid: int, id: int },
  /** pause / resume mta from ADDR for DOMAIN: relaying from one source address to one domain */
  MTA_BLOCK: { reqid: int, src: str, domain: str, blocked: bool },
  /** trace / untrace a subsystem; profile / unprofile imsg or queue (told to every worker) */
  TRACE: { reqid: int, subsystem: lit(...TRACE_SUBSYSTEMS), on: bool },
  PROFILE: { reqid: int, what: lit('imsg', 'queue'), on: bool },
});
export type FromClient = Infer<typeof FromClient>;

export const ToClient = union({
  ...COMMON_MESSAGES,
  HELLO: { version: int, nonce: opt(str) },
  /** each process: "ok pid N" or why it did not answer */
  STATUS_REPLY: { re: int, processes: record(str) },
  /** show queue: one line per envelope, in smtpctl's format */
  LINES_REPLY: { re: int, lines: arr(str, 1_000_000) },
  TEXT_REPLY: { re: int, text: str },
  COUNT_REPLY: { re: int, count: int },
  STATS_REPLY: { re: int, stats: record(int) },
  ERROR: { re: opt(int), message: str },
});
export type ToClient = Infer<typeof ToClient>;
