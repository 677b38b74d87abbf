/**
 * mda's channels to the delivery helpers (one per recipient user, run as that user, see
 * src/deliver/): opened through the parent on the first delivery to a user, kept while the
 * user gets mail, closed after IDLE_MS without a delivery (the helper then exits).
 * Privileges: the daemon user. Peers: the parent (HELPER_OPEN), the helpers.
 */
import type { Socket } from 'node:net';
import { Channel, type OmitEach } from '../bus/channel';
import { HelperToMda, type MdaToHelper } from '../bus/msg-deliver';
import type { WorkerContext } from '../bus/worker-runtime';

export const IDLE_MS = 30_000;
const OPEN_TIMEOUT_MS = 30_000;
const CHUNK = 256 * 1024;

export type HelperChannel = Channel<HelperToMda, MdaToHelper>;
export type Outcome = { result: 'ok' | 'tempfail' | 'permfail'; text: string };
export type MaildirEnvelope = { sender: string; rcpt: string; dest: string; subAddrDelim: string };

interface Entry {
  channel: HelperChannel;
  busy: number;
  timer?: NodeJS.Timeout;
}

export class Helpers {
  private readonly open = new Map<string, Entry>();
  private readonly opening = new Map<string, Promise<Entry | Outcome>>();
  private stream = 0;

  constructor(private readonly worker: WorkerContext) {}

  private async connect(user: string): Promise<Entry | Outcome> {
    const { msg, socket } = await this.worker.requestParentSocket({ type: 'HELPER_OPEN', user }, OPEN_TIMEOUT_MS);
    if (msg.type !== 'HELPER_CHANNEL') return { result: 'tempfail', text: '451 4.3.0 unexpected answer from the parent' };
    if (msg.result !== 'ok' || !socket) return { result: msg.result === 'ok' ? 'tempfail' : msg.result, text: msg.text || '451 4.3.0 no delivery helper' };
    const channel: HelperChannel = new Channel<HelperToMda, MdaToHelper>({ self: 'mda', peer: `deliver ${user}`, socket: socket as Socket, decoder: HelperToMda });
    const entry: Entry = { channel, busy: 0 };
    channel.onMessage(() => undefined);
    channel.onError((e) => {
      this.worker.log.error({ event: 'protocol-error', peer: `deliver ${user}` }, e.message);
      channel.close();
    });
    channel.onClose(() => {
      if (this.open.get(user) === entry) this.open.delete(user);
      if (entry.timer) clearTimeout(entry.timer);
    });
    this.open.set(user, entry);
    return entry;
  }

  private async get(user: string): Promise<Entry | Outcome> {
    const have = this.open.get(user);
    if (have && !have.channel.isClosed) return have;
    let pending = this.opening.get(user);
    if (!pending) {
      pending = this.connect(user).finally(() => this.opening.delete(user));
      this.opening.set(user, pending);
    }
    return pending;
  }

  /** deliver `content` into `user`'s maildir (`path`: the action's maildir spec, whose format
   * specifiers `env` fills) */
  maildir(user: string, path: string | undefined, junk: boolean, env: MaildirEnvelope, content: Buffer, timeoutMs: number): Promise<Outcome> {
    return this.send(user, content, timeoutMs, (stream) => ({ type: 'DELIVER_MAILDIR', stream, junk, ...env, ...(path !== undefined ? { path } : {}) }));
  }

  private async send(user: string, content: Buffer, timeoutMs: number, request: (stream: number) => OmitEach<MdaToHelper, 'reqid'>): Promise<Outcome> {
    const got = await this.get(user);
    if (!('channel' in got)) return got;
    const entry = got;
    entry.busy++;
    if (entry.timer) clearTimeout(entry.timer);
    try {
      const stream = (this.stream = (this.stream + 1) >>> 0);
      for (let off = 0; off < content.length; off += CHUNK) {
        if (!entry.channel.sendBytes(stream, content.subarray(off, off + CHUNK))) await entry.channel.drained();
      }
      const r = await entry.channel.request<HelperToMda>(request(stream), timeoutMs);
      return r.type === 'DELIVER_RESULT' ? { result: r.result, text: r.text } : { result: 'tempfail', text: '451 4.3.0 unexpected answer from the delivery helper' };
    } finally {
      if (--entry.busy === 0 && !entry.channel.isClosed) entry.timer = setTimeout(() => entry.channel.close(), IDLE_MS);
    }
  }

  /** append `content` to `user`'s mbox (`sender` for its From_ line) */
  mbox(user: string, sender: string, content: Buffer, timeoutMs: number): Promise<Outcome> {
    return this.send(user, content, timeoutMs, (stream) => ({ type: 'DELIVER_MBOX', stream, sender }));
  }

  closeAll(): void {
    for (const e of this.open.values()) e.channel.close();
  }
}
