/**
 * control: the smtpctl socket. Listens on the control socket (created before privileges are
 * dropped: mode 0660, group of the queue user), checks each client's BUS_VERSION, and answers
 * requests by asking the other processes. Today: STATUS (is every process alive?).
 * Privileges: runs as the daemon user (_smtpd). Peers: lka, queue, scheduler, smtp, mta, mda,
 * and the parent over IPC. Never opens the spool. A malformed frame from a client closes that
 * client only.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Channel } from '../bus/channel';
import { FromClient, type ToClient } from '../bus/msg-control-client';
import { dispatch, type Handlers } from '../bus/schema';
import { peersOf } from '../bus/topology';
import { BUS_VERSION } from '../bus/version';
import { runWorker, type WorkerContext } from '../bus/worker-runtime';

const CLIENT_MAX_FRAME = 64 * 1024;
const STATUS_TIMEOUT_MS = 1000;

async function status(ctx: WorkerContext): Promise<Record<string, string>> {
  const out: Record<string, string> = { control: `ok pid ${process.pid}` };
  const asks = peersOf('control').map(async (peer) => {
    const ch = ctx.peers.get(peer);
    if (!ch) {
      out[peer] = 'no channel';
      return;
    }
    try {
      const pong = await ch.request({ type: 'PING' }, STATUS_TIMEOUT_MS);
      out[peer] = pong.type === 'PONG' ? `ok pid ${pong.pid}` : `unexpected ${pong.type}`;
    } catch (e) {
      out[peer] = (e as Error).message;
    }
  });
  const parent = ctx.pingParent(STATUS_TIMEOUT_MS).then(
    (pid) => (out.parent = `ok pid ${pid}`),
    (e: Error) => (out.parent = e.message),
  );
  await Promise.all([...asks, parent]);
  return out;
}

function serveClient(ctx: WorkerContext, socket: net.Socket): void {
  const ch = new Channel<FromClient, ToClient>({ self: 'control', peer: 'client', socket, decoder: FromClient, maxFrame: CLIENT_MAX_FRAME });
  let greeted = false;
  const refuse = (message: string) => {
    ch.send({ type: 'ERROR', message });
    ch.close();
  };
  const handlers: Handlers<FromClient, void> = {
    HELLO: (m) => {
      if (m.version !== BUS_VERSION) {
        refuse(`smtpctl speaks protocol version ${m.version} but this smtpd speaks ${BUS_VERSION}: use the smtpctl of the same tsmtpd`);
        return;
      }
      greeted = true;
      ch.send({ type: 'HELLO', version: BUS_VERSION });
    },
    STATUS: (m) => {
      status(ctx).then((processes) => {
        if (!ch.isClosed) ch.send({ type: 'STATUS_REPLY', re: m.reqid, processes });
      }, (e) => ctx.log.error({ event: 'status-failed' }, String(e)));
    },
    PING: (m) => ch.send({ type: 'PONG', re: m.reqid, pid: process.pid, name: 'control' }),
    PONG: () => undefined,
  };
  ch.onMessage((msg) => {
    if (!greeted && msg.type !== 'HELLO') {
      refuse('send HELLO with your protocol version first');
      return;
    }
    dispatch(handlers, msg);
  }).onError((err) => {
    ctx.log.warn({ event: 'client-error' }, err.message);
  });
}

export function main(): void {
  runWorker('control', (ctx) => {
    let server: net.Server | undefined;
    const path = ctx.settings.socket;
    return {
      beforeDrop: () =>
        new Promise<void>((resolve, reject) => {
          fs.rmSync(path, { force: true });
          server = net.createServer((s) => serveClient(ctx, s));
          server.once('error', reject);
          server.listen(path, () => {
            fs.chmodSync(path, 0o660);
            if (ctx.settings.socketGid !== undefined) fs.chownSync(path, 0, ctx.settings.socketGid);
            ctx.log.info({ event: 'control-listening', socket: path });
            resolve();
          });
        }),
      onShutdown: () => {
        server?.close();
        try {
          fs.rmSync(path, { force: true });
        } catch {
          // the directory may be the parent's alone: it removes the socket when it stops
        }
      },
    };
  });
}
