/**
 * The delivery helpers (src/deliver/): one process per recipient user with mail to deliver
 * (a system user, or a user of a userbase table: `name uid:gid:home`, never uid or gid 0),
 * forked on mda's request (HELPER_OPEN) and connected to mda by a socket pair. The helper
 * drops to the user at once; the parent only starts it and never sees a message body.
 * A helper lives as long as mda keeps its channel; the parent stops the ones left at shutdown.
 * Privileges: root (forks, then the helper becomes the user). Peers: mda (asks), the helpers.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { ToHelper } from '../bus/msg-deliver';
import { BUS_VERSION } from '../bus/version';
import type { Logger } from '../log/logger';
import type { Table } from '../parse/config';
import { socketPair } from '../util/socketpair';
import { isLoginName, lookupUserCached } from '../util/users';

export type HelperOpen = { ok: true; socket: Socket } | { ok: false; result: 'tempfail' | 'permfail'; text: string };

export interface HelperDeps {
  readonly workerEntry: string;
  readonly busDir: () => string;
  readonly log: Logger;
  readonly execArgv: readonly string[];
  readonly logFormat: 'pretty' | 'json';
  readonly logFd: 1 | 2;
  readonly verbose: boolean;
  readonly mailSpool: string;
  /** the tables of the configuration in use (a userbase table names its users) */
  readonly tables: () => readonly Table[];
}

export type Identity = { name: string; uid: number; gid: number; home: string; system: boolean };

/** a user of a userbase table: `name  uid:gid:home` (never root) */
function fromUserbase(tables: readonly Table[], table: string, name: string): Identity | string {
  const t = tables.find((x) => x.name === table);
  if (!t || t.kind !== 'static' || t.type !== 'mapping') return `no userbase table ${table}`;
  const hit = t.pairs.find(([k]) => k.toLowerCase() === name.toLowerCase());
  const m = hit ? /^(\d+):(\d+):(\/[^\0]*)$/.exec(hit[1].trim()) : null;
  if (!m) return hit ? `bad userbase entry for ${name} in ${table}` : `no such user ${name} in ${table}`;
  const uid = Number(m[1]);
  const gid = Number(m[2]);
  if (uid === 0 || gid === 0) return `${name} in ${table} is root: never delivered as root`;
  return { name, uid, gid, home: m[3]!, system: false };
}

/** the group that owns the system mail spool on Debian and the BSDs, if this system has it */
function mailGroup(): number | undefined {
  try {
    const line = execFileSync('getent', ['group', 'mail'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const gid = Number(line.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}


export class DeliveryHelpers {
  private readonly children = new Set<ChildProcess>();
  private readonly mailGid = mailGroup();

  constructor(private readonly deps: HelperDeps) {}

  /** who a recipient user is: a system user, or one of a userbase table; root and unknown
   * users are refused (root: a temporary failure until root is an alias) */
  resolve(userName: string, userbase: string): { ok: true; user: Identity } | { ok: false; result: 'tempfail' | 'permfail'; text: string } {
    if (!isLoginName(userName)) return { ok: false, result: 'permfail', text: `550 5.1.1 no such user ${userName.slice(0, 64)}` };
    if (userbase !== '<getpwnam>') {
      const got = fromUserbase(this.deps.tables(), userbase, userName);
      return typeof got === 'string' ? { ok: false, result: 'permfail', text: `550 5.1.1 ${got}` } : { ok: true, user: got };
    }
    const found = lookupUserCached(userName);
    if (!found) return { ok: false, result: 'permfail', text: `550 5.1.1 no such user ${userName}` };
    if (found.uid === 0) {
      // a helper never runs as root: root's mail waits until root is an alias of a user
      this.deps.log.warn({ event: 'root-delivery-refused', user: userName }, 'mail for root is not delivered as root: add "root: someone" to the aliases');
      return { ok: false, result: 'tempfail', text: '451 4.3.0 no delivery as root: make root an alias of a user (aliases(5))' };
    }
    return { ok: true, user: { ...found, system: true } };
  }

  async open(userName: string, userbase: string): Promise<HelperOpen> {
    const r = this.resolve(userName, userbase);
    if (!r.ok) return r;
    const user = r.user;
    const [forMda, forHelper] = await socketPair(this.deps.busDir());
    const child = fork(this.deps.workerEntry, ['deliver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...this.deps.execArgv] });
    this.children.add(child);
    child.on('exit', (code, signal) => {
      this.children.delete(child);
      if (code !== 0 && signal !== 'SIGTERM') this.deps.log.warn({ event: 'helper-died', user: user.name, code, signal });
    });
    child.on('error', (e) => this.deps.log.error({ event: 'helper-error', user: user.name }, e.message));
    const start: ToHelper = {
      type: 'HELPER_START',
      busVersion: BUS_VERSION,
      user: { name: user.name, uid: user.uid, gid: user.gid, home: user.home, system: user.system },
      mailSpool: this.deps.mailSpool,
      ...(this.mailGid !== undefined ? { mailGid: this.mailGid } : {}),
      logFormat: this.deps.logFormat,
      logFd: this.deps.logFd,
      verbose: this.deps.verbose,
    };
    child.send(start, forHelper as never); // sent, the handle is closed here
    this.deps.log.debug({ event: 'helper-started', user: user.name, child: child.pid });
    return { ok: true, socket: forMda };
  }

  stopAll(): void {
    for (const c of this.children) c.kill('SIGTERM');
  }
}
