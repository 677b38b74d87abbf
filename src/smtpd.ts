/**
 * `smtpd`: the daemon's entry point: flags, `-n` check mode, and starting the privileged
 * parent (src/parent/), in the foreground (-d, -F) or detached.
 *
 * Exit status: 0 (configuration OK / daemon stopped cleanly), 1 (configuration errors, start
 * failure, crash loop), 2 (usage). Privileges: whatever it was started with; see parent/main.ts.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { formatDiagnostic } from './parse/diagnostics';
import { dumpConfig } from './parse/dump';
import { loadConfig } from './parse/load';
import { runDaemon } from './parent/main';
import type { DaemonOptions } from './parent/options';
import { stdio, type Io } from './util/stdio';
import { parseCount, parseDelay } from './util/units';

export const DEFAULT_CONFIG = '/etc/mail/smtpd.conf';
export const DETACHED_ENV = 'TSMTPD_DETACHED';

interface Flags {
  n?: boolean;
  v?: boolean;
  d?: boolean;
  F?: boolean;
  f: string;
  D: Record<string, string>;
  T: string[];
  spool: string;
  socket: string;
  user: string;
  queueUser: string;
  pidfile: string;
  logFile: string;
  smtpTimeout: number;
  dataTimeout: number;
  maxSessions: number;
  maxSessionsPerIp: number;
  mailSpool: string;
  resolver?: string;
  mxPort: number;
  mtaTimeout: number;
}

function portFlag(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (1-65535)`);
  return n;
}

/** host:port, [v6]:port, or a bare address (port 53) */
function resolverFlag(value: string): string {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(value) ?? /^([0-9.]+|[^:[\]]+)(?::(\d+))?$/.exec(value);
  if (!m || net.isIP(m[1]!) === 0) throw new InvalidArgumentError(`"${value}" is not an address[:port] of a DNS server, e.g. 127.0.0.1:5353 or [::1]:5353`);
  const port = m[2] === undefined ? 53 : portFlag(m[2]);
  return net.isIPv6(m[1]!) ? `[${m[1]}]:${port}` : `${m[1]}:${port}`;
}

function delayFlag(value: string): number {
  const s = parseDelay(value);
  if (s === undefined || s === 0) throw new InvalidArgumentError(`invalid delay "${value}": expected a number and a unit (s, m, h), as 300s or 5m`);
  return s;
}

function countFlag(value: string): number {
  const n = parseCount(value, 1_000_000);
  if (n === undefined || n === 0) throw new InvalidArgumentError(`invalid count "${value}": expected a positive number`);
  return n;
}

function collectMacro(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`invalid macro "${value}": expected -D name=value`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

const TRACE_SUBSYSTEMS = ['imsg'];

function collectTrace(value: string, previous: string[]): string[] {
  if (!TRACE_SUBSYSTEMS.includes(value)) {
    throw new InvalidArgumentError(`unknown trace subsystem "${value}" (known: ${TRACE_SUBSYSTEMS.join(', ')})`);
  }
  return [...previous, value];
}

function program(io: Io): Command {
  return new Command('smtpd')
    .description('tsmtpd mail transfer agent')
    .option('-n', 'check the configuration and exit')
    .option('-v', 'verbose: with -n, print the configuration as understood; otherwise debug logs')
    .option('-f <file>', 'configuration file', DEFAULT_CONFIG)
    .option('-D <macro=value>', 'define a macro, overriding the configuration file', collectMacro, {})
    .option('-d', 'stay in the foreground, human-readable logs on stderr')
    .option('-F', 'stay in the foreground, JSON logs on stdout (for a service manager)')
    .option('-T <subsystem>', 'trace a subsystem: imsg (one log line per bus message)', collectTrace, [])
    .option('--spool <dir>', 'spool directory', '/var/spool/smtpd')
    .option('--socket <path>', 'control socket', '/var/run/smtpd.sock')
    .option('--user <name>', 'user the workers run as (when started as root)', '_smtpd')
    .option('--queue-user <name>', 'user the queue runs as (when started as root)', '_smtpq')
    .option('--pidfile <path>', 'pid file', '/var/run/smtpd.pid')
    .option('--log-file <path>', 'log file of the detached daemon (JSON lines)', '/var/log/smtpd.log')
    .option('--smtp-timeout <delay>', 'time a client has to send each complete command line', delayFlag, 300)
    .option('--data-timeout <delay>', 'DATA: time in which each 64 KiB of the message must arrive', delayFlag, 300)
    .option('--max-sessions <n>', 'inbound SMTP sessions at once, per listener address', countFlag, 1000)
    .option('--max-sessions-per-ip <n>', 'inbound SMTP sessions at once from one client address', countFlag, 100)
    .option('--mail-spool <dir>', 'the system mail spool, for mbox delivery', '/var/mail')
    .option('--resolver <host:port>', 'send every DNS query to this server (tests; default: the system resolver)', resolverFlag)
    .option('--mx-port <port>', 'connect to MX hosts on this port instead of 25 (tests)', portFlag, 25)
    .option('--mta-timeout <delay>', 'outbound: how long each reply of a remote server may take', delayFlag, 300)
    .helpOption('-h', 'show this help')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .allowExcessArguments(false);
}

function loadLines(file: string, macros: Record<string, string>, verbose: boolean) {
  const r = loadConfig(file, { macros, verbose });
  return { result: r, lines: r.diagnostics.map(formatDiagnostic) };
}

/** Check the configuration: prints diagnostics, returns the exit status. */
export function checkConfig(file: string, macros: Record<string, string>, verbose: boolean, io: Io): number {
  const { result, lines } = loadLines(file, macros, verbose);
  for (const l of lines) io.err(`${l}\n`);
  if (!result.config) {
    io.err(`${file}: ${result.errorCount} error${result.errorCount === 1 ? '' : 's'}, configuration not loaded\n`);
    return 1;
  }
  if (verbose) io.out(dumpConfig(result.config));
  io.out('configuration OK\n');
  return 0;
}

function daemonOptions(o: Flags, detached: boolean): DaemonOptions {
  return {
    configFile: path.resolve(o.f),
    macros: o.D,
    logFormat: o.d ? 'pretty' : 'json',
    logFd: o.d ? 2 : 1,
    verbose: Boolean(o.v),
    trace: o.T,
    spool: path.resolve(o.spool),
    socket: path.resolve(o.socket),
    user: o.user,
    queueUser: o.queueUser,
    pidfile: path.resolve(o.pidfile),
    stopTimeoutMs: detached ? 30_000 : 10_000,
    mailSpool: path.resolve(o.mailSpool),
    sessions: { commandTimeoutMs: o.smtpTimeout * 1000, dataTimeoutMs: o.dataTimeout * 1000, max: o.maxSessions, perIp: o.maxSessionsPerIp },
    ...(o.resolver !== undefined ? { resolver: o.resolver } : {}),
    mxPort: o.mxPort,
    mtaTimeoutMs: o.mtaTimeout * 1000,
  };
}

/** Start a detached copy of this command (same flags) with its output in the log file. */
function detach(o: Flags, argv: readonly string[], io: Io): number {
  const check = checkConfig(o.f, o.D, false, { out: () => undefined, err: io.err });
  if (check !== 0) return check;
  let fd: number;
  try {
    fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
    fd = fs.openSync(o.logFile, 'a', 0o640);
  } catch (e) {
    io.err(`smtpd: cannot open the log file ${o.logFile}: ${(e as Error).message}; use --log-file, or -d / -F\n`);
    return 1;
  }
  const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  child.unref();
  return 0;
}

export function main(argv: readonly string[], io: Io = stdio): number | Promise<number> {
  const cmd = program(io);
  try {
    cmd.parse(argv as string[], { from: 'node' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const o = cmd.opts<Flags>();
  if (o.n) return checkConfig(o.f, o.D, Boolean(o.v), io);
  const detached = process.env[DETACHED_ENV] === '1';
  if (!o.d && !o.F && !detached) return detach(o, argv, io);
  const options = daemonOptions(o, detached);
  return runDaemon(options, () => {
    const { result, lines } = loadLines(options.configFile, o.D, false);
    return { ...(result.config ? { config: result.config } : {}), errors: lines };
  });
}

if (require.main === module) {
  Promise.resolve(main(process.argv)).then((code) => process.exit(code));
}
