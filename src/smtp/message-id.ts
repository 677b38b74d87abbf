/**
 * A Message-ID for submitted mail that has none (OpenSMTPD 7.4+ adds one on submission,
 * as Postfix's cleanup does for local mail): the header block is held back until its end
 * (or MAX_HEAD bytes) is seen, then passed on, with `Message-ID: <id@host>` in front of it
 * when it has no Message-ID of its own. Only authenticated sessions get one.
 * Privileges: none. Peers: none (smtp's Inbound feeds it). No I/O.
 */
import { randomBytes } from 'node:crypto';

export const MAX_HEAD = 64 * 1024;

export function hasMessageId(head: string): boolean {
  return /^message-id[ \t]*:/im.test(head);
}

export function newMessageId(msgid: string, host: string): string {
  return `<${msgid}.${randomBytes(6).toString('hex')}@${host.replace(/[^A-Za-z0-9.-]/g, '')}>`;
}

/** Holds the header block back; `push` and `end` return what may be passed on now. */
export class MessageIdGate {
  private held: Buffer[] = [];
  private size = 0;
  private decided = false;

  constructor(private readonly header: () => string) {}

  push(chunk: Buffer): Buffer[] {
    if (this.decided) return [chunk];
    this.held.push(chunk);
    this.size += chunk.length;
    const all = Buffer.concat(this.held);
    this.held = [all];
    const end = all.indexOf('\r\n\r\n');
    // a message that starts with its body (no headers at all) also ends the header block
    if (end >= 0 || all.subarray(0, 2).equals(Buffer.from('\r\n')) || this.size > MAX_HEAD) return this.decide(end >= 0 ? end : all.length);
    return [];
  }

  end(): Buffer[] {
    return this.decided ? [] : this.decide(this.size);
  }

  private decide(headLength: number): Buffer[] {
    this.decided = true;
    const all = this.held[0] ?? Buffer.alloc(0);
    this.held = [];
    const head = all.subarray(0, Math.min(headLength, MAX_HEAD)).toString('latin1');
    if (this.size > MAX_HEAD || hasMessageId(head)) return [all];
    return [Buffer.from(`Message-ID: ${this.header()}\r\n`), all];
  }
}
