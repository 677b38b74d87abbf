/**
 * Starting the real smtpd (bin/smtpd -d) for end-to-end tests, in a temporary directory with
 * its own spool, control socket and pid file; reading its logs; asking it for its status over
 * the control socket; and the system users the tests need (created when missing: CI runs as
 * root on a fresh machine).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlClient } from '../src/ctl/client';
import { fromRoot } from './helpers';

export const WORKER_NAMES = ['control', 'lka', 'queue', 'scheduler', 'smtp', 'mta', 'mda'];

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** A user with a home directory (created when missing, needs root); returns its home too. */
export function ensureUserWithHome(name: string): TestUser & { home: string } {
  try {
    execFileSync('getent', ['passwd', name]);
  } catch {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-home-`));
    fs.rmSync(home, { recursive: true });
    execFileSync('useradd', ['--create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', '--user-group', name]);
  }
  const f = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  const u = { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
  fs.mkdirSync(u.home, { recursive: true, mode: 0o755 });
  fs.chownSync(u.home, u.uid, u.gid);
  return u;
}

/** A system user, created with useradd when it does not exist (needs root). */
export function ensureUser(name: string): TestUser {
  const read = () => execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  let f: string[];
  try {
    f = read();
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/var/empty', '--shell', '/usr/sbin/nologin', '--user-group', name]);
    f = read();
  }
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
}

export function assertRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this test starts the daemon as root and creates users: run it as root (CI does)');
}

export interface DaemonRun {
  readonly proc: ChildProcess;
  readonly dir: string;
  readonly conf: string;
  readonly socket: string;
  readonly pidfile: string;
  readonly spool: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logs(): string;
  stdout(): string;
  stderr(): string;
  waitLog(re: RegExp, timeoutMs?: number): Promise<string>;
  status(): Promise<Record<string, string>>;
  /** wait until every process answers; returns their pids by name */
  waitHealthy(timeoutMs?: number, differentFrom?: Record<string, number>): Promise<Record<string, number>>;
}

export interface StartOptions {
  readonly conf?: string;
  /** run the daemon as this user instead of the test's (root) user */
  readonly as?: TestUser;
  readonly args?: readonly string[];
  /** -d (default: human-readable on stderr) or -F (JSON on stdout) */
  readonly mode?: '-d' | '-F';
  /** reuse the directory (spool, socket) of an earlier run */
  readonly dir?: string;
  /** run the daemon under this command (e.g. strace and its options) */
  readonly wrap?: readonly string[];
}

/** a DNS "server" that refuses every query (UDP port 9, discard, has no listener) */
export const NO_DNS = '127.0.0.1:9';

export const SIMPLE_CONF = 'action "local" mbox\nmatch for local action "local"\n';

/** as root, the workers run as nobody (the tests need no _smtpd user then) */
export const WORKERS_AS_NOBODY: { args?: readonly string[] } = process.getuid?.() === 0 ? { args: ['--user', 'nobody', '--queue-user', 'nobody'] } : {};

/** A configuration for mail to local.test, whose one user alice is kept in the spool (her
 * maildir does not exist: delivery fails temporarily), with these lines before the rules. */
export function localTestConf(lines: readonly string[]): string {
  return [
    'table domains { local.test }',
    'table users { alice = "1001:1001:/nonexistent" }',
    ...lines,
    'action "local" maildir userbase <users>',
    'match from any for domain <domains> action "local"',
    '',
  ].join('\n');
}

/** A TCP port free on 127.0.0.1 right now (for a listener of the daemon under test). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function startDaemon(opts: StartOptions = {}): Promise<DaemonRun> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-daemon-'));
  fs.chmodSync(dir, 0o755); // the workers' users must reach the spool below it
  const conf = path.join(dir, 'smtpd.conf');
  fs.writeFileSync(conf, opts.conf ?? SIMPLE_CONF);
  fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
  if (opts.as) {
    for (const p of [dir, conf, path.join(dir, 'run')]) fs.chownSync(p, opts.as.uid, opts.as.gid);
  }
  const socket = path.join(dir, 'run', 'smtpd.sock');
  const pidfile = path.join(dir, 'run', 'smtpd.pid');
  const spool = path.join(dir, 'spool');
  // no test asks the machine's DNS: unless it brings its own server, lookups go to a port where
  // nothing answers (a temporary failure: relayed mail stays queued)
  const resolver = opts.args?.includes('--resolver') ? [] : ['--resolver', NO_DNS];
  const args = [fromRoot('bin', 'smtpd'), opts.mode ?? '-d', '-f', conf, '--spool', spool, '--socket', socket, '--pidfile', pidfile, ...resolver, ...(opts.args ?? [])];
  const [cmd, ...cmdArgs] = [...(opts.wrap ?? []), process.execPath, ...args];
  const proc = spawn(cmd!, cmdArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.as ? { uid: opts.as.uid, gid: opts.as.gid } : {}),
  });
  let logs = '';
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => {
    logs += d.toString();
    stdout += d.toString();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    logs += d.toString();
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const run: DaemonRun = {
    proc,
    dir,
    conf,
    socket,
    pidfile,
    spool,
    exited,
    logs: () => logs,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitLog(re, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const m = re.exec(logs);
        if (m) return m[0];
        await sleep(50);
      }
      throw new Error(`no log line matching ${re} within ${timeoutMs} ms; logs:\n${logs}`);
    },
    async status() {
      const c = await ControlClient.connect(socket, 3000);
      try {
        return await c.status(3000);
      } finally {
        c.close();
      }
    },
    async waitHealthy(timeoutMs = 10_000, differentFrom) {
      const end = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < end) {
        try {
          const s = await run.status();
          const pids: Record<string, number> = {};
          for (const [k, v] of Object.entries(s)) {
            const m = /^ok pid (\d+)$/.exec(v);
            if (m) pids[k] = Number(m[1]);
          }
          const all = ['parent', ...WORKER_NAMES].every((n) => pids[n] !== undefined);
          const changed = !differentFrom || Object.entries(differentFrom).every(([k, v]) => pids[k] !== v);
          if (all && changed) return pids;
          last = JSON.stringify(s);
        } catch (e) {
          last = (e as Error).message;
        }
        await sleep(100);
      }
      throw new Error(`the daemon did not become healthy within ${timeoutMs} ms (last: ${last}); logs:\n${logs}`);
    },
  };
  return run;
}

/** `user pid ppid args` of every process */
export function processTable(): { user: string; pid: number; ppid: number; args: string }[] {
  const out = execFileSync('ps', ['-eo', 'user:32=,pid=,ppid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => {
    const m = /^\s*(\S+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
    return { user: m[1]!, pid: Number(m[2]), ppid: Number(m[3]), args: m[4]! };
  });
}

export async function stopDaemon(run: DaemonRun): Promise<void> {
  if (run.proc.exitCode === null && run.proc.signalCode === null) {
    // Under a wrapper (strace), signal smtpd itself: a signalled strace would detach and leave
    // the daemon running (and holding the test's pipes).
    let pid = 0;
    try {
      pid = Number(fs.readFileSync(run.pidfile, 'utf8'));
    } catch {
      // no pid file yet
    }
    if (pid > 0 && pid !== run.proc.pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    } else run.proc.kill('SIGTERM');
    const t = setTimeout(() => run.proc.kill('SIGKILL'), 15_000);
    await run.exited;
    clearTimeout(t);
  }
}
