/**
 * Length-prefixed frames on a byte stream.
 *
 * A frame is a 4-byte big-endian length, then that many bytes: one kind byte and the payload.
 * Kind 1 is a JSON message; kind 2 carries raw bytes of a stream (a message body): a 4-byte
 * stream id, then the bytes. The reader reassembles frames split across chunks (copied once,
 * when the frame is complete), refuses frames over a size limit before buffering them, and
 * refuses unknown kinds. A large bytes frame can be sent as its header and the caller's buffer
 * (bytesHeader), uncopied. No I/O.
 */

export const FRAME_JSON = 1;
export const FRAME_BYTES = 2;
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

export class FrameError extends Error {}

/** a buffer for a frame of `kind` whose payload is `payload` bytes, its 5-byte header written */
function frameBuffer(kind: number, payload: number, size = 5 + payload): Buffer {
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(payload + 1, 0);
  out.writeUInt8(kind, 4);
  return out;
}

export function encodeFrame(kind: number, payload: Buffer): Buffer {
  const out = frameBuffer(kind, payload.length);
  payload.copy(out, 5);
  return out;
}

/** The header of a raw bytes frame of stream `id` carrying `length` bytes (they follow it). */
export function bytesHeader(id: number, length: number): Buffer {
  const out = frameBuffer(FRAME_BYTES, 4 + length, 9);
  out.writeUInt32BE(id, 5);
  return out;
}

/** A raw bytes frame of stream `id`, in one buffer. */
export function encodeBytes(id: number, bytes: Buffer): Buffer {
  const out = frameBuffer(FRAME_BYTES, 4 + bytes.length);
  out.writeUInt32BE(id, 5);
  bytes.copy(out, 9);
  return out;
}

/** A JSON frame, the text written straight into it. */
export function encodeJson(value: unknown): Buffer {
  const text = JSON.stringify(value);
  const out = frameBuffer(FRAME_JSON, Buffer.byteLength(text, 'utf8'));
  out.write(text, 5, 'utf8');
  return out;
}

export interface Frame {
  readonly kind: number;
  readonly payload: Buffer;
}

export class FrameReader {
  /** the start of an incomplete frame and the chunks received after it */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** how many bytes must be held before parsing again: the whole frame, or its length */
  private want = 0;

  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  /** Add bytes; returns the complete frames they finish. Throws FrameError on a bad frame
   * (the stream is then unusable: the caller closes it). */
  push(chunk: Buffer): Frame[] {
    let buf = chunk;
    if (this.heldBytes > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes < this.want) return [];
      buf = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = 0;
    }
    const frames: Frame[] = [];
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (len === 0) throw new FrameError('empty frame');
      if (len > this.maxFrame + 1) throw new FrameError(`frame of ${len} bytes is over the limit of ${this.maxFrame}`);
      if (buf.length - off - 4 < len) break;
      const kind = buf.readUInt8(off + 4);
      if (kind !== FRAME_JSON && kind !== FRAME_BYTES) throw new FrameError(`unknown frame kind ${kind}`);
      if (kind === FRAME_BYTES && len < 5) throw new FrameError('bytes frame without a stream id');
      frames.push({ kind, payload: buf.subarray(off + 5, off + 4 + len) });
      off += 4 + len;
    }
    if (off < buf.length) {
      const rest = buf.subarray(off);
      this.held = [rest];
      this.heldBytes = rest.length;
      this.want = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : 4;
    }
    return frames;
  }

  /** bytes received but not yet a complete frame */
  get pending(): number {
    return this.heldBytes;
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
