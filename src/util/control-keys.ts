/**
 * Who is on the other end of the control socket. Node.js cannot read a Unix socket's peer
 * credentials (SO_PEERCRED), so a client proves its rights by what it can read instead: at each
 * start the control worker (still root) writes two random keys beside the socket,
 *   SOCKET.key-root   mode 0600, owned by root (the daemon's user when it runs unprivileged)
 *   SOCKET.key-group  mode 0640, group of the socket (the queue user's group)
 * and gives each client a fresh nonce; the client answers with HMAC-SHA256(key, nonce) for the
 * key it can read. Reading a file is the same test the kernel makes of the user's ids, so root
 * (every command) and the group (the read-only ones) are told apart as peer credentials would,
 * without trusting anything the client says about itself. A new start makes new keys.
 * Privileges: the worker side runs before the privilege drop; the client side as its user.
 * Peers: none. I/O: the two key files.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';

export type Role = 'root' | 'group';

export function keyPath(socket: string, role: Role): string {
  return `${socket}.key-${role}`;
}

export interface ControlKeys {
  readonly root: Buffer;
  readonly group: Buffer;
}

/** write new keys beside `socket` (as root: owner root, group `gid`) */
export function writeKeys(socket: string, gid: number | undefined): ControlKeys {
  const keys = { root: randomBytes(32), group: randomBytes(32) };
  for (const role of ['root', 'group'] as const) {
    const file = keyPath(socket, role);
    fs.rmSync(file, { force: true });
    // O_EXCL: never through a file or link someone else put there
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      fs.writeSync(fd, keys[role].toString('hex'));
      if (role === 'group') {
        if (gid !== undefined) fs.fchownSync(fd, process.getuid?.() ?? 0, gid);
        fs.fchmodSync(fd, 0o640);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return keys;
}

export function removeKeys(socket: string): void {
  for (const role of ['root', 'group'] as const) fs.rmSync(keyPath(socket, role), { force: true });
}

export function proof(key: Buffer, nonce: string): string {
  return createHmac('sha256', key).update(nonce).digest('hex');
}

/** the role a client proved, or undefined */
export function verify(keys: ControlKeys, nonce: string, role: Role, mac: string): Role | undefined {
  const want = Buffer.from(proof(keys[role], nonce), 'hex');
  const got = Buffer.from(/^[0-9a-f]{64}$/.test(mac) ? mac : '', 'hex');
  return got.length === want.length && timingSafeEqual(got, want) ? role : undefined;
}

/** the client's proof: with the root key if it can read it, else with the group key, else
 * none (it may then do nothing) */
export function clientProof(socket: string, nonce: string): { role: Role; mac: string } | undefined {
  for (const role of ['root', 'group'] as const) {
    let text: string;
    try {
      text = fs.readFileSync(keyPath(socket, role), 'utf8').trim();
    } catch {
      continue;
    }
    if (!/^[0-9a-f]{64}$/.test(text)) continue;
    return { role, mac: proof(Buffer.from(text, 'hex'), nonce) };
  }
  return undefined;
}
