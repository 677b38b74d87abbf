/**
 * `smtpctl` and its compatibility names (sendmail, mailq, newaliases, makemap): the operator's
 * console. The control socket arrives with the daemon; until then every command says so
 * plainly instead of failing in an obscure way.
 *
 * Privileges: none. Peers: the control worker over its Unix socket; smtp over the local
 * socket (sendmail).
 */
import * as path from 'node:path';
import { stdio, type Io } from '../util/stdio';
import { ControlError } from './client';
import { makemapMain } from './makemap';
import { sendmailMain } from './sendmail';
import { CommandError, ctlOptions, runCommand } from './smtpctl-commands';

const PROGRAMS = ['smtpctl', 'sendmail', 'send-mail', 'mailq', 'newaliases', 'makemap'] as const;

/** The program this was started as (argv[1] is the script path of bin/<name>). */
export function programName(argv: readonly string[]): string {
  const base = path.basename(argv[1] ?? 'smtpctl');
  return (PROGRAMS as readonly string[]).includes(base) ? base : 'smtpctl';
}

export function main(argv: readonly string[], io: Io = stdio): number | Promise<number> {
  const name = programName(argv);
  const args = argv.slice(2);
  if (name === 'sendmail' || name === 'send-mail') return sendmailMain(args, io);
  if (name === 'makemap') return makemapMain(args, io);
  if (name === 'smtpctl' && (args.length === 0 || args[0] === '-h' || args[0] === '--help')) {
    io.out('usage: smtpctl [-s socket] command [argument ...]\n');
    io.out('commands: show queue|envelope|message|status|stats|hosts|hoststats|relays|routes|mta paused, schedule, remove, discover, pause|resume mda|mta|smtp|envelope, pause|resume mta from ADDR for DOMAIN, resume route, monitor, log brief|verbose, trace|untrace, profile|unprofile, update table, encrypt, spf walk (see smtpctl(8))\n');
    return args.length === 0 ? 1 : 0;
  }
  if (name === 'smtpctl' || name === 'mailq' || name === 'newaliases') {
    // newaliases: the running daemon reads its aliases table again
    const words0 = name === 'mailq' ? ['show', 'queue', ...args] : name === 'newaliases' ? ['update', 'table', 'aliases'] : args;
    const { options, words } = ctlOptions(words0, process.env);
    return runCommand(words, options, io).catch((e: unknown) => {
      if (!(e instanceof ControlError || e instanceof CommandError)) throw e;
      io.err(`smtpctl: ${e.message}\n`);
      return 1;
    });
  }
  io.err(`${name}: not available yet in this tsmtpd version\n`);
  return 1;
}

if (require.main === module) void Promise.resolve(main(process.argv)).then((code) => (process.exitCode = code));
