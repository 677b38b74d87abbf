/**
 * The message sendmail reads: line endings made CRLF, reading stopped at a lone "." unless
 * `-i`, recipients taken from To/Cc/Bcc with `-t` (Bcc then removed), From and Date added when
 * missing (as OpenSMTPD's enqueuer does; the Message-ID is added by smtp for local sessions).
 * Addresses that could break an SMTP command are refused. No I/O.
 */
import { rfc5322Date } from '../mail/date';

export class MessageError extends Error {}

/** CRLF line endings; without ignoreDots, what follows a line holding only "." is dropped */
export function normalizeInput(input: Buffer, ignoreDots: boolean): Buffer {
  let text = input.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  if (!ignoreDots) {
    const stop = text.startsWith('.\r\n') || text === '.' ? 0 : text.indexOf('\r\n.\r\n');
    if (stop >= 0) text = text.slice(0, stop === 0 ? 0 : stop + 2);
    else if (text.endsWith('\r\n.')) text = text.slice(0, -1);
  }
  if (text.length > 0 && !text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}

/** an address usable in MAIL FROM/RCPT TO: no spaces, controls or angle brackets */
export function checkSmtpAddress(a: string): string {
  // eslint-disable-next-line no-control-regex
  if (a.length === 0 || a.length > 512 || /[\x00-\x20<>\x7f]/.test(a)) throw new MessageError(`not a usable address: ${JSON.stringify(a)}`);
  return a;
}

interface Header {
  readonly name: string;
  /** the header's raw lines, CRLF included */
  readonly raw: string;
}

function splitHeaders(text: string): { headers: Header[]; rest: string } {
  const end = text.startsWith('\r\n') ? 0 : text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end + 2);
  const rest = end < 0 ? '' : text.slice(end + 2);
  const headers: Header[] = [];
  for (const line of head.split(/(?<=\r\n)/)) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers.pop()!;
      headers.push({ name: last.name, raw: last.raw + line });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return { headers: [], rest: text }; // not a header section: all body
    headers.push({ name: line.slice(0, colon).trim().toLowerCase(), raw: line });
  }
  return { headers, rest };
}

/** the addresses of an address-list header value (display names, comments and groups aside) */
export function addressesIn(value: string): string[] {
  const noComments = value.replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
  const items: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (const ch of noComments) {
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if ((ch === ',' || ch === ';') && !quoted && !angle) {
      items.push(cur);
      cur = '';
    } else cur += ch;
  }
  items.push(cur);
  const out: string[] = [];
  for (let item of items) {
    item = item.replace(/^[^"<]*:/, ''); // a group's name
    const inAngle = /<([^>]*)>/.exec(item);
    const addr = (inAngle ? inAngle[1]! : item.replace(/"(?:[^"\\]|\\.)*"/g, '')).trim();
    if (addr !== '') out.push(addr);
  }
  return out;
}

export interface Prepared {
  readonly message: Buffer;
  readonly recipients: string[];
}

/** From and Date when missing; with fromHeaders, the recipients of To, Cc and Bcc (Bcc removed) */
export function prepareMessage(message: Buffer, o: { sender: string; fullName?: string; fromHeaders: boolean; now: Date }): Prepared {
  const { headers, rest } = splitHeaders(message.toString('latin1'));
  const recipients: string[] = [];
  if (o.fromHeaders) {
    for (const h of headers) {
      if (h.name === 'to' || h.name === 'cc' || h.name === 'bcc') recipients.push(...addressesIn(h.raw.slice(h.raw.indexOf(':') + 1).replace(/\r\n/g, '')));
    }
  }
  const kept = headers.filter((h) => !(o.fromHeaders && h.name === 'bcc'));
  const added: string[] = [];
  if (!kept.some((h) => h.name === 'from')) {
  // eslint-disable-next-line no-control-regex
    const name = o.fullName?.replace(/[\x00-\x1f"\\]/g, '');
    added.push(`From: ${name ? `"${name}" <${o.sender}>` : o.sender}\r\n`);
  }
  if (!kept.some((h) => h.name === 'date')) added.push(`Date: ${rfc5322Date(o.now)}\r\n`);
  const separator = headers.length > 0 || rest.startsWith('\r\n') ? '' : '\r\n';
  const text = added.join('') + kept.map((h) => h.raw).join('') + separator + rest;
  return { message: Buffer.from(text, 'latin1'), recipients };
}
