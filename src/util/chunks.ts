/**
 * The pieces of a message body received from the bus, as one buffer: the piece itself when
 * there is one (most bodies: a frame carries up to 256 KiB), copied together otherwise.
 * Purpose: no copy of a body that arrived whole. No I/O, no state.
 */
export function joinChunks(chunks: readonly Buffer[] | undefined): Buffer {
  if (!chunks || chunks.length === 0) return Buffer.alloc(0);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
