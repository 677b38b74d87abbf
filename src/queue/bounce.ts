/**
 * The bounce (delivery status notification, RFC 3464) for a recipient that failed for good or
 * whose envelope expired: a multipart/report to the original sender, from MAILER-DAEMON, with
 * a text part, the message/delivery-status part and the original message's header block (the
 * whole message instead, as message/rfc822, in a failure report when the sender asked RET=FULL
 * and it is at most FULL_RETURN_MAX bytes); never the other recipients.
 * Every value that came from outside (addresses, the remote or local error text, the
 * original headers) is reduced so that it cannot end a line or start a new header.
 * Privileges: none (pure). Peers: none; the queue stores what it returns as a new message.
 */
import { rfc5322Date } from '../mail/date';

export interface BounceFailure {
  /** the recipient as the sender wrote it */
  readonly rcpt: string;
  /** the last error: an SMTP reply line, or a local delivery error */
  readonly error: string;
  /** the envelope outlived its ttl (the error is then a temporary one) */
  readonly expired: boolean;
  /** not a failure yet: a delay warning, and the time (seconds since the epoch) until which
   * delivery is still tried */
  readonly delayedUntil?: number;
  /** not a failure: a success notice (NOTIFY=SUCCESS), delivered here or relayed to a next hop
   * that does not send notices itself */
  readonly success?: 'delivered' | 'relayed';
  /** the sender's ORCPT for this recipient (`rfc822;address`) */
  readonly orcpt?: string;
}

export interface BounceInput {
  readonly hostname: string;
  /** the original sender: the bounce's recipient */
  readonly sender: string;
  /** when the original message arrived (seconds since the epoch) */
  readonly arrival: number;
  readonly failures: readonly BounceFailure[];
  /** the original message's header block (up to the empty line), CRLF line ends */
  readonly headers: Buffer;
  /** the bounce's own id (for its Message-ID) */
  readonly id: string;
  readonly now: Date;
  /** the sender's ENVID */
  readonly envid?: string;
  /** RET=FULL: the whole original message, returned instead of its headers (failure reports) */
  readonly full?: Buffer;
}

/** the largest message a RET=FULL failure report returns whole (Postfix's bounce_size_limit
 * is 50 kB; past this, the headers only, as with RET=HDRS) */
export const FULL_RETURN_MAX = 1024 * 1024;

/** the whole message, for a report, when it is returned whole: RET=FULL asked, a failure (not
 * a warning or a success notice), and not too big */
export function fullReturn(ret: unknown, failure: boolean, message: Buffer): Buffer | undefined {
  return ret === 'FULL' && failure && message.length <= FULL_RETURN_MAX ? message : undefined;
}

/** printable ASCII only, on one line, at most `max` characters */
function oneLine(s: string, max = 900): string {
  return s.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim().slice(0, max);
}

/** the enhanced status code of an error text, or the default for its kind */
export function statusOf(f: BounceFailure): string {
  if (f.success !== undefined) return '2.0.0';
  const m = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(f.error);
  if (f.delayedUntil !== undefined) return m && m[1] === '4' ? m[0] : '4.0.0';
  if (f.expired) return m && m[1] === '4' ? m[0] : '4.4.7';
  return m && m[1] === '5' ? m[0] : '5.0.0';
}

/** header lines kept as they were, folded lines included; anything else (a bare CR or LF,
 * an 8-bit byte) is replaced, and the block always ends with CRLF */
function safeHeaders(h: Buffer): string {
  // eslint-disable-next-line no-control-regex
  const text = h.toString('latin1').replace(/[^\x09\x0d\x0a\x20-\x7e]/g, '?');
  const lines = text.split('\r\n').filter((l) => l !== '').map((l) => l.replace(/[\r\n]/g, ' '));
  return lines.map((l) => `${l}\r\n`).join('');
}

export function bounceMessage(b: BounceInput): Buffer {
  const boundary = `${b.id}/${b.hostname}`;
  const host = oneLine(b.hostname, 255);
  const arrival = rfc5322Date(new Date(b.arrival * 1000));
  const expired = b.failures.some((f) => f.expired);
  const delayed = b.failures.find((f) => f.delayedUntil !== undefined)?.delayedUntil;
  const success = b.failures.find((f) => f.success !== undefined)?.success;
  const subject = success ?? (delayed !== undefined ? 'delayed' : expired ? 'delivery time expired' : 'error');
  const intro =
    success === 'delivered'
      ? 'A message you sent was delivered to these recipients, as you asked to be told:'
      : success === 'relayed'
        ? 'A message you sent was passed on to these recipients\' mail system, which will not send\r\nnotices of its own, as you asked to be told:'
        : delayed !== undefined
      ? `A message you sent has not been delivered yet to these recipients. This is only a\r\nwarning: the mail system will keep trying until ${rfc5322Date(new Date(delayed * 1000))}.`
      : expired
        ? 'A message you sent could not be delivered in time to these recipients, and the mail\r\nsystem has given up:'
        : 'A message you sent could not be delivered to these recipients:';
  const lines: string[] = [
    `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
    `To: <${oneLine(b.sender, 256)}>`,
    `Subject: Delivery status notification: ${subject}`,
    `Date: ${rfc5322Date(b.now)}`,
    `Message-ID: <${b.id}.bounce@${host}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Hi!',
    '',
    `This is the mail system at ${host}, please DO NOT REPLY to this message.`,
    '',
    intro,
    '',
    ...b.failures.map((f) => `  <${oneLine(f.rcpt, 256)}>: ${oneLine(f.error)}`),
    '',
    b.full ? 'Your message is attached below, whole.' : 'Below are the headers of your message; its body is not included.',
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${host}`,
    ...(b.envid !== undefined ? [`Original-Envelope-Id: ${oneLine(b.envid, 100)}`] : []),
    `Arrival-Date: ${arrival}`,
    '',
  ];
  for (const f of b.failures) {
    const rcpt = oneLine(f.rcpt, 256);
    const original = f.orcpt !== undefined && /^[A-Za-z0-9-]+;./.test(f.orcpt) ? oneLine(f.orcpt.replace(';', '; '), 300) : `rfc822; ${rcpt}`;
    lines.push(
      `Original-Recipient: ${original}`,
      `Final-Recipient: rfc822; ${rcpt}`,
      `Action: ${f.success ?? (f.delayedUntil !== undefined ? 'delayed' : 'failed')}`,
      `Status: ${statusOf(f)}`,
      `Diagnostic-Code: smtp; ${oneLine(f.error)}`,
      ...(f.delayedUntil !== undefined ? [`Will-Retry-Until: ${rfc5322Date(new Date(f.delayedUntil * 1000))}`] : []),
      '',
    );
  }
  if (b.full) {
    // the message as it was stored (CRLF lines, dot-stuffing undone): 8-bit content is declared
    const eight = b.full.some((x) => x > 0x7f);
    lines.push(`--${boundary}`, 'Content-Type: message/rfc822', ...(eight ? ['Content-Transfer-Encoding: 8bit'] : []), '');
    const head = Buffer.from(lines.join('\r\n') + '\r\n', 'latin1');
    const body = b.full.subarray(b.full.length - 2).equals(Buffer.from('\r\n')) ? b.full : Buffer.concat([b.full, Buffer.from('\r\n')]);
    return Buffer.concat([head, body, Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')]);
  }
  lines.push(`--${boundary}`, 'Content-Type: text/rfc822-headers', '');
  const head = lines.join('\r\n') + '\r\n';
  return Buffer.from(`${head}${safeHeaders(b.headers)}\r\n--${boundary}--\r\n`, 'latin1');
}

/** the header block of a stored message: up to and without the empty line (at most 64 KiB) */
export function headerBlock(message: Buffer): Buffer {
  const limit = message.subarray(0, 64 * 1024);
  const end = limit.indexOf('\r\n\r\n');
  return end < 0 ? limit : limit.subarray(0, end + 2);
}
