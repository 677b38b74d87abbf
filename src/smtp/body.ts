/**
 * Checks made on a message body as it streams through: strict CRLF framing (a bare CR or LF
 * anywhere is refused, as Postfix's smtpd_forbid_bare_newline: no smuggling through us), and
 * the hop count (Received headers in the header block; 100 or more is a loop).
 */

export const MAX_HOPS = 100;

const CR = 0x0d;
const LF = 0x0a;

export class BodyChecker {
  /** the last byte of the previous chunk */
  private prev = 0;
  private inHeaders = true;
  /** the start of the current header line (at most 16 characters) */
  private line = '';
  bareNewline = false;
  hops = 0;

  /** Every CR must be followed by LF and every LF preceded by CR. The bytes are searched with
   * Buffer.indexOf (memchr), a loop per line rather than per byte. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.prev === CR && chunk[0] !== LF) this.bareNewline = true;
    for (let i = chunk.indexOf(CR); i !== -1 && i < n - 1; i = chunk.indexOf(CR, i + 1)) {
      if (chunk[i + 1] !== LF) this.bareNewline = true;
    }
    let start = 0;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      if ((i > 0 ? chunk[i - 1] : this.prev) !== CR) this.bareNewline = true;
      if (this.inHeaders) this.headerLine(this.line + chunk.toString('latin1', start, Math.min(i, start + 16)));
      start = i + 1;
    }
    if (this.inHeaders && start < n && this.line.length < 16) this.line += chunk.toString('latin1', start, Math.min(n, start + 16 - this.line.length));
    this.prev = chunk[n - 1]!;
  }

  /** a complete header line (its first characters, CR included) */
  private headerLine(text: string): void {
    const head = text.slice(0, 16);
    if (head === '' || head === '\r') this.inHeaders = false;
    else if (/^received:/i.test(head)) this.hops++;
    this.line = '';
  }

  /** at the end: a message that ends in a lone CR is broken too */
  finish(): void {
    if (this.prev === CR) this.bareNewline = true;
  }
}
