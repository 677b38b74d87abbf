/**
 * LMTP delivery (RFC 2033) of one envelope: to `host:port`, `[v6]:port` or a Unix socket path,
 * LHLO, MAIL FROM, one RCPT TO (the local user name, or the recipient address with
 * `rcpt-to`), DATA, and the reply for that recipient after the dot. 2xx: delivered; 4xx, a
 * connection failure or the time limit: a temporary failure; 5xx: a permanent one, with the
 * server's words.
 * Privileges: the daemon user (mda). Peers: the LMTP server of the action.
 */
import * as net from 'node:net';
import { serverName } from '../util/hostname';
import { dataLines, ReplyReader } from '../mail/smtp-io';
import type { Outcome } from './helpers';

export interface LmtpDelivery {
  readonly dest: string;
  readonly sender: string;
  readonly rcpt: string;
  readonly content: Buffer;
  readonly timeoutMs: number;
}

function connectOptions(dest: string): net.NetConnectOpts {
  if (dest.startsWith('/')) return { path: dest };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(dest) ?? /^([^:]+):(\d+)$/.exec(dest);
  return { host: m![1]!, port: Number(m![2]) };
}

/** a reply as the envelope's error line: one line, with a code */
function oneLine(r: { code: number; text: string }): string {
  return r.text.split('\n').map((l) => l.slice(4)).join(' ').trim().replace(/^/, `${r.code} `).slice(0, 300);
}

export function deliverLmtp(d: LmtpDelivery): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = net.connect(connectOptions(d.dest));
    const replies = new ReplyReader();
    let settled = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.end('QUIT\r\n');
      sock.destroySoon?.();
      resolve(o);
    };
    const timer = setTimeout(() => {
      finish({ result: 'tempfail', text: `451 4.4.2 lmtp ${d.dest}: no answer within ${Math.round(d.timeoutMs / 1000)} s` });
      sock.destroy();
    }, d.timeoutMs);
    sock.on('data', (c: Buffer) => replies.push(c));
    sock.on('close', () => replies.close());
    sock.on('error', (e: NodeJS.ErrnoException) => {
      finish({ result: 'tempfail', text: `451 4.4.1 lmtp ${d.dest}: ${e.code ?? e.message}` });
      replies.close();
    });
    const refused = (r: { code: number; text: string }, at: string): Outcome => {
      if (r.code === 0) return { result: 'tempfail', text: `451 4.4.2 lmtp ${d.dest}: connection closed at ${at}` };
      return { result: r.code >= 500 ? 'permfail' : 'tempfail', text: oneLine(r) };
    };
    const say = async (line: string) => {
      sock.write(`${line}\r\n`);
      return replies.next();
    };
    sock.on('connect', () => {
      void (async (): Promise<Outcome> => {
        const greeting = await replies.next();
        if (greeting.code !== 220) return refused(greeting, 'the greeting');
        const lhlo = await say(`LHLO ${serverName()}`);
        if (lhlo.code !== 250) return refused(lhlo, 'LHLO');
        const eightBit = d.content.some((b) => b > 0x7f) && /^250[- ]8BITMIME$/im.test(lhlo.text);
        const mail = await say(`MAIL FROM:<${d.sender}>${eightBit ? ' BODY=8BITMIME' : ''}`);
        if (mail.code !== 250) return refused(mail, 'MAIL FROM');
        const rcpt = await say(`RCPT TO:<${d.rcpt}>`);
        if (rcpt.code !== 250 && rcpt.code !== 251) return refused(rcpt, 'RCPT TO');
        const data = await say('DATA');
        if (data.code !== 354) return refused(data, 'DATA');
        sock.write(dataLines(d.content));
        const end = await replies.next();
        if (end.code >= 200 && end.code < 300) return { result: 'ok', text: `delivered by lmtp ${d.dest}: ${oneLine(end)}` };
        return refused(end, 'the end of data');
      })().then(finish);
    });
  });
}
