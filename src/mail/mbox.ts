/**
 * mbox delivery, as mail.local(8) does it: append to <spool>/<user> under a dot-lock
 * (<user>.lock, made with O_EXCL; one older than STALE_LOCK_MS is broken), the message in
 * mboxrd form: a `From <sender> <date>` line, the lines with LF ends, every line that starts
 * with `From ` (after any number of `>`) quoted with one more `>`, and an empty line after it.
 * The mailbox is created 0600 when missing; an existing one must be a regular file of the
 * user with one link (never a symlink: O_NOFOLLOW). A failed write is cut back off.
 * Privileges: none of its own: the delivery helper runs it as the recipient user, with the
 * mail group when the spool needs it. Pure apart from the mailbox and its lock.
 * Deliveries of one process to one mailbox take turns (they would meet at the lock and sleep);
 * only the fsync goes to the thread pool.
 */
import * as fs from 'node:fs';
import { constants } from 'node:fs';
import * as path from 'node:path';
import { fsyncAsync, writeAll } from '../util/fd-io';

export const STALE_LOCK_MS = 5 * 60_000;
const LOCK_WAIT_MS = 10_000;

/** `Thu Jan  1 00:00:00 2025`, the asctime(3) form of the From_ line, in UTC */
export function asctime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The mboxrd entry of a message (CRLF or LF line ends in, LF out). */
export function mboxEntry(sender: string, content: Buffer, date: Date): Buffer {
  const from = sender === '' ? 'MAILER-DAEMON' : sender.replace(/[^\x21-\x7e]/g, '_');
  const text = content.toString('latin1').replace(/\r\n/g, '\n');
  const body = text.replace(/^(>*From )/gm, '>$1');
  const ended = body.endsWith('\n') ? body : `${body}\n`;
  return Buffer.from(`From ${from} ${asctime(date)}\n${ended}\n`, 'latin1');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function lock(file: string): Promise<() => void> {
  const name = `${file}.lock`;
  const end = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(name, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
      return () => fs.rmSync(name, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const st = fs.lstatSync(name, { throwIfNoEntry: false });
    if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) {
      fs.rmSync(name, { force: true });
      continue;
    }
    if (Date.now() > end) throw Object.assign(new Error(`${path.basename(name)} is held by another program`), { code: 'ELOCKED' });
    await sleep(100);
  }
}

/** Deliveries of this process to one mailbox, one after the other: they would otherwise meet
 * at the dot-lock and wait for it in steps of 100 ms. */
const turns = new Map<string, Promise<unknown>>();

function inTurn<T>(file: string, work: () => Promise<T>): Promise<T> {
  const before = turns.get(file) ?? Promise.resolve();
  const mine = before.then(work, work);
  const settled = mine.catch(() => undefined);
  turns.set(file, settled);
  void settled.then(() => {
    if (turns.get(file) === settled) turns.delete(file);
  });
  return mine;
}

/** Append `content` to the mailbox `file` of the user `uid`; returns the mailbox. */
export function deliverToMbox(file: string, uid: number, sender: string, content: Buffer, now = new Date()): Promise<string> {
  return inTurn(file, () => append(file, uid, mboxEntry(sender, content, now)));
}

async function append(file: string, uid: number, entry: Buffer): Promise<string> {
  const unlock = await lock(file);
  try {
    const fd = fs.openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.uid !== uid || st.nlink !== 1) {
        throw Object.assign(new Error('the mailbox is not a plain file of its user'), { code: 'EUNSAFE' });
      }
      try {
        writeAll(fd, entry);
        await fsyncAsync(fd);
      } catch (e) {
        try {
          fs.ftruncateSync(fd, st.size); // never leave half a message
        } catch {
          // the error below says what went wrong
        }
        throw e;
      }
    } finally {
      fs.closeSync(fd);
    }
    return file;
  } finally {
    unlock();
  }
}
