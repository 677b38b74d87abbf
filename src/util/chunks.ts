/**
 * The pieces of a message body received from the bus, as one buffer: the piece itself when
 * there is one (most bodies: a frame carries up to 256 KiB), copied together otherwise; and
 * the pieces of the bodies still arriving, by stream. Purpose: no copy of a body that arrived
 * whole. No I/O.
 */
export function joinChunks(chunks: readonly Buffer[] | undefined): Buffer {
  if (!chunks || chunks.length === 0) return Buffer.alloc(0);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Pieces of bodies arriving on numbered streams, kept until each body is complete. The pieces
 * are kept as they are: the sender never reuses a buffer it has handed out. */
export class StreamPieces {
  private readonly streams = new Map<number, Buffer[]>();

  add(id: number, piece: Buffer): void {
    const list = this.streams.get(id);
    if (list) list.push(piece);
    else this.streams.set(id, [piece]);
  }

  /** the whole body of stream `id` (empty when nothing came), forgotten here */
  take(id: number): Buffer {
    const body = joinChunks(this.streams.get(id));
    this.streams.delete(id);
    return body;
  }

  clear(): void {
    this.streams.clear();
  }
}
