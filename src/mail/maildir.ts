/**
 * Maildir delivery (maildir(5)): create Maildir/{tmp,new,cur} (0700) when missing, write
 * tmp/<unique> (O_EXCL, O_NOFOLLOW, 0600), fsync it, link it into new/, remove the tmp name,
 * fsync new/. With `junk`, a message marked `X-Spam: yes` goes to the .Junk folder.
 * Privileges: none of its own: the delivery helper runs it as the recipient user, so every
 * file and directory is the user's and no path the user controls is followed by anyone else.
 */
import * as fsp from 'node:fs/promises';
import { constants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandFormat, type FormatVars } from './format';

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

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Deliver `content` into the maildir `dir` (its .Junk folder for junk); returns the file. */
export async function deliverToMaildir(dir: string, content: Buffer, junk: boolean): Promise<string> {
  const target = junk && isJunk(content) ? path.join(dir, '.Junk') : dir;
  for (const sub of ['', 'tmp', 'new', 'cur']) await fsp.mkdir(path.join(target, sub), { recursive: true, mode: 0o700 });
  const name = uniqueName();
  const tmp = path.join(target, 'tmp', name);
  const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const final = path.join(target, 'new', name);
  await fsp.link(tmp, final);
  await fsp.unlink(tmp);
  await fsyncDir(path.join(target, 'new'));
  return final;
}
