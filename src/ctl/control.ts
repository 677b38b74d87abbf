/**
 * control: the smtpctl socket. Listens on the control socket (created before privileges are
 * dropped: mode 0660, group of the queue user), checks each client's BUS_VERSION and rights
 * (control-keys.ts: root may use every command, the socket's group the read-only ones: status,
 * show queue, envelope, message, status, stats, hosts, hoststats, relays, routes), and answers
 * requests by asking the other processes: STATUS (is every process alive?), SHOW_QUEUE,
 * SHOW_FILE (an envelope or a message), SCHEDULE, REMOVE, PAUSE (mda, mta, smtp, envelopes),
 * SHOW_STATUS, SHOW_STATS, LOG (brief or verbose, told to every worker), UPDATE_TABLE (by
 * the parent, which reads table files), SHOW_MTA, RESUME_ROUTE and MTA_BLOCK (the mta's hosts, routes,
 * relays). Ids are checked here before any worker sees them.
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
import type { QueueToControl } from '../bus/msg-control-queue';
import type { SchedulerToControl } from '../bus/msg-control-scheduler';
import { EVPID, QUEUE_ID, queueLine, runStateOf } from './queue-format';
import { removeKeys, verify, writeKeys, type ControlKeys, type Role } from '../util/control-keys';
import { randomBytes } from 'node:crypto';
import { runWorker, type PeerChannel, type WorkerContext } from '../bus/worker-runtime';
import type { WorkerName } from '../bus/topology';
import type { WorkerToControl } from '../bus/msg-control-common';
import type { SmtpToControl } from '../bus/msg-control-smtp';
import type { MtaToControl } from '../bus/msg-control-mta';

const CLIENT_MAX_FRAME = 64 * 1024;
const STATUS_TIMEOUT_MS = 1000;
const QUEUE_TIMEOUT_MS = 30_000;

class RequestError extends Error {}

/** a request to a worker; its answer, or a RequestError saying what went wrong */
async function ask<R>(ctx: WorkerContext, peer: WorkerName, msg: Parameters<PeerChannel['request']>[0]): Promise<R> {
  const ch = ctx.peers.get(peer);
  if (!ch) throw new RequestError(`the ${peer} process is not running (restarting?): try again`);
  const r = (await ch.request(msg, QUEUE_TIMEOUT_MS)) as unknown as R & { type: string; message?: string };
  if (r.type === 'CTL_QUEUE_FAIL') throw new RequestError(r.message ?? 'failed');
  return r;
}

/** show queue: the queue's envelopes with the scheduler's times */
async function showQueue(ctx: WorkerContext, id: string | undefined): Promise<string[]> {
  const [list, times] = await Promise.all([
    ask<Extract<QueueToControl, { type: 'CTL_QUEUE_ENTRIES' }>>(ctx, 'queue', { type: 'CTL_QUEUE_LIST', ...(id !== undefined ? { id } : {}) }),
    ask<Extract<SchedulerToControl, { type: 'CTL_SCHED_TIMES_REPLY' }>>(ctx, 'scheduler', { type: 'CTL_SCHED_TIMES' }),
  ]);
  const now = Math.floor(Date.now() / 1000);
  const suspended = new Set(times.suspended);
  return list.entries
    .sort((a, b) => a.ctime - b.ctime || a.evpid.localeCompare(b.evpid))
    .map((e) => (suspended.has(e.evpid) ? { ...e, flags: [e.flags, 'suspend'].filter(Boolean).join(',') } : e))
    .map((e) => queueLine(e, runStateOf(e, times.times[e.evpid], now)));
}

type SchedState = Extract<SchedulerToControl, { type: 'CTL_SCHED_STATE' }>;
type SmtpState = Extract<SmtpToControl, { type: 'CTL_SMTP_STATE' }>;

/** show status: OpenSMTPD's three lines */
async function showStatus(ctx: WorkerContext): Promise<string[]> {
  const [sched, smtp] = await Promise.all([
    ask<SchedState>(ctx, 'scheduler', { type: 'CTL_SCHED_PAUSE' }),
    ask<SmtpState>(ctx, 'smtp', { type: 'CTL_SMTP_PAUSE' }),
  ]);
  const word = (p: boolean) => (p ? 'paused' : 'running');
  return [`MDA ${word(sched.mda)}`, `MTA ${word(sched.mta)}`, `SMTP ${word(smtp.paused)}`];
}

/** show stats: every worker's counters, control's own, and the uptime */
async function showStats(ctx: WorkerContext, clients: number): Promise<Record<string, number>> {
  const out: Record<string, number> = { 'control.session': clients, uptime: Math.floor(process.uptime()) };
  await Promise.all(
    peersOf('control').map(async (peer) => {
      const r = await ask<Extract<WorkerToControl, { type: 'STATS_REPLY' }>>(ctx, peer, { type: 'STATS' });
      Object.assign(out, r.stats);
    }),
  );
  return out;
}

/** the number of smtpctl clients connected now */
let clientCount = 0;

const BAD_ID = 'use an envelope id (16 hex digits), a message id (8 hex digits) or "all"';

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

/** what a client of the group (not root) may ask: only what shows */
const READ_ONLY = new Set<FromClient['type']>(['PING', 'PONG', 'HELLO', 'PROVE', 'STATUS', 'SHOW_QUEUE', 'SHOW_FILE', 'SHOW_STATUS', 'SHOW_STATS', 'SHOW_MTA']);

/** the smtpctl words of a request, for a refusal */
const COMMAND_WORDS: Partial<Record<FromClient['type'], string>> = {
  SCHEDULE: 'schedule', REMOVE: 'remove', PAUSE: 'pause/resume', LOG: 'log', UPDATE_TABLE: 'update table', DISCOVER: 'discover',
  RESUME_ROUTE: 'resume route', MTA_BLOCK: 'pause/resume mta from', TRACE: 'trace/untrace', PROFILE: 'profile/unprofile',
};

function serveClient(ctx: WorkerContext, socket: net.Socket, keys: ControlKeys, socketPath: string): void {
  const ch = new Channel<FromClient, ToClient>({ self: 'control', peer: 'client', socket, decoder: FromClient, maxFrame: CLIENT_MAX_FRAME });
  let greeted = false;
  const nonce = randomBytes(16).toString('hex');
  let role: Role | undefined;
  const refuse = (message: string) => {
    ch.send({ type: 'ERROR', message });
    ch.close();
  };
  const fail = (re: number, message: string) => {
    if (!ch.isClosed) ch.send({ type: 'ERROR', re, message });
  };
  const answer = (re: number, p: Promise<ToClient>) =>
    p.then(
      (m) => {
        if (!ch.isClosed) ch.send(m);
      },
      (e: Error) => {
        if (!(e instanceof RequestError)) ctx.log.error({ event: 'control-request-failed' }, e.message);
        fail(re, e instanceof RequestError ? e.message : `smtpd could not answer: ${e.message}`);
      },
    );
  const handlers: Handlers<FromClient, void> = {
    HELLO: (m) => {
      if (m.version !== BUS_VERSION) {
        refuse(`smtpctl speaks protocol version ${m.version} but this smtpd speaks ${BUS_VERSION}: use the smtpctl of the same tsmtpd`);
        return;
      }
      greeted = true;
      ch.send({ type: 'HELLO', version: BUS_VERSION, nonce });
    },
    PROVE: (m) => {
      role = verify(keys, nonce, m.role, m.mac);
      if (role === undefined) ctx.log.warn({ event: 'control-proof-refused', role: m.role }, 'a client sent a wrong proof of its rights');
    },
    STATUS: (m) => {
      status(ctx).then((processes) => {
        if (!ch.isClosed) ch.send({ type: 'STATUS_REPLY', re: m.reqid, processes });
      }, (e) => ctx.log.error({ event: 'status-failed' }, String(e)));
    },
    SHOW_QUEUE: (m) => {
      if (m.id !== undefined && (!QUEUE_ID.test(m.id) || m.id === 'all')) return fail(m.reqid, `not a message or envelope id: ${JSON.stringify(m.id)}`);
      answer(m.reqid, showQueue(ctx, m.id).then((lines) => ({ type: 'LINES_REPLY', re: m.reqid, lines })));
    },
    SHOW_FILE: (m) => {
      const ok = m.what === 'envelope' ? EVPID.test(m.id) : QUEUE_ID.test(m.id) && m.id !== 'all';
      if (!ok) return fail(m.reqid, `not ${m.what === 'envelope' ? 'an envelope id (16 hex digits)' : 'a message or envelope id'}: ${JSON.stringify(m.id)}`);
      const r = ask<Extract<QueueToControl, { type: 'CTL_QUEUE_TEXT' }>>(ctx, 'queue', { type: 'CTL_QUEUE_SHOW', what: m.what, id: m.id });
      answer(m.reqid, r.then((t) => ({ type: 'TEXT_REPLY', re: m.reqid, text: t.text })));
    },
    SCHEDULE: (m) => {
      if (!QUEUE_ID.test(m.id)) return fail(m.reqid, `${JSON.stringify(m.id)}: ${BAD_ID}`);
      const r = ask<Extract<SchedulerToControl, { type: 'CTL_SCHED_COUNT' }>>(ctx, 'scheduler', { type: 'CTL_SCHED_NOW', id: m.id });
      answer(m.reqid, r.then((c) => ({ type: 'COUNT_REPLY', re: m.reqid, count: c.count })));
    },
    REMOVE: (m) => {
      if (!QUEUE_ID.test(m.id)) return fail(m.reqid, `${JSON.stringify(m.id)}: ${BAD_ID}`);
      const r = ask<Extract<QueueToControl, { type: 'CTL_QUEUE_COUNT' }>>(ctx, 'queue', { type: 'CTL_QUEUE_REMOVE', id: m.id });
      answer(m.reqid, r.then((c) => ({ type: 'COUNT_REPLY', re: m.reqid, count: c.count })));
    },
    PAUSE: (m) => {
      const verb = m.paused ? 'paused' : 'resumed';
      if (m.what === 'envelope') {
        if (m.id === undefined || !QUEUE_ID.test(m.id)) return fail(m.reqid, `${JSON.stringify(m.id ?? '')}: ${BAD_ID}`);
        const r = ask<Extract<SchedulerToControl, { type: 'CTL_SCHED_COUNT' }>>(ctx, 'scheduler', { type: 'CTL_SCHED_SUSPEND', id: m.id, suspended: m.paused });
        return answer(m.reqid, r.then((c) => ({ type: 'COUNT_REPLY', re: m.reqid, count: c.count })));
      }
      const r =
        m.what === 'smtp'
          ? ask<SmtpState>(ctx, 'smtp', { type: 'CTL_SMTP_PAUSE', paused: m.paused })
          : ask<SchedState>(ctx, 'scheduler', { type: 'CTL_SCHED_PAUSE', what: m.what, paused: m.paused });
      ctx.log.info({ event: `${m.what}-${verb}` }, `smtpctl: ${m.what} ${verb}`);
      answer(m.reqid, r.then(() => ({ type: 'TEXT_REPLY', re: m.reqid, text: 'command succeeded\n' })));
    },
    SHOW_STATUS: (m) => answer(m.reqid, showStatus(ctx).then((lines) => ({ type: 'LINES_REPLY', re: m.reqid, lines }))),
    SHOW_STATS: (m) => answer(m.reqid, showStats(ctx, clientCount).then((stats) => ({ type: 'STATS_REPLY', re: m.reqid, stats }))),
    TRACE: (m) => {
      for (const peer of peersOf('control')) ctx.peers.get(peer)?.send({ type: 'TRACE', subsystem: m.subsystem, on: m.on });
      ctx.log.info({ event: m.on ? 'trace' : 'untrace', subsystem: m.subsystem });
      ch.send({ type: 'TEXT_REPLY', re: m.reqid, text: 'command succeeded\n' });
    },
    PROFILE: (m) => {
      for (const peer of peersOf('control')) ctx.peers.get(peer)?.send({ type: 'PROFILE', what: m.what, on: m.on });
      ctx.log.info({ event: m.on ? 'profile' : 'unprofile', what: m.what });
      ch.send({ type: 'TEXT_REPLY', re: m.reqid, text: 'command succeeded\n' });
    },
    LOG: (m) => {
      for (const peer of peersOf('control')) ctx.peers.get(peer)?.send({ type: 'LOG_LEVEL', verbose: m.verbose });
      ctx.log.level = m.verbose ? 'debug' : 'info';
      ctx.log.info({ event: 'log-level', verbose: m.verbose });
      ch.send({ type: 'TEXT_REPLY', re: m.reqid, text: 'command succeeded\n' });
    },
    DISCOVER: (m) => {
      if (!QUEUE_ID.test(m.id) || m.id === 'all') return fail(m.reqid, `not a message or envelope id: ${JSON.stringify(m.id)}`);
      const r = ask<Extract<QueueToControl, { type: 'CTL_QUEUE_COUNT' }>>(ctx, 'queue', { type: 'CTL_QUEUE_DISCOVER', id: m.id });
      answer(m.reqid, r.then((c) => ({ type: 'COUNT_REPLY', re: m.reqid, count: c.count })));
    },
    UPDATE_TABLE: (m) => {
      const r = ctx.requestParent({ type: 'TABLE_UPDATE', name: m.name }, QUEUE_TIMEOUT_MS).then((a): ToClient => {
        if (a.type !== 'TABLE_UPDATE_RESULT') throw new RequestError('unexpected answer from the parent');
        if (!a.ok) throw new RequestError(a.text);
        return { type: 'TEXT_REPLY', re: m.reqid, text: `${a.text}\n` };
      });
      answer(m.reqid, r);
    },
    SHOW_MTA: (m) => {
      const r = ask<Extract<MtaToControl, { type: 'CTL_MTA_LINES' }>>(ctx, 'mta', { type: 'CTL_MTA_SHOW', what: m.what });
      answer(m.reqid, r.then((l) => ({ type: 'LINES_REPLY', re: m.reqid, lines: l.lines })));
    },
    MTA_BLOCK: (m) => {
      const r = ask<Extract<MtaToControl, { type: 'CTL_MTA_RESUMED' }>>(ctx, 'mta', { type: 'CTL_MTA_BLOCK', src: m.src, domain: m.domain, blocked: m.blocked }).then((a): ToClient => {
        if (!a.ok) throw new RequestError(a.text);
        return { type: 'TEXT_REPLY', re: m.reqid, text: 'command succeeded\n' };
      });
      answer(m.reqid, r);
    },
    RESUME_ROUTE: (m) => {
      const r = ask<Extract<MtaToControl, { type: 'CTL_MTA_RESUMED' }>>(ctx, 'mta', { type: 'CTL_MTA_RESUME_ROUTE', id: m.id }).then((a): ToClient => {
        if (!a.ok) throw new RequestError(a.text);
        return { type: 'TEXT_REPLY', re: m.reqid, text: 'command succeeded\n' };
      });
      answer(m.reqid, r);
    },
    PING: (m) => ch.send({ type: 'PONG', re: m.reqid, pid: process.pid, name: 'control' }),
    PONG: () => undefined,
  };
  clientCount++;
  ch.onClose(() => clientCount--);
  ch.onMessage((msg) => {
    if (!greeted && msg.type !== 'HELLO') {
      refuse('send HELLO with your protocol version first');
      return;
    }
    const reqid = (msg as { reqid?: number }).reqid;
    if (role === undefined && msg.type !== 'HELLO' && msg.type !== 'PROVE' && msg.type !== 'PONG') {
      if (reqid !== undefined) fail(reqid, `permission denied: smtpctl could not read ${socketPath}.key-group (the socket's group) nor ${socketPath}.key-root (root): run it as root, or as a member of the socket's group for the commands that only show`);
      return;
    }
    if (role === 'group' && !READ_ONLY.has(msg.type)) {
      if (reqid !== undefined) fail(reqid, `permission denied: "${COMMAND_WORDS[msg.type] ?? msg.type}" changes what smtpd does: run smtpctl as root (members of the socket's group may only show)`);
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
    let keys: ControlKeys | undefined;
    return {
      beforeDrop: () =>
        new Promise<void>((resolve, reject) => {
          fs.rmSync(path, { force: true });
          keys = writeKeys(path, ctx.settings.socketGid);
          server = net.createServer((s) => serveClient(ctx, s, keys!, path));
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
          removeKeys(path);
        } catch {
          // the directory may be the parent's alone: it removes the socket when it stops
        }
      },
    };
  });
}
