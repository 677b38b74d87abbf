/**
 * Checks made on a message body as it streams through: strict CRLF framing (a bare CR or LF
 * anywhere is refused, as Postfix's smtpd_forbid_bare_newline: no smuggling through us), and
 * the hop count (Received headers in the header block; 100 or more is a loop).
 */

export const MAX_HOPS = 100;

export class BodyChecker {
  private prev = 0;
  private inHeaders = true;
  private line = '';
  bareNewline = false;
  hops = 0;

  push(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === 0x0a && this.prev !== 0x0d) this.bareNewline = true;
      if (this.prev === 0x0d && c !== 0x0a) this.bareNewline = true;
      if (this.inHeaders) this.header(c);
      this.prev = c;
    }
  }

  private header(c: number): void {
    if (c === 0x0a) {
      if (this.line === '' || this.line === '\r') this.inHeaders = false;
      else if (/^received:/i.test(this.line)) this.hops++;
      this.line = '';
      return;
    }
    if (this.line.length < 16) this.line += String.fromCharCode(c);
  }

  /** at the end: a message that ends in a lone CR is broken too */
  finish(): void {
    if (this.prev === 0x0d) this.bareNewline = true;
  }
}
