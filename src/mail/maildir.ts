/**
 * Maildir delivery (maildir(5)): create Maildir/{tmp,new,cur} (0700) when missing, write
 * tmp/<unique> (O_EXCL, O_NOFOLLOW, 0600), fsync it, link it into new/, remove the tmp name,
 * fsync new/. With `junk`, a message marked `X-Spam: yes` goes to the .Junk folder.
 * Speed: the directories are made only when the tmp file cannot be created; the two fsyncs run
 * on libuv's thread pool, the rest (microseconds against the page cache) at once: a round trip
 * to a pool thread costs two thread wake-ups, more than those operations do. Deliveries into
 * the same new/ at once share its fsync (group-sync.ts).
 * Privileges: none of its own: the delivery helper runs it as the recipient user, so every
 * file and directory is the user's and no path the user controls is followed by anyone else.
 */
import * as fs from 'node:fs';
import { constants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandFormat, type FormatVars } from './format';
import { fsyncAsync, writeAll } from '../util/fd-io';
import { GroupSync } from '../util/group-sync';

let counter = 0;

function uniqueName(): string {
  const now = Date.now();
  return `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${++counter}.${os.hostname().replace(/[/:]/g, '_')}`;
}

/** the header block says `X-Spam: yes` */
export function isJunk(content: Buffer): boolean {
  const end = content.indexOf('\r\n\r\n');
  const head = content.subarray(0, end < 0 ? Math.min(content.length, 65536) : end).toString('latin1');
  return /^X-Spam:\s*yes\b/im.test(head);
}

/** The maildir of `vars.user`: ~/Maildir, `~/x` in the home, an absolute path, or one
 * relative to the home, after its format specifiers are expanded (see format.ts; throws
 * FormatError for a bad one). */
export function maildirPath(spec: string | undefined, vars: FormatVars): string {
  const home = vars.user.home;
  if (spec === undefined) return path.join(home, 'Maildir');
  const expanded = expandFormat(spec, vars);
  if (expanded.startsWith('~/')) return path.join(home, expanded.slice(2));
  return path.isAbsolute(expanded) ? path.normalize(expanded) : path.join(home, expanded);
}

/** fsync on libuv's thread pool, then close */
function syncAndClose(fd: number): Promise<void> {
  return fsyncAsync(fd).finally(() => fs.closeSync(fd));
}

/** one GroupSync per new/ directory delivered into by this process */
const newDirSyncs = new Map<string, GroupSync>();

function syncNewDir(dir: string): Promise<void> {
  let g = newDirSyncs.get(dir);
  if (!g) {
    if (newDirSyncs.size >= 1000) newDirSyncs.clear();
    g = new GroupSync(() => Promise.resolve().then(() => syncAndClose(fs.openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY))));
    newDirSyncs.set(dir, g);
  }
  return g.sync();
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** create tmp/<name>, making the maildir's directories when they are missing */
function createTmp(target: string, tmp: string): number {
  try {
    return fs.openSync(tmp, CREATE, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  makeDirs(target);
  return fs.openSync(tmp, CREATE, 0o600);
}

function makeDirs(target: string): void {
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(target, sub), { recursive: true, mode: 0o700 });
}

/** Deliver `content` into the maildir `dir` (its .Junk folder for junk); returns the file. */
export async function deliverToMaildir(dir: string, content: Buffer, junk: boolean): Promise<string> {
  const target = junk && isJunk(content) ? path.join(dir, '.Junk') : dir;
  const name = uniqueName();
  const tmp = path.join(target, 'tmp', name);
  const fd = createTmp(target, tmp);
  try {
    writeAll(fd, content);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  await syncAndClose(fd);
  const final = path.join(target, 'new', name);
  try {
    fs.linkSync(tmp, final);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    makeDirs(target); // a maildir with tmp/ but no new/
    fs.linkSync(tmp, final);
  }
  fs.unlinkSync(tmp);
  await syncNewDir(path.join(target, 'new'));
  return final;
}
