/**
 * SMTP replies with our own enhanced status codes.
 *
 * smtp-server adds an enhanced code of its choosing to every reply (it cannot take one from
 * an error object). A reply text that already starts with an enhanced code (`5.7.1 Relaying
 * denied`) is sent as it is; others keep smtp-server's code. Patched once, at load.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const ESC_RE = /^[245]\.\d{1,3}\.\d{1,3} /;

type Send = (code: number, data?: string | string[], context?: string | false) => void;
const proto = (SMTPConnection as unknown as { prototype: { send: Send } }).prototype;
const original = proto.send;
proto.send = function send(this: unknown, code, data, context) {
  const own = typeof data === 'string' && ESC_RE.test(data);
  original.call(this, code, data, own ? false : context);
};

/** An error for smtp-server callbacks: `code esc text` on the wire. */
export function replyError(code: number, esc: string, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(`${esc} ${text}`), { responseCode: code });
}
