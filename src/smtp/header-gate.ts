/**
 * Header fixes: the header block is held back until its end (or MAX_HEAD bytes) is seen, then
 * passed on
 * - without its Bcc fields (every message: a blind copy must not show who else got it,
 *   checklist D04);
 * - for submitted mail (authenticated or local sessions), with `Message-ID: <id@host>` in
 *   front of it when it has no Message-ID of its own (OpenSMTPD 7.4+ adds one on submission,
 *   as Postfix's cleanup does for local mail);
 * - with `senders ... masquerade`, with its From header (folded lines included) replaced by
 *   `From: <envelope sender>`.
 * A header block longer than MAX_HEAD is passed on as it is.
 * Privileges: none. Peers: none (smtp's Inbound feeds it). No I/O.
 */
import { randomBytes } from 'node:crypto';

export const MAX_HEAD = 64 * 1024;

export function hasMessageId(head: string): boolean {
  return /^message-id[ \t]*:/im.test(head);
}

export function newMessageId(msgid: string, host: string): string {
  return `<${msgid}.${randomBytes(6).toString('hex')}@${host.replace(/[^A-Za-z0-9.-]/g, '')}>`;
}

export interface HeaderFixes {
  /** a new Message-ID, for a message without one (submissions only) */
  readonly messageId?: () => string;
  /** the envelope sender, to be the From header (masquerade) */
  readonly from?: string;
}

const FROM_FIELD = /^from[ \t]*:/i;
const BCC_FIELD = /^bcc[ \t]*:/im;

/** the header block without the fields whose first line `field` matches (folded lines too) */
function without(head: string, field: RegExp): string {
  const out: string[] = [];
  let dropping = false;
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line) && dropping) continue;
    dropping = field.test(line);
    if (!dropping) out.push(line);
  }
  return out.join('\r\n');
}

/** Holds the header block back; `push` and `end` return what may be passed on now. */
export class HeaderGate {
  private held: Buffer[] = [];
  private size = 0;
  private decided = false;
  /** the header block was too long to be looked at (and was passed on unchanged) */
  tooLong = false;

  constructor(private readonly fixes: HeaderFixes) {}

  push(chunk: Buffer): Buffer[] {
    if (this.decided) return [chunk];
    this.held.push(chunk);
    this.size += chunk.length;
    const all = Buffer.concat(this.held);
    this.held = [all];
    const end = all.indexOf('\r\n\r\n');
    // a message that starts with its body (no headers at all) also ends the header block
    // a message that starts with its body (no header at all) has an empty header block
    if (all.subarray(0, 2).equals(Buffer.from('\r\n'))) return this.decide(0);
    if (end >= 0 || this.size > MAX_HEAD) return this.decide(end >= 0 ? end : all.length);
    return [];
  }

  end(): Buffer[] {
    return this.decided ? [] : this.decide(this.size);
  }

  private decide(headLength: number): Buffer[] {
    this.decided = true;
    const all = this.held[0] ?? Buffer.alloc(0);
    this.held = [];
    if (this.size > MAX_HEAD) {
      this.tooLong = true;
      return [all];
    }
    let head = all.subarray(0, headLength).toString('latin1');
    const rest = all.subarray(headLength);
    const added: string[] = [];
    let changed = false;
    if (this.fixes.messageId && !hasMessageId(head)) added.push(`Message-ID: ${this.fixes.messageId()}\r\n`);
    if (this.fixes.from !== undefined) {
      head = without(head, FROM_FIELD);
      added.push(`From: <${this.fixes.from.replace(/[^\x21-\x7e]/g, '')}>\r\n`);
    }
    if (BCC_FIELD.test(head)) {
      head = without(head, new RegExp(BCC_FIELD.source, 'i'));
      changed = true;
    }
    if (added.length === 0 && !changed) return [all];
    // `rest` starts with the line end of the last field; with no field left, it goes too
    const tail = head === '' && headLength > 0 ? rest.subarray(2) : rest;
    return [Buffer.from(added.join('') + head, 'latin1'), tail];
  }
}
