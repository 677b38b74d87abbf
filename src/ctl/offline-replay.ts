/**
 * Sends one file of the offline queue (see offline.ts), started by the parent as the file's
 * owner once smtpd runs: the message is submitted over the local socket as that user, then the
 * file is removed. A message smtpd refuses for good is renamed `<file>.refused` (kept for its
 * owner, never tried again); a temporary refusal leaves it for the next scan.
 * Usage: node offline-replay.js SOCKET FILE. Exit 0 when the file is done with.
 * Privileges: the file owner's, nothing more. Peers: smtp, over the local socket.
 */
import * as fs from 'node:fs';
import { localSocketPath } from '../util/local-enqueue';
import { readOffline } from './offline';
import { submit } from './smtp-submit';

/** how long to wait for smtp's local socket (the daemon may be starting) */
const CONNECT_WAIT_MS = 30_000;

export async function replay(controlSocket: string, file: string, uid: number): Promise<number> {
  const s = readOffline(file, uid);
  const deadline = Date.now() + CONNECT_WAIT_MS;
  for (;;) {
    const r = await submit(localSocketPath(controlSocket), s);
    if (r.ok) {
      fs.unlinkSync(file);
      process.stdout.write(`offline message ${file} sent: ${r.reply}\n`);
      return 0;
    }
    if (r.stage === 'unreachable' && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      continue;
    }
    if (r.code >= 500) {
      fs.renameSync(file, `${file}.refused`);
      process.stderr.write(`offline message ${file} refused at ${r.stage}: ${r.reply} (kept as ${file}.refused)\n`);
      return 0;
    }
    process.stderr.write(`offline message ${file} not sent yet: ${r.reply}\n`);
    return 1;
  }
}

if (require.main === module) {
  const [socket, file] = process.argv.slice(2);
  if (!socket || !file) {
    process.stderr.write('usage: offline-replay SOCKET FILE\n');
    process.exitCode = 64;
  } else {
    replay(socket, file, process.getuid!()).then(
      (code) => (process.exitCode = code),
      (e: Error) => {
        process.stderr.write(`offline message ${file}: ${e.message}\n`);
        process.exitCode = 1;
      },
    );
  }
}
