/**
 * System password check for `auth` listeners without a credentials table (OpenSMTPD's
 * getspnam + crypt path): the user's hash from the shadow database, checked with
 * mail/crypt. Privileges: root (only root can read the shadow database); runs in the parent
 * because no worker keeps root. Peers: lka asks with SYSTEM_AUTH, the parent answers
 * SYSTEM_AUTH_RESULT. The user name is checked before it is handed to getent as one argv
 * element (never a shell).
 */
import { execFile } from 'node:child_process';
import { verifyPassword } from '../mail/crypt';
import { isLoginName } from '../util/users';

export type SystemAuthResult = 'ok' | 'fail' | 'tempfail';

function shadowHash(user: string): Promise<string | undefined | Error> {
  return new Promise((resolve) => {
    execFile('getent', ['shadow', user], { timeout: 5000, maxBuffer: 64 * 1024 }, (err, stdout) => {
      // getent exits 2 when the key is not found
      if (err) return resolve((err as { code?: unknown }).code === 2 ? undefined : err);
      const fields = stdout.split('\n')[0]!.split(':');
      resolve(fields[0] === user ? fields[1] : undefined);
    });
  });
}

export async function checkSystemPassword(user: string, password: string): Promise<SystemAuthResult> {
  if (!isLoginName(user) || password.length === 0) return 'fail';
  const hash = await shadowHash(user);
  if (hash instanceof Error) return 'tempfail';
  if (hash === undefined) return 'fail';
  return (await verifyPassword(password, hash)) ? 'ok' : 'fail';
}
