/**
 * The delivery helpers: one process per recipient user, started by the parent and running as
 * that user, writing that user's mailboxes (the parent never touches a message body).
 *
 * parent -> helper (IPC, with the helper's end of its channel to mda): HELPER_START (who to
 * become, how to log).
 * mda -> helper: the message as raw byte frames on stream `stream`, then DELIVER_MAILDIR (the
 * maildir path spec of the action, and `junk`), DELIVER_MBOX (the envelope sender) or
 * DELIVER_COMMAND (an mda command's words).
 * helper -> mda: DELIVER_RESULT (ok, tempfail or permfail, and the text for the envelope).
 */
import { COMMON_MESSAGES } from './msg-common';
import { arr, bool, int, lit, obj, opt, str, union, type Infer } from './schema';

/** `system`: a user of the system (its groups come from the group database); otherwise a
 * user of a userbase table, with its gid only */
export const HelperUser = obj({ name: str, uid: int, gid: int, home: str, system: bool });
export type HelperUser = Infer<typeof HelperUser>;

export const ToHelper = union({
  HELPER_START: {
    /** the parent's BUS_VERSION: a helper of another version refuses to start */
    busVersion: int,
    user: HelperUser,
    /** the system mail spool (mbox files) and the group that may write it, if any */
    mailSpool: str,
    mailGid: opt(int),
    logFormat: lit('pretty', 'json'),
    logFd: lit(1, 2),
    verbose: bool,
  },
});
export type ToHelper = Infer<typeof ToHelper>;

export const MdaToHelper = union({
  ...COMMON_MESSAGES,
  /** `path` may hold format specifiers: the envelope's sender, rcpt and dest fill them */
  DELIVER_MAILDIR: { reqid: int, stream: int, path: opt(str), junk: bool, sender: str, rcpt: str, dest: str, subAddrDelim: str },
  /** append to the user's mbox in the mail spool; `sender` for the From_ line */
  DELIVER_MBOX: { reqid: int, stream: int, sender: str },
  /** run an mda command (its words, format specifiers not yet expanded) with the message on
   * its standard input, killed after `timeoutMs` */
  DELIVER_COMMAND: { reqid: int, stream: int, argv: arr(str, 1000), sender: str, rcpt: str, dest: str, subAddrDelim: str, timeoutMs: int, raw: opt(bool) },
  /** append to a file in mbox form (a ~/.forward's /file) */
  DELIVER_FILE: { reqid: int, stream: int, path: str, sender: str },
});
export type MdaToHelper = Infer<typeof MdaToHelper>;

export const HelperToMda = union({
  ...COMMON_MESSAGES,
  DELIVER_RESULT: { re: int, result: lit('ok', 'tempfail', 'permfail'), text: str },
});
export type HelperToMda = Infer<typeof HelperToMda>;
