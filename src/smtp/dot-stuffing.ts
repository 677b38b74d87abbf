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

function feed(this: StreamInternals, input: Buffer, done: () => void): void {
  const fresh = this._atDataStart && !this._tsPending;
  const buf = this._tsPending ? Buffer.concat([this._tsPending, input]) : input;
  this._tsPending = undefined;
  let lineStart = fresh ? true : (this._tsLineStart ?? true);
  let prevCR = fresh ? false : (this._tsPrevCR ?? false);
  const parts: Buffer[] = [];
  let seg = 0;
  let i = 0;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (lineStart && c === DOT) {
      const next = buf[i + 1];
      if (next === undefined || (next === CR && buf[i + 2] === undefined)) {
        parts.push(buf.subarray(seg, i));
        this._tsPending = buf.subarray(i);
        seg = buf.length;
        break;
      }
      if (next === CR && buf[i + 2] === LF) {
        parts.push(buf.subarray(seg, i));
        const content = Buffer.concat(parts);
        this._countDataBytes(content.length);
        this._tsLineStart = undefined;
        this._tsPrevCR = undefined;
        const over = this._dataStream?.sizeExceeded === true;
        this._endDataMode(content.length && !over ? content : false, buf.subarray(i + 3), done);
        return;
      }
      parts.push(buf.subarray(seg, i)); // the stuffing period is dropped
      seg = i + 1;
      lineStart = false;
      prevCR = false;
      continue;
    }
    lineStart = c === LF && prevCR;
    prevCR = c === CR;
  }
  if (seg < buf.length) parts.push(buf.subarray(seg));
  this._tsLineStart = lineStart;
  this._tsPrevCR = prevCR;
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
