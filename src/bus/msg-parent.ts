/**
 * Messages between the parent and each worker, over the worker's IPC channel (fork).
 *
 * parent -> worker: WORKER_CONFIG (its part of the configuration and how to run), then
 * WORKER_CHANNEL (with a socket handle: a direct channel to a peer; again whenever that peer is
 * restarted), WORKER_RELOAD (a new configuration after SIGHUP), WORKER_SHUTDOWN, PING.
 * parent -> mda: HELPER_CHANNEL (with a socket handle when ok: a channel to the delivery helper
 * of a user, see msg-deliver.ts); parent -> lka: SYSTEM_AUTH_RESULT, FORWARD_RESULT; parent -> control:
 * TABLE_UPDATE_RESULT.
 * worker -> parent: WORKER_READY (privileges dropped, ready for channels), PONG; mda:
 * HELPER_OPEN; lka: SYSTEM_AUTH, FORWARD_READ; control: TABLE_UPDATE.
 */
import { COMMON_MESSAGES } from './msg-common';
import { AuthResult } from './msg-smtp-lka';
import { arr, bool, int, json, lit, obj, opt, str, union, type Infer } from './schema';
import { WORKERS } from './topology';

export const ToWorker = union({
  ...COMMON_MESSAGES,
  /** the answer to a HELPER_OPEN: ok (and the socket), or why not (no such user: permfail) */
  HELPER_CHANNEL: { re: int, user: str, result: lit('ok', 'tempfail', 'permfail'), text: str },
  /** the answer to a SYSTEM_AUTH */
  SYSTEM_AUTH_RESULT: { re: int, result: AuthResult },
  /** the answer to a FORWARD_READ: none (no usable .forward: deliver to the mailbox), ok and
   * its content, or a temporary failure */
  FORWARD_RESULT: { re: int, result: lit('none', 'ok', 'tempfail'), content: opt(str), text: opt(str) },
  /** the answer to a TABLE_UPDATE: ok (the workers got the new table), or why not */
  TABLE_UPDATE_RESULT: { re: int, ok: bool, text: str },
  WORKER_CONFIG: {
    /** the parent's BUS_VERSION: a worker of another version refuses to start */
    busVersion: int,
    name: lit(...WORKERS),
    config: json,
    /** who to become once started (when started as root); absent otherwise */
    user: opt(obj({ name: str, uid: int, gid: int })),
    /** group given access to the control socket (the queue user's group), when root */
    socketGid: opt(int),
    spool: str,
    socket: str,
    trace: arr(str),
    logFormat: lit('pretty', 'json'),
    /** where logs go: 1 (stdout: -F, detached) or 2 (stderr: -d) */
    logFd: lit(1, 2),
    verbose: bool,
  },
  WORKER_CHANNEL: { peer: lit(...WORKERS) },
  WORKER_RELOAD: { config: json },
  WORKER_SHUTDOWN: {},
});
export type ToWorker = Infer<typeof ToWorker>;

export const ToParent = union({
  ...COMMON_MESSAGES,
  WORKER_READY: { pid: int, uid: int, gid: int },
  /** mda: a channel to the delivery helper of this user, as the action's userbase gives it
   * (`<getpwnam>`: the system's users; else a table of the configuration) */
  HELPER_OPEN: { reqid: int, user: str, userbase: str },
  /** lka: check this system user's password (only the parent can read the shadow file) */
  SYSTEM_AUTH: { reqid: int, user: str, password: str },
  /** lka: read this recipient's ~/.forward (as the user) */
  FORWARD_READ: { reqid: int, user: str, userbase: str },
  /** control: read a file table again and give the workers its new content (smtpctl update
   * table) */
  TABLE_UPDATE: { reqid: int, name: str },
});
export type ToParent = Infer<typeof ToParent>;
