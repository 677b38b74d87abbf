/**
 * mda's channels to the delivery helpers (one per recipient user and userbase, run as that
 * user, see src/deliver/): opened through the parent on the first delivery to a user, kept while the
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
/** the local user to deliver to, and where its identity comes from (an action's userbase) */
export type Recipient = { name: string; userbase: string };
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

  private async connect(user: Recipient, key: string): Promise<Entry | Outcome> {
    const { msg, socket } = await this.worker.requestParentSocket({ type: 'HELPER_OPEN', user: user.name, userbase: user.userbase }, OPEN_TIMEOUT_MS);
    if (msg.type !== 'HELPER_CHANNEL') return { result: 'tempfail', text: '451 4.3.0 unexpected answer from the parent' };
    if (msg.result !== 'ok' || !socket) return { result: msg.result === 'ok' ? 'tempfail' : msg.result, text: msg.text || '451 4.3.0 no delivery helper' };
    const channel: HelperChannel = new Channel<HelperToMda, MdaToHelper>({ self: 'mda', peer: `deliver ${user.name}`, socket: socket as Socket, decoder: HelperToMda });
    const entry: Entry = { channel, busy: 0 };
    channel.onMessage(() => undefined);
    channel.onError((e) => {
      this.worker.log.error({ event: 'protocol-error', peer: `deliver ${user.name}` }, e.message);
      channel.close();
    });
    channel.onClose(() => {
      if (this.open.get(key) === entry) this.open.delete(key);
      if (entry.timer) clearTimeout(entry.timer);
    });
    this.open.set(key, entry);
    return entry;
  }

  private async get(user: Recipient): Promise<Entry | Outcome> {
    const key = `${user.userbase}\0${user.name}`;
    const have = this.open.get(key);
    if (have && !have.channel.isClosed) return have;
    let pending = this.opening.get(key);
    if (!pending) {
      pending = this.connect(user, key).finally(() => this.opening.delete(key));
      this.opening.set(key, pending);
    }
    return pending;
  }

  /** deliver `content` into `user`'s maildir (`path`: the action's maildir spec, whose format
   * specifiers `env` fills) */
  maildir(user: Recipient, path: string | undefined, junk: boolean, env: MaildirEnvelope, content: Buffer, timeoutMs: number): Promise<Outcome> {
    return this.send(user, content, timeoutMs, (stream) => ({ type: 'DELIVER_MAILDIR', stream, junk, ...env, ...(path !== undefined ? { path } : {}) }));
  }

  private async send(user: Recipient, content: Buffer, timeoutMs: number, request: (stream: number) => OmitEach<MdaToHelper, 'reqid'>): Promise<Outcome> {
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

  /** run an mda command as `user` with `content` on its standard input (`argv`: its words,
   * whose format specifiers `env` fills) */
  command(user: Recipient, argv: readonly string[], env: MaildirEnvelope, content: Buffer, limitMs: number, timeoutMs: number, raw = false): Promise<Outcome> {
    return this.send(user, content, timeoutMs, (stream) => ({ type: 'DELIVER_COMMAND', stream, argv: [...argv], ...env, timeoutMs: limitMs, ...(raw ? { raw } : {}) }));
  }

  /** append `content` in mbox form to `path`, as `user` (a ~/.forward's /file) */
  file(user: Recipient, path: string, sender: string, content: Buffer, timeoutMs: number): Promise<Outcome> {
    return this.send(user, content, timeoutMs, (stream) => ({ type: 'DELIVER_FILE', stream, path, sender }));
  }

  /** append `content` to `user`'s mbox (`sender` for its From_ line) */
  mbox(user: Recipient, sender: string, content: Buffer, timeoutMs: number): Promise<Outcome> {
    return this.send(user, content, timeoutMs, (stream) => ({ type: 'DELIVER_MBOX', stream, sender }));
  }
}
