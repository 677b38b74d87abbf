/**
 * smtpctl's commands: each word may be shortened to any unambiguous prefix (`sh q`); the
 * socket is `-s PATH`, else SMTPD_SOCKET, else /var/run/smtpd.sock. `show queue` reads the
 * spool (`--spool DIR`, SMTPD_SPOOL, /var/spool/smtpd) when smtpd is not running.
 * Privileges: the caller's (the control socket's mode decides who may connect).
 * Peers: the control worker.
 */
import type { Io } from '../util/stdio';
import { ControlClient, ControlError } from './client';
import { offlineQueueLines } from './offline-queue';

const COMMANDS = [
  ['show', 'queue'],
  ['show', 'envelope'],
  ['show', 'message'],
  ['schedule'],
  ['remove'],
] as const;

type Command = (typeof COMMANDS)[number];

export class CommandError extends Error {}

function pick(options: readonly string[], word: string | undefined, before: string): string {
  const all = [...new Set(options)];
  if (word === undefined) throw new CommandError(`incomplete command: ${before}... (${all.map((o) => `${before}${o}`).join(', ')})`);
  const w = word.toLowerCase();
  if (all.includes(w)) return w;
  const hits = all.filter((o) => w.length > 0 && o.startsWith(w));
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new CommandError(`unknown command: ${before}${word} (commands: ${COMMANDS.map((c) => c.join(' ')).join(', ')})`);
  throw new CommandError(`ambiguous command: ${before}${word} (${hits.map((h) => `${before}${h}`).join(', ')})`);
}

/** the command the words name, and the words left (its arguments) */
export function resolveCommand(words: readonly string[]): { command: Command; args: string[] } {
  const first = pick(COMMANDS.map((c) => c[0]), words[0], '');
  const family = COMMANDS.filter((c) => c[0] === first);
  if (family.length === 1 && family[0]!.length === 1) return { command: family[0]!, args: words.slice(1) };
  const second = pick(family.map((c) => c[1]!), words[1], `${first} `);
  return { command: family.find((c) => c[1] === second)!, args: words.slice(2) };
}

export interface CtlOptions {
  readonly socket: string;
  readonly spool: string;
}

/** take -s PATH and --spool DIR out of the arguments */
export function ctlOptions(args: readonly string[], env: NodeJS.ProcessEnv): { options: CtlOptions; words: string[] } {
  let socket = env.SMTPD_SOCKET || '/var/run/smtpd.sock';
  let spool = env.SMTPD_SPOOL || '/var/spool/smtpd';
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '-s' || a === '--spool') && i + 1 < args.length) {
      if (a === '-s') socket = args[++i]!;
      else spool = args[++i]!;
    } else words.push(a);
  }
  return { options: { socket, spool }, words };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

export async function runCommand(words: readonly string[], o: CtlOptions, io: Io): Promise<number> {
  const { command, args } = resolveCommand(words);
  const name = command.join(' ');
  const needs = name === 'show queue' ? 0 : 1;
  if (args.length > 1 || args.length < needs) throw new CommandError(`usage: smtpctl ${name} ${name === 'show queue' ? '[msgid]' : name === 'show envelope' ? 'evpid' : 'evpid | msgid' + (name === 'show message' ? '' : ' | all')}`);
  let client: ControlClient;
  try {
    client = await ControlClient.connect(o.socket);
  } catch (e) {
    if (name === 'show queue' && e instanceof ControlError && /not running/.test(e.message)) {
      for (const line of offlineQueueLines(o.spool, args[0])) io.out(`${line}\n`);
      return 0;
    }
    throw e;
  }
  try {
    const id = args[0];
    if (name === 'show queue') {
      const r = await client.request({ type: 'SHOW_QUEUE', ...(id !== undefined ? { id } : {}) });
      if (r.type === 'LINES_REPLY') for (const line of r.lines) io.out(`${line}\n`);
    } else if (name === 'show envelope' || name === 'show message') {
      const r = await client.request({ type: 'SHOW_FILE', what: name === 'show envelope' ? 'envelope' : 'message', id: id! });
      if (r.type === 'TEXT_REPLY') io.out(r.text);
    } else {
      const r = await client.request({ type: name === 'schedule' ? 'SCHEDULE' : 'REMOVE', id: id! });
      if (r.type === 'COUNT_REPLY') io.out(`${plural(r.count, 'envelope')} ${name === 'schedule' ? 'scheduled' : 'removed'}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}
