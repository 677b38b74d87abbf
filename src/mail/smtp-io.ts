/**
 * The client side of an SMTP or LMTP dialogue, without I/O: replies assembled from the bytes
 * read (multi-line replies joined), and a message made into DATA lines (dot-stuffed, ended by
 * the lone dot). Used by sendmail's submission and mda's LMTP delivery. Privileges: none.
 */

/** dot-stuff a CRLF message and add the end-of-data line */
export function dataLines(message: Buffer): Buffer {
  const text = message.toString('latin1');
  const body = text.length === 0 || text.endsWith('\r\n') ? text : `${text}\r\n`;
  return Buffer.from(`${body.replace(/^\./gm, '..')}.\r\n`, 'latin1');
}

export class ReplyReader {
  private buf = '';
  private waiting?: (reply: { code: number; text: string }) => void;
  private replies: { code: number; text: string }[] = [];
  closed = false;

  push(chunk: Buffer): void {
    this.buf += chunk.toString('latin1');
    let lines: string[] = [];
    for (;;) {
      const i = this.buf.indexOf('\n');
      if (i < 0) break;
      const line = this.buf.slice(0, i).replace(/\r$/, '');
      this.buf = this.buf.slice(i + 1);
      lines.push(line);
      if (line.length < 4 || line[3] !== '-') {
        this.replies.push({ code: Number(line.slice(0, 3)) || 0, text: lines.join('\n') });
        lines = [];
      }
    }
    if (lines.length > 0) this.buf = `${lines.join('\n')}\n${this.buf}`;
    this.deliver();
  }

  close(): void {
    this.closed = true;
    this.deliver();
  }

  next(): Promise<{ code: number; text: string }> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }

  private deliver(): void {
    if (!this.waiting) return;
    const r = this.replies.shift() ?? (this.closed ? { code: 0, text: 'connection closed' } : undefined);
    if (!r) return;
    const w = this.waiting;
    this.waiting = undefined;
    w(r);
  }
}
