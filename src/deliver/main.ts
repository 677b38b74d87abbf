/**
 * deliver: the delivery helper of one recipient user. The parent forks it (as root) and hands
 * it, with HELPER_START, the user to become and its end of a channel to mda; it drops to that
 * user (supplementary groups, gid, uid) before it reads anything, then writes each message mda
 * sends into the user's maildir or mbox (in the mail spool, with the mail group to make its
 * lock and the mailbox itself, as mail.local does), or runs an mda command for it (command.ts). It exits when mda closes the channel (mda keeps it while the
 * user gets mail) or when the parent goes away.
 * Privileges: the recipient user only. Peers: mda (its channel), the parent (start only).
 */
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { Channel } from '../bus/channel';
import { HelperToMda, MdaToHelper, ToHelper } from '../bus/msg-deliver';
import { DecodeError } from '../bus/schema';
import { foreignBusVersion, versionMismatchText } from '../bus/version';
import { createLogger, type Logger } from '../log/logger';
import { deliverToMaildir, maildirPath } from '../mail/maildir';
import { deliverToMbox } from '../mail/mbox';
import { dropPrivileges } from '../util/privileges';
import { StreamPieces } from '../util/chunks';
import { runCommand } from './command';

type Start = Extract<ToHelper, { type: 'HELPER_START' }>;

function serve(start: Start, socket: Socket, log: Logger): void {
  const user = start.user;
  const streams = new StreamPieces();
  const channel = new Channel<MdaToHelper, HelperToMda>({ self: `deliver ${user.name}`, peer: 'mda', socket, decoder: MdaToHelper });
  channel.onBytes((id, bytes) => streams.add(id, bytes));
  channel.onMessage((m) => {
    if (m.type === 'PING') {
      channel.send({ type: 'PONG', re: m.reqid, pid: process.pid, name: 'deliver' });
      return;
    }
    if (m.type === 'PONG') return;
    const content = streams.take(m.stream);
    if (m.type === 'DELIVER_COMMAND') {
      const vars = { sender: m.sender, rcpt: m.rcpt, dest: m.dest, subAddrDelim: m.subAddrDelim, user };
      void runCommand(m.argv, vars, content, m.timeoutMs, m.raw === true).then((r) => channel.send({ type: 'DELIVER_RESULT', re: m.reqid, result: r.result, text: r.text }));
      return;
    }
    if (m.type === 'DELIVER_FILE') {
      // a ~/.forward's /file: an absolute path, appended in mbox form under the same rules as a mailbox
      if (!path.isAbsolute(m.path) || path.normalize(m.path) !== m.path) {
        channel.send({ type: 'DELIVER_RESULT', re: m.reqid, result: 'permfail', text: `554 5.3.0 not an absolute, plain path: ${m.path.slice(0, 100)}` });
        return;
      }
      deliverToMbox(m.path, user.uid, m.sender, content).then(
        (file) => channel.send({ type: 'DELIVER_RESULT', re: m.reqid, result: 'ok', text: `delivered to ${file}` }),
        (e: NodeJS.ErrnoException) => channel.send({ type: 'DELIVER_RESULT', re: m.reqid, result: 'tempfail', text: `451 4.2.0 file ${m.path}: ${e.code ?? e.message}` }),
      );
      return;
    }
    let where: string;
    try {
      where = m.type === 'DELIVER_MAILDIR' ? maildirPath(m.path, { sender: m.sender, rcpt: m.rcpt, dest: m.dest, subAddrDelim: m.subAddrDelim, user }) : path.join(start.mailSpool, user.name);
    } catch (e) {
      channel.send({ type: 'DELIVER_RESULT', re: m.reqid, result: 'tempfail', text: `451 4.3.0 maildir path: ${(e as Error).message}` });
      return;
    }
    const kind = m.type === 'DELIVER_MAILDIR' ? 'maildir' : 'mbox';
    const done = m.type === 'DELIVER_MAILDIR' ? deliverToMaildir(where, content, m.junk) : deliverToMbox(where, user.uid, m.sender, content);
    done.then(
      (file) => channel.send({ type: 'DELIVER_RESULT', re: m.reqid, result: 'ok', text: `delivered to ${file}` }),
      (e: NodeJS.ErrnoException) => channel.send({ type: 'DELIVER_RESULT', re: m.reqid, result: 'tempfail', text: `451 4.2.0 ${kind} ${where}: ${e.code ?? e.message}` }),
    );
  });
  channel.onError((e) => {
    log.error({ event: 'protocol-error' }, e.message);
    process.exit(1);
  });
  channel.onClose(() => process.exit(0));
}

export function main(): void {
  process.title = 'smtpd: deliver';
  for (const sig of ['SIGINT', 'SIGHUP'] as const) process.on(sig, () => undefined);
  process.once('message', (raw: unknown, handle: unknown) => {
    const theirs = foreignBusVersion(raw);
    if (theirs !== undefined) {
      process.stderr.write(`smtpd: deliver: ${versionMismatchText(theirs)}\n`);
      process.exit(1);
    }
    let start: Start;
    try {
      start = ToHelper.decode(raw, '');
    } catch (e) {
      process.stderr.write(`smtpd: deliver: ${e instanceof DecodeError ? e.message : String(e)}\n`);
      process.exit(1);
    }
    if (!handle) {
      process.stderr.write('smtpd: deliver: started without a channel\n');
      process.exit(1);
    }
    dropPrivileges(start.user.name, start.user.uid, start.user.gid, start.mailGid !== undefined ? [start.mailGid] : [], start.user.system);
    process.title = `smtpd: deliver ${start.user.name}`;
    const log = createLogger({ worker: 'deliver', format: start.logFormat, verbose: start.verbose, fd: start.logFd });
    serve(start, handle as Socket, log);
  });
  process.on('disconnect', () => process.exit(0));
}
