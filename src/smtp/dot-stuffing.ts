/**
 * DATA framing as RFC 5321 §4.5.2 says, replacing smtp-server's: a line that starts with a
 * period loses that period (smtp-server only turned ".." into "."), and only CRLF "." CRLF
 * ends the message (never a bare LF or CR around the dot: no smuggling). Installed once, at
 * load, on smtp-server's stream class; it keeps its bookkeeping (byte count, size limit,
 * backpressure, end of data mode). Past the size limit the rest of the message is only
 * counted and framed, never passed on: it is refused at its end (552), and a client must not
 * be able to make the queue write more than the limit to disk (checklist X08).
 */
import type { Writable } from 'node:stream';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

interface StreamInternals {
  _dataStream: (Writable & { sizeExceeded?: boolean }) | null;
  _atDataStart: boolean;
  _countDataBytes(len: number): void;
  _endDataMode(chunk: Buffer | false, remainder: Buffer, done: () => void): void;
  /** bytes not decided yet (a period at a line start and what follows it) */
  _tsPending?: Buffer;
  _tsLineStart?: boolean;
  _tsPrevCR?: boolean;
}

const DOT = 0x2e;
const CR = 0x0d;
const LF = 0x0a;

/** the first line start at or after `from`: the byte after a CRLF; -1 when there is none
 * (`crBefore`: the byte before buf[0] was a CR) */
function nextLineStart(buf: Buffer, from: number, crBefore: boolean): number {
  for (let i = buf.indexOf(LF, from); i !== -1; i = buf.indexOf(LF, i + 1)) {
    if (i > 0 ? buf[i - 1] === CR : crBefore) return i + 1;
  }
  return -1;
}

function feed(this: StreamInternals, input: Buffer, done: () => void): void {
  const fresh = this._atDataStart && !this._tsPending;
  const buf = this._tsPending ? Buffer.concat([this._tsPending, input]) : input;
  this._tsPending = undefined;
  const crBefore = fresh ? false : (this._tsPrevCR ?? false);
  const parts: Buffer[] = [];
  let seg = 0;
  // only the line starts are looked at (found with indexOf, not byte by byte)
  let at = (fresh ? true : (this._tsLineStart ?? true)) ? 0 : nextLineStart(buf, 0, crBefore);
  let pending = false;
  while (at !== -1 && at < buf.length) {
    if (buf[at] === DOT) {
      const next = buf[at + 1];
      if (next === undefined || (next === CR && buf[at + 2] === undefined)) {
        parts.push(buf.subarray(seg, at));
        this._tsPending = buf.subarray(at);
        seg = buf.length;
        pending = true;
        break;
      }
      if (next === CR && buf[at + 2] === LF) {
        parts.push(buf.subarray(seg, at));
        const content = Buffer.concat(parts);
        this._countDataBytes(content.length);
        this._tsLineStart = undefined;
        this._tsPrevCR = undefined;
        const over = this._dataStream?.sizeExceeded === true;
        this._endDataMode(content.length && !over ? content : false, buf.subarray(at + 3), done);
        return;
      }
      parts.push(buf.subarray(seg, at)); // the stuffing period is dropped
      seg = at + 1;
    }
    at = nextLineStart(buf, at, crBefore);
  }
  if (seg < buf.length) parts.push(buf.subarray(seg));
  if (pending) {
    // the kept bytes start a line; they are looked at again with the next input
    this._tsLineStart = true;
    this._tsPrevCR = false;
  } else if (buf.length > 0) {
    const last = buf[buf.length - 1];
    this._tsLineStart = last === LF && (buf.length > 1 ? buf[buf.length - 2] === CR : crBefore);
    this._tsPrevCR = last === CR;
  }
  const content = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  this._atDataStart = false;
  if (content.length === 0) return done();
  this._countDataBytes(content.length);
  const stream = this._dataStream;
  if (!stream || !stream.writable || stream.sizeExceeded) return done();
  if (stream.write(content) || stream.destroyed) return done();
  const resume = () => {
    stream.removeListener('drain', resume);
    stream.removeListener('close', resume);
    done();
  };
  stream.once('drain', resume);
  stream.once('close', resume);
}

(SMTPStream as unknown as { prototype: { _feedDataStream: typeof feed } }).prototype._feedDataStream = feed;
