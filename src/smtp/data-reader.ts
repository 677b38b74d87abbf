/**
 * DATA framing as RFC 5321 §4.5.2 says: a line that starts with a period loses that period,
 * and only CRLF "." CRLF ends the message (never a bare LF or CR around the dot: no
 * smuggling, checklist P13). Input comes in whatever pieces TCP delivers; only line starts
 * are looked at (found with indexOf, not byte by byte). Past the size limit the content is
 * only counted and framed, never passed on: the message is refused at its end (552), and a
 * client cannot make the queue write more than the limit (checklist X08).
 * Privileges: none. Peers: none. No I/O: the session feeds it bytes.
 */

const DOT = 0x2e;
const CR = 0x0d;
const LF = 0x0a;

/** what one piece of input gave: content to pass on, and the bytes after the final dot once
 * the message has ended */
export interface DataFeed {
  readonly content: Buffer[];
  readonly rest?: Buffer;
}

/** the first line start at or after `from`: the byte after a CRLF; -1 when there is none
 * (`crBefore`: the byte before buf[0] was a CR) */
function nextLineStart(buf: Buffer, from: number, crBefore: boolean): number {
  for (let i = buf.indexOf(LF, from); i !== -1; i = buf.indexOf(LF, i + 1)) {
    if (i > 0 ? buf[i - 1] === CR : crBefore) return i + 1;
  }
  return -1;
}

export class DataReader {
  /** content bytes of the message so far (after unstuffing), passed on or not */
  bytes = 0;
  /** bytes not decided yet: a period at a line start and what follows it */
  private pending: Buffer | undefined;
  private lineStart = true;
  private prevCR = false;

  /** @param maxBytes content past this many bytes is counted, not passed on (0: no limit) */
  constructor(private readonly maxBytes: number) {}

  /** the message went over the size limit */
  get oversized(): boolean {
    return this.maxBytes > 0 && this.bytes > this.maxBytes;
  }

  feed(input: Buffer): DataFeed {
    const buf = this.pending ? Buffer.concat([this.pending, input]) : input;
    this.pending = undefined;
    const crBefore = this.prevCR;
    const parts: Buffer[] = [];
    let seg = 0;
    let at = this.lineStart ? 0 : nextLineStart(buf, 0, crBefore);
    while (at !== -1 && at < buf.length) {
      if (buf[at] === DOT) {
        const next = buf[at + 1];
        if (next === undefined || (next === CR && buf[at + 2] === undefined)) {
          // "." or ".\r" at the end of the input: decided by the next piece
          if (at > seg) parts.push(buf.subarray(seg, at));
          this.pending = buf.subarray(at);
          this.lineStart = true;
          this.prevCR = false;
          return { content: this.pass(parts) };
        }
        if (next === CR && buf[at + 2] === LF) {
          if (at > seg) parts.push(buf.subarray(seg, at));
          return { content: this.pass(parts), rest: buf.subarray(at + 3) };
        }
        if (at > seg) parts.push(buf.subarray(seg, at)); // the stuffing period is dropped
        seg = at + 1;
      }
      at = nextLineStart(buf, at, crBefore);
    }
    if (seg < buf.length) parts.push(buf.subarray(seg));
    if (buf.length > 0) {
      const last = buf[buf.length - 1];
      this.lineStart = last === LF && (buf.length > 1 ? buf[buf.length - 2] === CR : crBefore);
      this.prevCR = last === CR;
    }
    return { content: this.pass(parts) };
  }

  /** counts the content; none of it goes on once the message is over the limit */
  private pass(parts: Buffer[]): Buffer[] {
    for (const p of parts) this.bytes += p.length;
    return this.oversized ? [] : parts;
  }
}
