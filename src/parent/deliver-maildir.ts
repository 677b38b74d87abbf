/**
 * Maildir delivery, done by the parent as the recipient user: the effective uid/gid switch to
 * the user around synchronous file operations (as Postfix's local does), so every file and
 * directory is the user's and no path the user controls is followed as root.
 *
 * Steps: create Maildir/{tmp,new,cur} (0700) if missing, write tmp/<unique> (O_EXCL,
 * O_NOFOLLOW, 0600), fsync, link it into new/, remove the tmp name, fsync new/. With `junk`,
 * a message marked `X-Spam: yes` goes to the .Junk folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asUser } from '../util/privileges';
import { lookupUserCached } from '../util/users';

export interface DeliveryResult {
  readonly result: 'ok' | 'tempfail' | 'permfail';
  readonly text: string;
}

let counter = 0;

function uniqueName(): string {
  const now = Date.now();
  return `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${++counter}.${os.hostname().replace(/[/:]/g, '_')}`;
}

function isJunk(content: Buffer): boolean {
  const end = content.indexOf('\r\n\r\n');
  const head = content.subarray(0, end < 0 ? Math.min(content.length, 65536) : end).toString('latin1');
  return /^X-Spam:\s*yes\b/im.test(head);
}

/** The maildir of `user`: ~/Maildir, `~/x` in the home, or an absolute path (format
 * specifiers %{user.username} and %{user.directory} expanded, values sanitized). */
export function maildirPath(spec: string | undefined, user: { name: string; home: string }): string {
  if (spec === undefined) return path.join(user.home, 'Maildir');
  const safe = (v: string) => v.replace(/[^A-Za-z0-9_.@+-]/g, ':');
  const expanded = spec
    .replace(/%\{user\.username\}/g, safe(user.name))
    .replace(/%\{user\.directory\}/g, user.home);
  if (expanded.startsWith('~/')) return path.join(user.home, expanded.slice(2));
  return path.isAbsolute(expanded) ? path.normalize(expanded) : path.join(user.home, expanded);
}

function writeMaildir(dir: string, content: Buffer): string {
  for (const sub of ['', 'tmp', 'new', 'cur']) fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o700 });
  const name = uniqueName();
  const tmp = path.join(dir, 'tmp', name);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    let off = 0;
    while (off < content.length) off += fs.writeSync(fd, content, off, content.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const final = path.join(dir, 'new', name);
  fs.linkSync(tmp, final);
  fs.unlinkSync(tmp);
  const dfd = fs.openSync(path.join(dir, 'new'), 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
  return final;
}

export function deliverMaildir(userName: string, spec: string | undefined, junk: boolean, content: Buffer): DeliveryResult {
  const user = lookupUserCached(userName);
  if (!user) return { result: 'permfail', text: `550 5.1.1 no such user ${userName}` };
  let dir = maildirPath(spec, user);
  if (junk && isJunk(content)) dir = path.join(dir, '.Junk');
  try {
    const file = asUser(user.uid, user.gid, () => writeMaildir(dir, content));
    return { result: 'ok', text: `delivered to ${file}` };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { result: 'tempfail', text: `451 4.2.0 maildir ${dir}: ${err.code ?? err.message}` };
  }
}
