/**
 * The control socket protocol, between smtpctl (or any client) and the control worker.
 *
 * The client starts with HELLO carrying its BUS_VERSION; the control worker answers HELLO with
 * its own, and closes the connection if they differ. Then requests (with a reqid) and replies
 * (with `re`). A malformed frame from a client closes that client only.
 */
import { COMMON_MESSAGES } from './msg-common';
import { int, opt, record, str, union, type Infer } from './schema';

export const FromClient = union({
  ...COMMON_MESSAGES,
  HELLO: { version: int },
  STATUS: { reqid: int },
});
export type FromClient = Infer<typeof FromClient>;

export const ToClient = union({
  ...COMMON_MESSAGES,
  HELLO: { version: int },
  /** each process: "ok pid N" or why it did not answer */
  STATUS_REPLY: { re: int, processes: record(str) },
  ERROR: { re: opt(int), message: str },
});
export type ToClient = Infer<typeof ToClient>;
