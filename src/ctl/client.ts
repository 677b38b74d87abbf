/**
 * The client side of the control socket (smtpctl, tests): connect, exchange BUS_VERSION, and
 * send requests. Errors say what to do: daemon not running (and where the socket was looked
 * for), permission denied, version mismatch.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Channel } from '../bus/channel';
import { ToClient, type FromClient } from '../bus/msg-control-client';
import { BUS_VERSION } from '../bus/version';
import { clientProof } from '../util/control-keys';

export class ControlError extends Error {}

/** the group of the socket, by name when /etc/group has it ("the queue user's group" if the
 * socket cannot even be looked at) */
function socketGroup(socketPath: string): string {
  let gid: number;
  try {
    gid = fs.statSync(socketPath).gid;
  } catch {
    return "the queue user's group";
  }
  try {
    const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[2] === String(gid));
    if (line) return `group ${line.split(':')[0]} (gid ${gid})`;
  } catch {
    // no group file: the number says it
  }
  return `the group with gid ${gid}`;
}

export class ControlClient {
  private constructor(private readonly ch: Channel<ToClient, FromClient>) {}

  static connect(socketPath: string, timeoutMs = 5000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      const fail = (e: NodeJS.ErrnoException) => {
        socket.destroy();
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
          reject(new ControlError(`smtpd is not running: no control socket at ${socketPath} (start smtpd, or name the socket with -s)`));
        } else if (e.code === 'EACCES') {
          reject(new ControlError(`permission denied on ${socketPath}: run as root, or as a member of ${socketGroup(socketPath)} to show`));
        } else reject(new ControlError(`cannot connect to ${socketPath}: ${e.message}`));
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        const ch = new Channel<ToClient, FromClient>({ self: 'client', peer: 'control', socket, decoder: ToClient });
        const timer = setTimeout(() => {
          ch.close();
          reject(new ControlError('smtpd did not answer on the control socket'));
        }, timeoutMs);
        ch.onMessage((m) => {
          clearTimeout(timer);
          if (m.type === 'HELLO') {
            // prove what this user may do (control-keys.ts); without a proof smtpd refuses
            // each request and says why
            const p = m.nonce !== undefined ? clientProof(socketPath, m.nonce) : undefined;
            if (p) ch.send({ type: 'PROVE', role: p.role, mac: p.mac });
            resolve(new ControlClient(ch));
          }
          else {
            ch.close();
            reject(new ControlError(m.type === 'ERROR' ? m.message : `unexpected ${m.type} from smtpd`));
          }
        });
        ch.onError((e) => reject(new ControlError(e.message)));
        ch.send({ type: 'HELLO', version: BUS_VERSION });
      });
    });
  }

  async status(timeoutMs = 5000): Promise<Record<string, string>> {
    const r = await this.ch.request({ type: 'STATUS' }, timeoutMs);
    if (r.type === 'STATUS_REPLY') return r.processes;
    throw new ControlError(r.type === 'ERROR' ? r.message : `unexpected ${r.type} from smtpd`);
  }

  /** a request; its answer, or a ControlError with smtpd's words */
  async request(msg: Parameters<Channel<ToClient, FromClient>['request']>[0], timeoutMs = 60_000): Promise<ToClient> {
    const r = await this.ch.request(msg, timeoutMs);
    if (r.type === 'ERROR') throw new ControlError(r.message);
    return r;
  }

  close(): void {
    this.ch.close();
  }
}
