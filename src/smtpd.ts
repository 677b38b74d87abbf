/**
 * `smtpd`: the daemon's entry point. Today it checks a configuration (`-n`); the privileged
 * parent and its workers come next (see man/smtpd.8).
 *
 * Purpose: read flags, load smtpd.conf, print every diagnostic as `file:line:col: message`,
 * and exit 0 (configuration OK), 1 (errors) or 2 (usage). Privileges: none needed for `-n`.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { formatDiagnostic } from './parse/diagnostics';
import { dumpConfig } from './parse/dump';
import { loadConfig } from './parse/load';
import { stdio, type Io } from './util/stdio';

export const DEFAULT_CONFIG = '/etc/mail/smtpd.conf';

function collectMacro(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`invalid macro "${value}": expected -D name=value`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function program(io: Io): Command {
  return new Command('smtpd')
    .description('tsmtpd mail transfer agent')
    .option('-n', 'check the configuration and exit')
    .option('-v', 'verbose: with -n, print the configuration as understood')
    .option('-f <file>', 'configuration file', DEFAULT_CONFIG)
    .option('-D <macro=value>', 'define a macro, overriding the configuration file', collectMacro, {})
    .option('-d', 'foreground, log to stderr (reserved for the daemon)')
    .option('-F', 'foreground, log to stdout (reserved for the daemon)')
    .option('-T <trace>', 'trace a subsystem (reserved for the daemon)')
    .helpOption('-h', 'show this help')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .allowExcessArguments(false);
}

/** Check the configuration: prints diagnostics, returns the exit status. */
export function checkConfig(file: string, macros: Record<string, string>, verbose: boolean, io: Io): number {
  const result = loadConfig(file, { macros, verbose });
  for (const d of result.diagnostics) io.err(`${formatDiagnostic(d)}\n`);
  if (!result.config) {
    io.err(`${file}: ${result.errorCount} error${result.errorCount === 1 ? '' : 's'}, configuration not loaded\n`);
    return 1;
  }
  if (verbose) io.out(dumpConfig(result.config));
  io.out('configuration OK\n');
  return 0;
}

export function main(argv: readonly string[], io: Io = stdio): number {
  const cmd = program(io);
  try {
    cmd.parse(argv as string[], { from: 'node' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const o = cmd.opts<{ n?: boolean; v?: boolean; f: string; D: Record<string, string> }>();
  if (!o.n) {
    io.err('smtpd: the daemon is not available yet; use -n to check a configuration\n');
    return 1;
  }
  return checkConfig(o.f, o.D, Boolean(o.v), io);
}

if (require.main === module) process.exitCode = main(process.argv);
