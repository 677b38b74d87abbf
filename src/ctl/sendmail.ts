/**
 * `sendmail` (and `send-mail`): the local enqueuer. Reads a message on stdin and submits it over
 * the local enqueue socket as the user who runs it; when smtpd is down the message waits in the
 * offline queue (offline.ts) and is sent when smtpd runs. `-bs` speaks SMTP on stdin/stdout
 * through the same socket. Exit codes are sendmail's (sysexits).
 * Environment: SMTPD_SOCKET (the control socket; the local socket sits beside it) and
 * SMTPD_SPOOL (for the offline queue), defaults /var/run/smtpd.sock and /var/spool/smtpd.
 * Privileges: the caller's. Peers: smtp, over the local socket.
 */
import * as net from 'node:net';
import * as os from 'node:os';
import { localSocketPath } from '../util/local-enqueue';
import { serverName } from '../util/hostname';
import type { Io } from '../util/stdio';
import { ControlError } from './client';
import { writeOffline } from './offline';
import { CommandError, runCommand } from './smtpctl-commands';
import { parseSendmailArgs, UsageError } from './sendmail-args';
import { checkSmtpAddress, MessageError, normalizeInput, prepareMessage } from './sendmail-message';
import { submit, type SubmitResult } from './smtp-submit';

export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOUSER = 67;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_CANTCREAT = 73;
export const EX_TEMPFAIL = 75;

export interface SendmailEnv {
  readonly socket: string;
  readonly spool: string;
  readonly stdin: () => Promise<Buffer>;
  readonly now: () => Date;
}

export function defaultEnv(): SendmailEnv {
  return {
    socket: process.env.SMTPD_SOCKET || '/var/run/smtpd.sock',
    spool: process.env.SMTPD_SPOOL || '/var/spool/smtpd',
    stdin: async () => {
      const parts: Buffer[] = [];
      for await (const c of process.stdin) parts.push(c as Buffer);
      return Buffer.concat(parts);
    },
    now: () => new Date(),
  };
}

/** the exit code for a refusal: 5xx for a recipient is "no such user", other 5xx bad data */
export function exitFor(r: Exclude<SubmitResult, { ok: true }>): number {
  if (r.code >= 500 && r.stage === 'RCPT') return EX_NOUSER;
  if (r.code >= 500) return EX_DATAERR;
  return EX_TEMPFAIL;
}

/** -bs: the caller's SMTP dialogue, relayed to the local socket */
function smtpOnStdio(socketPath: string, io: Io): Promise<number> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    sock.once('error', (e: NodeJS.ErrnoException) => {
      io.err(`sendmail: smtpd is not running (no local socket at ${socketPath}: ${e.code ?? e.message})\n`);
      resolve(EX_UNAVAILABLE);
    });
    sock.once('connect', () => {
      process.stdin.pipe(sock);
      sock.pipe(process.stdout);
      sock.once('close', () => resolve(0));
    });
  });
}

export async function sendmailMain(args: readonly string[], io: Io, env: SendmailEnv = defaultEnv()): Promise<number> {
  let parsed;
  try {
    parsed = parseSendmailArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`sendmail: ${e.message}\nusage: sendmail [-tv] [-F name] [-f from] to ...\n`);
    return EX_USAGE;
  }
  if (parsed.mode === 'smtp') return smtpOnStdio(localSocketPath(env.socket), io);
  if (parsed.mode === 'newaliases') {
    // -bi: as newaliases, the running daemon reads its aliases table again
    return runCommand(['update', 'table', 'aliases'], { socket: env.socket, spool: env.spool, json: false }, io).catch((e: unknown) => {
      if (!(e instanceof ControlError || e instanceof CommandError)) throw e;
      io.err(`sendmail: ${e.message}\n`);
      return 1;
    });
  }
  if (parsed.mode !== 'send') {
    io.err(`sendmail: ${parsed.mode} is not available yet in this tsmtpd version\n`);
    return EX_UNAVAILABLE;
  }
  const login = os.userInfo().username;
  let submission;
  try {
    const sender = checkSmtpAddress(parsed.sender ?? `${login}@${serverName()}`);
    const input = normalizeInput(await env.stdin(), parsed.ignoreDots);
    const prepared = prepareMessage(input, { sender, ...(parsed.fullName !== undefined ? { fullName: parsed.fullName } : {}), fromHeaders: parsed.fromHeaders, now: env.now() });
    const recipients = [...new Set([...parsed.recipients, ...prepared.recipients])].map(checkSmtpAddress);
    if (recipients.length === 0) {
      io.err('sendmail: no recipients given (name them as arguments, or use -t to take them from To, Cc and Bcc)\n');
      return EX_USAGE;
    }
    submission = { sender, recipients, message: prepared.message };
  } catch (e) {
    if (!(e instanceof MessageError)) throw e;
    io.err(`sendmail: ${e.message}\n`);
    return EX_DATAERR;
  }
  const r = await submit(localSocketPath(env.socket), submission);
  if (r.ok) {
    if (parsed.verbose) io.out(`${r.reply}\n`);
    return 0;
  }
  if (r.stage !== 'unreachable') {
    io.err(`sendmail: refused at ${r.stage}: ${r.reply}\n`);
    return exitFor(r);
  }
  try {
    const file = writeOffline(env.spool, submission);
    if (parsed.verbose) io.out(`smtpd is not running: kept in ${file}, sent when it runs\n`);
    return 0;
  } catch (e) {
    io.err(`sendmail: smtpd is not running (${r.reply}) and the offline queue refused the message: ${(e as Error).message}\n`);
    return EX_CANTCREAT;
  }
}
