/**
 * Starting the daemon: check who we are and who the workers will be, prepare the spool and
 * run directories and the pid file, then run the Daemon until it stops.
 *
 * Privileges: as root, the workers become --user (and --queue-user for the queue); a missing
 * user is a clear error naming the fix. As a normal user everything runs as that user, with
 * one warning (this is what `npm start` does).
 */
import { removeKeys } from '../util/control-keys';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createLogger, type Logger } from '../log/logger';
import { currentIdentity } from '../util/privileges';
import { lookupUser } from '../util/users';
import { Daemon, type ConfigLoader, type Identity } from './daemon';
import { OfflineScanner, prepareOfflineDir } from './offline-scan';
import { localSocketPath } from '../util/local-enqueue';
import type { DaemonOptions } from './options';

export class StartError extends Error {}

function userOrFail(name: string, role: string): Identity {
  const u = lookupUser(name);
  if (!u) {
    throw new StartError(
      `the ${role} user "${name}" does not exist: create it (useradd --system --home-dir /var/empty --shell /usr/sbin/nologin ${name}) or name another with --${role === 'queue' ? 'queue-user' : 'user'}`,
    );
  }
  if (u.uid === 0) throw new StartError(`the ${role} user "${name}" is root: workers must not run as root`);
  return { name: u.name, uid: u.uid, gid: u.gid };
}

/** The queue user must be able to reach the spool: every directory above it searchable. */
function checkReachable(spool: string, queue: Identity): void {
  for (let dir = path.dirname(spool); ; dir = path.dirname(dir)) {
    const st = fs.statSync(dir);
    const searchable = st.mode & 0o001 || (st.uid === queue.uid && st.mode & 0o100) || (st.gid === queue.gid && st.mode & 0o010);
    if (!searchable) {
      throw new StartError(`the queue user "${queue.name}" cannot reach the spool ${spool}: ${dir} is not searchable by it (chmod o+x ${dir}, or choose another --spool)`);
    }
    if (dir === path.dirname(dir)) return;
  }
}

function prepareDirs(o: DaemonOptions, queue: Identity | undefined): void {
  fs.mkdirSync(o.spool, { recursive: true, mode: 0o700 });
  if (queue) checkReachable(o.spool, queue);
  if (queue) fs.chownSync(o.spool, queue.uid, queue.gid);
  // searchable by everyone (not readable): local users reach offline/ through it
  fs.chmodSync(o.spool, 0o711);
  prepareOfflineDir(o.spool);
  fs.mkdirSync(path.dirname(o.socket), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.dirname(o.pidfile), { recursive: true, mode: 0o755 });
}

/** remove a socket file we made (never another kind of file found at that path) */
function removeSocket(file: string): void {
  try {
    if (fs.lstatSync(file).isSocket()) fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

function writePidfile(file: string): void {
  try {
    const old = Number(fs.readFileSync(file, 'utf8').trim());
    if (old > 0 && old !== process.pid) {
      process.kill(old, 0);
      throw new StartError(`smtpd is already running with pid ${old} (${file}); stop it first`);
    }
  } catch (e) {
    if (e instanceof StartError) throw e;
    // no pid file, or a stale one: ours replaces it
  }
  fs.writeFileSync(file, `${process.pid}\n`, { mode: 0o644 });
}

/** Run the daemon in this process until it stops; returns the exit status. */
export async function runDaemon(options: DaemonOptions, load: ConfigLoader, log?: Logger): Promise<number> {
  const logger = log ?? createLogger({ worker: 'parent', format: options.logFormat, verbose: options.verbose, fd: options.logFd });
  process.title = 'smtpd: parent';
  const first = load();
  if (!first.config) {
    for (const line of first.errors) logger.error({ event: 'config-error' }, line);
    return 1;
  }
  let users: { daemon: Identity; queue: Identity } | undefined;
  const me = currentIdentity();
  try {
    if (me.uid === 0) {
      users = { daemon: userOrFail(options.user, 'daemon'), queue: userOrFail(options.queueUser, 'queue') };
    } else {
      logger.warn({ event: 'not-root', uid: me.uid }, `not started as root: every worker runs as uid ${me.uid}, without privilege separation`);
    }
    prepareDirs(options, users?.queue);
    writePidfile(options.pidfile);
  } catch (e) {
    logger.fatal({ event: 'start-failed' }, (e as Error).message);
    return 1;
  }
  const daemon = new Daemon(
    { options, log: logger, load, workerEntry: path.join(__dirname, '..', 'worker.js'), ...(users ? { users } : {}) },
    first.config,
  );
  logger.info({ event: 'daemon-starting', config: options.configFile, spool: options.spool, socket: options.socket });
  daemon.start();
  // messages sendmail left while smtpd was down: sent once smtp listens
  const offline = new OfflineScanner({ spool: options.spool, controlSocket: options.socket, log: logger });
  offline.start(1000);
  const code = await daemon.stopped;
  offline.stop();
  fs.rmSync(options.socket, { force: true });
  removeKeys(options.socket);
  removeSocket(localSocketPath(options.socket));
  fs.rmSync(options.pidfile, { force: true });
  return code;
}
