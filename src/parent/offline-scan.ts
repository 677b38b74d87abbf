/**
 * The parent's side of the offline queue (see ctl/offline.ts): now and then (at start, then
 * every OFFLINE_SCAN_MS) it lists `<spool>/offline/` and, for each complete file, starts
 * `offline-replay` as the file's owner (uid and primary group, no supplementary groups, no
 * shell), which submits it over the local socket. The parent reads no message: it only looks
 * at names and owners. Files that are not regular with one link, or whose owner is unknown, are
 * logged and left alone.
 * Privileges: root (to start a process as the owner); as a normal user only that user's files.
 * Peers: the replay processes it starts.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import { OFFLINE_NAME, offlineDir } from '../util/local-enqueue';
import { lookupUserById } from '../util/users';

export const OFFLINE_SCAN_MS = 60_000;

export interface OfflineScanDeps {
  readonly spool: string;
  readonly controlSocket: string;
  readonly log: Logger;
}

/** Make the offline directory: every local user may add files (sticky, write-only for them). */
export function prepareOfflineDir(spool: string): void {
  const dir = offlineDir(spool);
  fs.mkdirSync(dir, { recursive: true, mode: 0o1733 });
  if (process.getuid!() === 0) fs.chownSync(dir, 0, 0);
  fs.chmodSync(dir, 0o1733);
}

export class OfflineScanner {
  private readonly running = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: OfflineScanDeps) {}

  start(firstDelayMs: number): void {
    const tick = () => {
      this.scan();
      this.timer = setTimeout(tick, OFFLINE_SCAN_MS);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, firstDelayMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  scan(): void {
    const dir = offlineDir(this.deps.spool);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (e) {
      this.deps.log.error({ event: 'offline-scan-failed', dir }, (e as Error).message);
      return;
    }
    const me = process.getuid!();
    for (const name of names) {
      if (!OFFLINE_NAME.test(name) || this.running.has(name)) continue;
      const file = path.join(dir, name);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(file);
      } catch {
        continue;
      }
      if (!st.isFile() || st.nlink !== 1) {
        this.deps.log.warn({ event: 'offline-skipped', file }, 'not a regular file with one link: left alone');
        continue;
      }
      const owner = lookupUserById(st.uid);
      if (!owner || (me !== 0 && st.uid !== me)) {
        this.deps.log.warn({ event: 'offline-skipped', file, uid: st.uid }, owner ? 'owned by another user, and smtpd is not root' : 'its owner has no passwd entry');
        continue;
      }
      this.replay(name, file, me === 0 ? { uid: owner.uid, gid: owner.gid } : {});
    }
  }

  private replay(name: string, file: string, ids: { uid?: number; gid?: number }): void {
    this.running.add(name);
    const script = path.join(__dirname, '..', 'ctl', 'offline-replay.js');
    const child = spawn(process.execPath, [script, this.deps.controlSocket, file], {
      ...ids,
      cwd: '/',
      env: { PATH: '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => {
      this.running.delete(name);
      this.deps.log.error({ event: 'offline-replay-failed', file }, e.message);
    });
    child.on('exit', (code) => {
      this.running.delete(name);
      const text = out.trim().slice(0, 1000);
      if (code === 0) this.deps.log.info({ event: 'offline-replayed', file }, text);
      else this.deps.log.warn({ event: 'offline-replay-failed', file, code }, text);
    });
  }
}
