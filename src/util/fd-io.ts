/**
 * Writing to an open file the way the spool and the mailboxes do: the write in place (it only
 * reaches the page cache: microseconds), the fsync on libuv's thread pool (it waits for the
 * disk). A round trip to a pool thread costs two thread wake-ups, more than a write does.
 * No state.
 */
import * as fs from 'node:fs';

/** write all of `data` at the file's current offset (or its end, with O_APPEND) */
export function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done);
}

/** fsync on libuv's thread pool: the one file operation that waits for the disk */
export function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));
}
