/**
 * The Received header smtp prepends to each message, in OpenSMTPD's shape:
 * `from <helo> (<rdns> [<ip>])` (omitted with mask-src), `by <name> (tsmtpd) with
 * [E]SMTP[S][A] id <msgid>`, `(<tls version>:<cipher>:<bits>:NO)` under TLS (with
 * received-auth: ` auth=yes user=<u>` or ` auth=no` inside it), ` for <rcpt>` with exactly one
 * recipient, `; <date>`.
 * Every value from the client is reduced to safe characters first: no header injection.
 */
import { rfc5322Date } from '../mail/date';

export interface ReceivedInfo {
  readonly helo: string;
  readonly ip: string;
  readonly rdns?: string;
  readonly serverName: string;
  readonly esmtp: boolean;
  /** tlsSummary() of the session, absent in cleartext */
  readonly tls?: string;
  /** the authenticated user */
  readonly auth?: string;
  readonly receivedAuth: boolean;
  readonly msgid: string;
  readonly rcpts: readonly string[];
  readonly maskSrc: boolean;
  readonly date: Date;
}

function safe(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, '?').replace(/[()[\];\\]/g, '?').slice(0, 255);
}

/** `TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO`: YES at the end when the client's certificate
 * was verified (a `verify` listener lets no other client finish its handshake) */
export function tlsSummary(c: { name?: string; standardName?: string; version?: string } | false | undefined, verified = false): string {
  const yes = verified ? 'YES' : 'NO';
  if (!c) return `TLS:unknown:0:${yes}`;
  const cipher = c.standardName ?? c.name ?? 'unknown';
  const bits = /CHACHA20|_256_|AES256/.test(cipher) ? 256 : /_128_|AES128/.test(cipher) ? 128 : 0;
  return `${c.version ?? 'TLS'}:${cipher}:${bits}:${yes}`;
}


export function receivedHeader(r: ReceivedInfo): string {
  const lines: string[] = [];
  if (!r.maskSrc) lines.push(`from ${safe(r.helo) || 'unknown'} (${r.rdns ? safe(r.rdns) : 'unknown'} [${safe(r.ip)}])`);
  const proto = `${r.esmtp ? 'ESMTP' : 'SMTP'}${r.tls !== undefined ? 'S' : ''}${r.auth !== undefined ? 'A' : ''}`;
  lines.push(`by ${safe(r.serverName)} (tsmtpd) with ${proto} id ${r.msgid}`);
  const authPart = r.receivedAuth ? (r.auth !== undefined ? `auth=yes user=${safe(r.auth)}` : 'auth=no') : undefined;
  if (r.tls !== undefined) lines.push(`(${safe(r.tls)}${authPart ? ` ${authPart}` : ''})`);
  else if (authPart) lines.push(`(${authPart})`);
  if (r.rcpts.length === 1) lines.push(`for <${safe(r.rcpts[0]!)}>`);
  const body = lines.join('\r\n\t');
  return `Received: ${body};\r\n\t${rfc5322Date(r.date)}\r\n`;
}
