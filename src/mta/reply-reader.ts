/**
 * Replies of an SMTP server, read strictly (RFC 5321 §4.2): each line a three-digit code from
 * 2xx to 5xx, then "-" (more lines follow), " " or the end of the line; every line of a reply
 * has the same code; a line is at most MAX_LINE bytes and a reply at most MAX_LINES lines.
 * Anything else is a protocol error: code 0, with what was read made printable and short
 * (it ends up in the envelope's error line and in logs).
 * Privileges: none. Peers: none (the SMTP client feeds it). No I/O.
 */

export const MAX_LINE = 2048;
export const MAX_LINES = 100;

export interface Reply {
  /** 0: the connection closed, or the server broke the protocol (see text) */
  readonly code: number;
  /** the lines' texts (after the code and separator), joined by a space */
  readonly text: string;
  /** the lines' texts, one per line (EHLO keywords) */
  readonly lines: readonly string[];
}

/** printable, one line, at most 200 characters: safe to store and log */
export function sanitize(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, ' ').replace(/ {2,}/g, ' ').trim().slice(0, 200);
}

const LINE = /^([2-5]\d\d)(?:([ -])(.*))?$/;

export class ReplyReader {
  private buf = '';
  private lines: string[] = [];
  private code = '';
  private readonly ready: Reply[] = [];
  private waiting?: (r: Reply) => void;
  private broken?: Reply;
  private closed = false;

  push(chunk: Buffer): void {
    if (this.broken) return;
    this.buf += chunk.toString('latin1');
    for (;;) {
      const i = this.buf.indexOf('\n');
      if (i < 0) break;
      this.line(this.buf.slice(0, i).replace(/\r$/, ''));
      this.buf = this.buf.slice(i + 1);
      if (this.broken) break;
    }
    if (!this.broken && this.buf.length > MAX_LINE) this.fail(`a reply line longer than ${MAX_LINE} bytes`, this.buf);
    this.deliver();
  }

  private line(raw: string): void {
    const m = LINE.exec(raw);
    if (!m || raw.length > MAX_LINE) return this.fail('not an SMTP reply', raw);
    if (this.lines.length > 0 && m[1] !== this.code) return this.fail('a multi-line reply changes its code', raw);
    this.code = m[1]!;
    this.lines.push(m[3] ?? '');
    if (this.lines.length > MAX_LINES) return this.fail(`a reply of more than ${MAX_LINES} lines`, raw);
    if (m[2] === '-') return;
    this.ready.push({ code: Number(this.code), text: this.lines.join(' ').trim(), lines: this.lines });
    this.lines = [];
  }

  private fail(why: string, excerpt: string): void {
    this.broken = { code: 0, text: `protocol error: ${why}: ${sanitize(excerpt).slice(0, 80)}`, lines: [] };
  }

  /** what was received after the last complete reply (discarded at STARTTLS) */
  pending(): boolean {
    return this.buf.length > 0 || this.lines.length > 0 || this.ready.length > 0;
  }

  close(): void {
    this.closed = true;
    this.deliver();
  }

  next(): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }

  private deliver(): void {
    if (!this.waiting) return;
    const r = this.ready.shift() ?? this.broken ?? (this.closed ? { code: 0, text: 'connection closed', lines: [] } : undefined);
    if (!r) return;
    const w = this.waiting;
    this.waiting = undefined;
    w(r);
  }
}
