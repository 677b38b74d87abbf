/**
 * SMTP replies a session handler refuses with: an error carrying the reply code, whose
 * message is the enhanced status code and the text (`5.7.1 Relaying denied`). The session
 * sends it as it is; any other error a handler fails with becomes `451 4.3.0`, so no
 * internal message ever reaches a client.
 * Privileges: none. Peers: none. No I/O.
 */

export type ReplyError = Error & { responseCode: number };

/** An error for the session's handler callbacks: `code esc text` on the wire. */
export function replyError(code: number, esc: string, text: string): ReplyError {
  return Object.assign(new Error(`${esc} ${text}`), { responseCode: code });
}

/** the reply for a handler's error */
export function replyFor(e: Error): { code: number; text: string } {
  const code = (e as Partial<ReplyError>).responseCode;
  if (typeof code === 'number' && code >= 400 && code < 600) return { code, text: e.message };
  return { code: 451, text: '4.3.0 Temporary failure' };
}
