/**
 * `smtpctl` and its compatibility names (sendmail, mailq, newaliases, makemap): the operator's
 * console. The control socket arrives with the daemon; until then every command says so
 * plainly instead of failing in an obscure way.
 *
 * Privileges: none. Peers: none yet (later: the control worker over its Unix socket).
 */
import * as path from 'node:path';
import { stdio, type Io } from '../util/stdio';

const PROGRAMS = ['smtpctl', 'sendmail', 'send-mail', 'mailq', 'newaliases', 'makemap'] as const;

/** The program this was started as (argv[1] is the script path of bin/<name>). */
export function programName(argv: readonly string[]): string {
  const base = path.basename(argv[1] ?? 'smtpctl');
  return (PROGRAMS as readonly string[]).includes(base) ? base : 'smtpctl';
}

export function main(argv: readonly string[], io: Io = stdio): number {
  const name = programName(argv);
  const args = argv.slice(2);
  if (name === 'smtpctl' && (args.length === 0 || args[0] === '-h' || args[0] === '--help')) {
    io.out('usage: smtpctl command [argument ...]\n');
    io.out('The control commands (show queue, schedule, pause, ...) come with the daemon; see README.\n');
    return args.length === 0 ? 1 : 0;
  }
  const what = name === 'smtpctl' ? `"${args.join(' ')}"` : name;
  io.err(`${name}: ${what} is not available yet: this tsmtpd version only checks configurations (smtpd -n)\n`);
  return 1;
}

if (require.main === module) process.exitCode = main(process.argv);
