/**
 * Length-prefixed frames on a byte stream.
 *
 * A frame is a 4-byte big-endian length, then that many bytes: one kind byte and the payload.
 * Kind 1 is a JSON message; kind 2 carries raw bytes of a stream (a message body): a 4-byte
 * stream id, then the bytes. The reader reassembles frames split across chunks, refuses frames
 * over a size limit before buffering them, and refuses unknown kinds. No I/O.
 */

export const FRAME_JSON = 1;
export const FRAME_BYTES = 2;
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

export class FrameError extends Error {}

export function encodeFrame(kind: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out.writeUInt32BE(payload.length + 1, 0);
  out.writeUInt8(kind, 4);
  payload.copy(out, 5);
  return out;
}

/** A raw bytes frame of stream `id`. */
export function encodeBytes(id: number, bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(9 + bytes.length);
  out.writeUInt32BE(bytes.length + 5, 0);
  out.writeUInt8(FRAME_BYTES, 4);
  out.writeUInt32BE(id, 5);
  bytes.copy(out, 9);
  return out;
}

export function encodeJson(value: unknown): Buffer {
  return encodeFrame(FRAME_JSON, Buffer.from(JSON.stringify(value), 'utf8'));
}

export interface Frame {
  readonly kind: number;
  readonly payload: Buffer;
}

export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  /** Add bytes; returns the complete frames they finish. Throws FrameError on a bad frame
   * (the stream is then unusable: the caller closes it). */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    let off = 0;
    while (this.buf.length - off >= 4) {
      const len = this.buf.readUInt32BE(off);
      if (len === 0) throw new FrameError('empty frame');
      if (len > this.maxFrame + 1) throw new FrameError(`frame of ${len} bytes is over the limit of ${this.maxFrame}`);
      if (this.buf.length - off - 4 < len) break;
      const kind = this.buf.readUInt8(off + 4);
      if (kind !== FRAME_JSON && kind !== FRAME_BYTES) throw new FrameError(`unknown frame kind ${kind}`);
      if (kind === FRAME_BYTES && len < 5) throw new FrameError('bytes frame without a stream id');
      frames.push({ kind, payload: this.buf.subarray(off + 5, off + 4 + len) });
      off += 4 + len;
    }
    this.buf = off === 0 ? this.buf : this.buf.subarray(off);
    return frames;
  }

  /** bytes received but not yet a complete frame */
  get pending(): number {
    return this.buf.length;
  }
}

/** The JSON value of a frame, or a FrameError. */
export function decodeJson(frame: Frame): unknown {
  try {
    return JSON.parse(frame.payload.toString('utf8'));
  } catch {
    throw new FrameError('frame is not valid JSON');
  }
}
