/**
 * The privileged parent: starts the workers, connects them as the topology says, restarts a
 * worker that dies, reloads the configuration on SIGHUP and stops everything on SIGTERM.
 *
 * Privileges: the only process that stays root (when started as root); it never parses SMTP or
 * touches message bodies. Peers: every worker, over its IPC channel (setup and control); the
 * workers talk to each other over direct channels this process hands them.
 * Crash policy: a dead worker is restarted at once and its channels rebuilt; a worker that dies
 * 5 times within 60 seconds stops the daemon with a clear message.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import { ToParent, type ToWorker } from '../bus/msg-parent';
import { DecodeError } from '../bus/schema';
import { PAIRS, WORKERS, type WorkerName } from '../bus/topology';
import { BUS_VERSION } from '../bus/version';
import type { Config } from '../parse/config';
import { configFor } from './config-parts';
import { updateTable } from './table-update';
import { readForward } from './forward-file';
import type { DaemonOptions } from './options';
import { socketPair } from '../util/socketpair';
import { checkSystemPassword } from './system-auth';
import { DeliveryHelpers } from './helpers';

export const CRASH_LIMIT = 5;
export const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 100;

export interface Identity {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** Loads the configuration; returns it or the lines that explain why not. */
export type ConfigLoader = () => { config?: Config; errors: string[] };

interface WorkerState {
  readonly name: WorkerName;
  child?: ChildProcess;
  ready: boolean;
  deaths: number[];
}

export interface DaemonDeps {
  readonly options: DaemonOptions;
  readonly log: Logger;
  readonly load: ConfigLoader;
  /** identities when started as root: workers become them */
  readonly users?: { readonly daemon: Identity; readonly queue: Identity };
  readonly workerEntry: string;
}

/** TSMTPD_CPU_PROF=DIR: each worker (and helper) writes a V8 CPU profile into DIR at exit */
function workerExecArgv(): string[] {
  return process.env.TSMTPD_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TSMTPD_CPU_PROF}`] : [];
}

export class Daemon {
  private config: Config;
  private readonly workers = new Map<WorkerName, WorkerState>();
  private stopping = false;
  private busDir = '';
  private exitCode = 0;
  private resolveStopped: (code: number) => void = () => undefined;
  readonly stopped: Promise<number>;
  private readonly helpers: DeliveryHelpers;

  constructor(private readonly deps: DaemonDeps, config: Config) {
    this.config = config;
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    const o = deps.options;
    this.helpers = new DeliveryHelpers({
      workerEntry: deps.workerEntry,
      busDir: () => this.busDir,
      log: deps.log,
      execArgv: workerExecArgv(),
      logFormat: o.logFormat,
      logFd: o.logFd === 1 ? 1 : 2,
      verbose: o.verbose,
      mailSpool: o.mailSpool,
      tables: () => this.config.tables,
    });
  }

  start(): void {
    this.busDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-bus-'));
    fs.chmodSync(this.busDir, 0o700);
    for (const name of WORKERS) {
      this.workers.set(name, { name, ready: false, deaths: [] });
      this.spawn(name);
    }
    process.on('SIGTERM', () => this.stop(0, 'SIGTERM'));
    process.on('SIGINT', () => this.stop(0, 'SIGINT'));
    process.on('SIGHUP', () => this.reload());
  }

  private identityOf(name: WorkerName): Identity | undefined {
    if (!this.deps.users) return undefined;
    return name === 'queue' ? this.deps.users.queue : this.deps.users.daemon;
  }

  private send(w: WorkerState, msg: ToWorker, handle?: unknown): void {
    if (!w.child?.connected) return;
    try {
      w.child.send(msg, handle as never);
    } catch (e) {
      this.deps.log.warn({ event: 'send-failed', name: w.name }, String(e));
    }
  }

  private spawn(name: WorkerName): void {
    const w = this.workers.get(name)!;
    const o = this.deps.options;
    const child = fork(this.deps.workerEntry, [name], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // the queue's fsyncs run on libuv's thread pool: more threads, more of them at once
      ...(name === 'queue' ? { env: { ...process.env, UV_THREADPOOL_SIZE: '16' } } : {}),
      execArgv: workerExecArgv(),
    });
    w.child = child;
    w.ready = false;
    child.on('message', (raw) => this.onMessage(w, child, raw));
    child.on('exit', (code, signal) => this.onExit(w, child, code, signal));
    child.on('error', (e) => this.deps.log.error({ event: 'worker-error', name }, e.message));
    const user = this.identityOf(name);
    this.send(w, {
      type: 'WORKER_CONFIG',
      busVersion: BUS_VERSION,
      name,
      config: configFor(name, this.config, o),
      spool: o.spool,
      socket: o.socket,
      trace: [...o.trace],
      logFormat: o.logFormat,
      logFd: o.logFd === 1 ? 1 : 2,
      verbose: o.verbose,
      ...(user ? { user } : {}),
      ...(this.deps.users ? { socketGid: this.deps.users.queue.gid } : {}),
    });
  }

  private onMessage(w: WorkerState, child: ChildProcess, raw: unknown): void {
    let msg: ToParent;
    try {
      msg = ToParent.decode(raw, '');
    } catch (e) {
      const why = e instanceof DecodeError ? e.message : String(e);
      this.deps.log.error({ event: 'protocol-error', name: w.name }, `malformed message from ${w.name}: ${why}; restarting it`);
      child.kill('SIGKILL');
      return;
    }
    switch (msg.type) {
      case 'WORKER_READY':
        w.ready = true;
        this.deps.log.info({ event: 'worker-ready', name: w.name, child: msg.pid, uid: msg.uid, gid: msg.gid });
        this.connectPeers(w.name);
        return;
      case 'PING':
        this.send(w, { type: 'PONG', re: msg.reqid, pid: process.pid, name: 'parent' });
        return;
      case 'PONG':
        return;
      case 'HELPER_OPEN': {
        if (!this.askedBy(w, child, 'mda', 'ask for delivery helpers')) return;
        const { reqid, user, userbase } = msg;
        this.helpers.open(user, userbase).then(
          (r) => {
            if (w.child !== child || this.stopping) {
              if (r.ok) r.socket.destroy();
              return;
            }
            if (r.ok) {
              this.send(w, { type: 'HELPER_CHANNEL', re: reqid, user, result: 'ok', text: '' }, r.socket);
            } else this.send(w, { type: 'HELPER_CHANNEL', re: reqid, user, result: r.result, text: r.text });
          },
          (e: Error) => this.send(w, { type: 'HELPER_CHANNEL', re: reqid, user, result: 'tempfail', text: `451 4.3.0 no delivery helper: ${e.message}` }),
        );
        return;
      }
      case 'FORWARD_READ': {
        if (!this.askedBy(w, child, 'lka', 'read .forward files')) return;
        const who = this.helpers.resolve(msg.user, msg.userbase);
        const r = who.ok ? readForward(who.user) : ({ result: 'none' } as const);
        if (r.result === 'unsafe') this.deps.log.warn({ event: 'forward-ignored', user: msg.user }, `${r.text}: ignored, mail goes to the mailbox`);
        const reply =
          r.result === 'ok' ? { result: 'ok' as const, content: r.content }
          : r.result === 'tempfail' ? { result: 'tempfail' as const, text: r.text }
          : { result: 'none' as const };
        this.send(w, { type: 'FORWARD_RESULT', re: msg.reqid, ...reply });
        return;
      }
      case 'TABLE_UPDATE': {
        if (!this.askedBy(w, child, 'control', 'update tables')) return;
        const r = updateTable(this.config, msg.name);
        if (r.ok) {
          this.config = r.config;
          for (const other of this.workers.values()) this.send(other, { type: 'WORKER_RELOAD', config: configFor(other.name, r.config, this.deps.options) });
          this.deps.log.info({ event: 'table-updated', table: msg.name, entries: r.entries });
        } else this.deps.log.warn({ event: 'table-update-failed', table: msg.name }, r.text);
        this.send(w, { type: 'TABLE_UPDATE_RESULT', re: msg.reqid, ok: r.ok, text: r.ok ? `table ${msg.name}: ${r.entries} ${r.entries === 1 ? 'entry' : 'entries'}` : r.text });
        return;
      }
      case 'SYSTEM_AUTH': {
        if (!this.askedBy(w, child, 'lka', 'check passwords')) return;
        const reqid = msg.reqid;
        checkSystemPassword(msg.user, msg.password).then(
          (result) => {
            if (w.child === child) this.send(w, { type: 'SYSTEM_AUTH_RESULT', re: reqid, result });
          },
          (e: Error) => {
            this.deps.log.error({ event: 'system-auth-error' }, e.message);
            if (w.child === child) this.send(w, { type: 'SYSTEM_AUTH_RESULT', re: reqid, result: 'tempfail' });
          },
        );
        return;
      }
    }
  }

  /** a request only worker `allowed` may make: from any other it is a protocol error, and
   * that worker is restarted */
  private askedBy(w: { name: WorkerName }, child: ChildProcess, allowed: WorkerName, what: string): boolean {
    if (w.name === allowed) return true;
    this.deps.log.error({ event: 'protocol-error', name: w.name }, `${w.name} may not ${what}; restarting it`);
    child.kill('SIGKILL');
    return false;
  }

  /** Give `name` a fresh channel to each of its peers that is ready (the others will connect
   * to it when they become ready). */
  private connectPeers(name: WorkerName): void {
    for (const [a, b] of PAIRS) {
      if (a !== name && b !== name) continue;
      const other = a === name ? b : a;
      const wa = this.workers.get(a)!;
      const wb = this.workers.get(b)!;
      if (!this.workers.get(other)!.ready) continue;
      socketPair(this.busDir).then(
        ([sa, sb]) => {
          if (!wa.ready || !wb.ready || this.stopping) {
            sa.destroy();
            sb.destroy();
            return;
          }
          this.send(wa, { type: 'WORKER_CHANNEL', peer: b }, sa);
          this.send(wb, { type: 'WORKER_CHANNEL', peer: a }, sb);
          if (this.deps.options.trace.includes('imsg')) this.deps.log.info({ event: 'channel', a, b });
        },
        (e: Error) => this.deps.log.error({ event: 'channel-failed', a, b }, e.message),
      );
    }
  }

  private onExit(w: WorkerState, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (w.child !== child) return;
    w.child = undefined;
    w.ready = false;
    if (this.stopping) {
      this.checkAllStopped();
      return;
    }
    const now = Date.now();
    w.deaths = w.deaths.filter((t) => now - t < CRASH_WINDOW_MS).concat(now);
    const how = signal ? `signal ${signal}` : `exit status ${code}`;
    if (w.deaths.length >= CRASH_LIMIT) {
      this.deps.log.fatal(
        { event: 'worker-crash-loop', name: w.name },
        `worker ${w.name} died ${w.deaths.length} times within ${CRASH_WINDOW_MS / 1000} seconds (last: ${how}): stopping the daemon`,
      );
      this.stop(1, 'crash loop');
      return;
    }
    this.deps.log.error({ event: 'worker-died', name: w.name, child: child.pid, status: how }, `worker ${w.name} died (${how}): restarting it`);
    setTimeout(() => {
      if (!this.stopping) this.spawn(w.name);
    }, RESTART_DELAY_MS);
  }

  reload(): void {
    if (this.stopping) return;
    const r = this.deps.load();
    if (!r.config) {
      for (const line of r.errors) this.deps.log.error({ event: 'config-error' }, line);
      this.deps.log.error({ event: 'reload-failed' }, `configuration not reloaded (${r.errors.length} problems): still running the previous one`);
      return;
    }
    this.config = r.config;
    for (const w of this.workers.values()) this.send(w, { type: 'WORKER_RELOAD', config: configFor(w.name, r.config, this.deps.options) });
    this.deps.log.info({ event: 'config-reloaded', file: this.deps.options.configFile });
  }

  stop(code: number, why: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.exitCode = code;
    this.deps.log.info({ event: 'daemon-stopping', reason: why });
    for (const w of this.workers.values()) this.send(w, { type: 'WORKER_SHUTDOWN' });
    this.helpers.stopAll();
    const timer = setTimeout(() => {
      for (const w of this.workers.values()) {
        if (w.child) {
          this.deps.log.warn({ event: 'worker-killed', name: w.name }, `worker ${w.name} did not stop in time`);
          w.child.kill('SIGKILL');
        }
      }
    }, this.deps.options.stopTimeoutMs);
    timer.unref();
    this.checkAllStopped();
  }

  private checkAllStopped(): void {
    if ([...this.workers.values()].some((w) => w.child)) return;
    fs.rmSync(this.busDir, { recursive: true, force: true });
    this.deps.log.info({ event: 'daemon-stopped', status: this.exitCode });
    this.resolveStopped(this.exitCode);
  }

  /** pids of the running workers, by name */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.workers.values()].map((w) => [w.name, w.child?.pid]));
  }
}
