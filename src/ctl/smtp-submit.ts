/**
 * A small SMTP client for local submission: one message over a stream (the local enqueue
 * socket), EHLO, MAIL, RCPT for each recipient, DATA with dot-stuffing, QUIT. It stops at the
 * first refusal and says which reply it got. Used by the sendmail entry point.
 * Privileges: those of the user who runs sendmail. Peers: smtp, over the local socket.
 */
import * as net from 'node:net';
import { dataLines, ReplyReader } from '../mail/smtp-io';

export interface Submission {
  readonly sender: string;
  readonly recipients: readonly string[];
  /** the message, lines ending in CRLF, not dot-stuffed */
  readonly message: Buffer;
}

export type SubmitResult =
  | { readonly ok: true; readonly reply: string }
  /** `unreachable`: nobody listens (the daemon is down) */
  | { readonly ok: false; readonly stage: 'unreachable' | 'MAIL' | 'RCPT' | 'DATA' | 'EHLO' | 'greeting' | 'end'; readonly code: number; readonly reply: string };

/** Submit one message over the Unix socket at `socketPath`. */
export function submit(socketPath: string, s: Submission): Promise<SubmitResult> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    const replies = new ReplyReader();
    let connected = false;
    sock.on('data', (c: Buffer) => replies.push(c));
    sock.on('close', () => replies.close());
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected) resolve({ ok: false, stage: 'unreachable', code: 0, reply: `${socketPath}: ${e.code ?? e.message}` });
      replies.close();
    });
    sock.on('connect', () => {
      connected = true;
      dialogue(sock, replies, s).then(resolve, (e: Error) => resolve({ ok: false, stage: 'end', code: 0, reply: e.message }));
    });
  });
}

async function dialogue(sock: net.Socket, replies: ReplyReader, s: Submission): Promise<SubmitResult> {
  const say = async (line: string) => {
    sock.write(`${line}\r\n`);
    return replies.next();
  };
  const fail = (stage: Exclude<SubmitResult, { ok: true }>['stage'], r: { code: number; text: string }): SubmitResult => {
    sock.end('QUIT\r\n');
    return { ok: false, stage, code: r.code, reply: r.text };
  };
  const greeting = await replies.next();
  if (greeting.code !== 220) return fail('greeting', greeting);
  const ehlo = await say('EHLO localhost');
  if (ehlo.code !== 250) return fail('EHLO', ehlo);
  // eslint-disable-next-line no-control-regex
  const utf8 = /[^\x00-\x7f]/.test(s.sender + s.recipients.join(''));
  const eightBit = s.message.some((b) => b > 0x7f);
  const params = `${eightBit ? ' BODY=8BITMIME' : ''}${utf8 ? ' SMTPUTF8' : ''}`;
  const mail = await say(`MAIL FROM:<${s.sender}>${params}`);
  if (mail.code !== 250) return fail('MAIL', mail);
  for (const rcpt of s.recipients) {
    const r = await say(`RCPT TO:<${rcpt}>`);
    if (r.code !== 250 && r.code !== 251) return fail('RCPT', r);
  }
  const data = await say('DATA');
  if (data.code !== 354) return fail('DATA', data);
  sock.write(dataLines(s.message));
  const end = await replies.next();
  if (end.code !== 250) return fail('end', end);
  sock.end('QUIT\r\n');
  return { ok: true, reply: end.text };
}
