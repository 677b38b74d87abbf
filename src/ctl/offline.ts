/**
 * The offline queue: when smtpd is down, sendmail leaves each message in `<spool>/offline/` (a
 * sticky directory every local user may write to but not read), in a file of its own that only
 * its owner can read. The parent finds these files when smtpd runs and has each one submitted
 * by a process running as the file's owner (offline-replay.ts): the owner is who sent it.
 * File: `tsmtpd-offline 1` line, a JSON line {sender, recipients}, then the message (CRLF).
 * Written under a name starting with "." and renamed when complete.
 * Privileges: those of the user who runs sendmail (write), or of the file's owner (read).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { offlineDir } from '../util/local-enqueue';
import type { Submission } from './smtp-submit';

const MAGIC = 'tsmtpd-offline 1';

export function writeOffline(spool: string, s: Submission): string {
  const dir = offlineDir(spool);
  const name = `${Date.now()}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = path.join(dir, `.${name}`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, `${MAGIC}\n${JSON.stringify({ sender: s.sender, recipients: s.recipients })}\n`);
    fs.writeSync(fd, s.message);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const file = path.join(dir, name);
  fs.renameSync(tmp, file);
  return file;
}

export class OfflineFileError extends Error {}

/** Read an offline file that must belong to the calling user (no link, no other owner). */
export function readOffline(file: string, uid: number): Submission {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  let data: Buffer;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1 || st.uid !== uid) throw new OfflineFileError(`${file}: not a regular file of uid ${uid} with one link`);
    data = fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const first = data.indexOf(0x0a);
  const second = first < 0 ? -1 : data.indexOf(0x0a, first + 1);
  if (second < 0 || data.subarray(0, first).toString('latin1') !== MAGIC) throw new OfflineFileError(`${file}: not an offline message`);
  let meta: unknown;
  try {
    meta = JSON.parse(data.subarray(first + 1, second).toString('utf8'));
  } catch {
    throw new OfflineFileError(`${file}: unreadable envelope line`);
  }
  const m = meta as { sender?: unknown; recipients?: unknown };
  if (typeof m.sender !== 'string' || !Array.isArray(m.recipients) || !m.recipients.every((r) => typeof r === 'string')) {
    throw new OfflineFileError(`${file}: unreadable envelope line`);
  }
  return { sender: m.sender, recipients: m.recipients as string[], message: data.subarray(second + 1) };
}
