/**
 * queue: the only owner of the spool. Receives messages from smtp (body as raw byte frames),
 * commits them durably (see spool.ts) and only then answers, so smtp can say 250.
 * Privileges: runs as the queue user (_smtpq). Peers: control, smtp, scheduler, lka, mta, mda.
 * Never talks to the network.
 */
import type { QueueToSmtp, SmtpToQueue } from '../bus/msg-smtp-queue';
import { dispatch, type Handlers } from '../bus/schema';
import { runWorker, type PeerChannel } from '../bus/worker-runtime';
import { Spool, SpoolFullError } from './spool';

function failure(re: number, e: unknown): QueueToSmtp {
  const code = (e as NodeJS.ErrnoException).code;
  if (e instanceof SpoolFullError || code === 'ENOSPC' || code === 'EDQUOT') {
    return { type: 'QUEUE_FAIL', re, code: 452, esc: '4.3.1', text: 'Insufficient system storage' };
  }
  return { type: 'QUEUE_FAIL', re, code: 451, esc: '4.3.0', text: 'Temporary failure in the queue' };
}

export function main(): void {
  runWorker('queue', (worker) => {
    const spool = new Spool(worker.settings.spool);
    /** messages whose body could not be written: their commit fails */
    const failed = new Map<string, unknown>();
    const fromSmtp = (ch: PeerChannel): Handlers<SmtpToQueue, void> => ({
      QUEUE_MSG_CREATE: (m) => {
        try {
          ch.send({ type: 'QUEUE_MSG_CREATED', re: m.reqid, msgid: spool.create() });
        } catch (e) {
          worker.log.error({ event: 'queue-create-failed' }, String(e));
          ch.send(failure(m.reqid, e));
        }
      },
      QUEUE_MSG_COMMIT: (m) => {
        const writeError = failed.get(m.msgid);
        if (writeError !== undefined) {
          failed.delete(m.msgid);
          spool.abort(m.msgid);
          ch.send(failure(m.reqid, writeError));
          return;
        }
        try {
          const stored = spool.commit(m.msgid, m.envelopes);
          worker.log.info({ event: 'message-committed', msgid: m.msgid, envelopes: stored.length });
          ch.send({ type: 'QUEUE_MSG_COMMITTED', re: m.reqid, msgid: m.msgid, evpids: stored.map((e) => e.evpid) });
        } catch (e) {
          worker.log.error({ event: 'queue-commit-failed', msgid: m.msgid }, String(e));
          spool.abort(m.msgid);
          ch.send(failure(m.reqid, e));
        }
      },
      QUEUE_MSG_ABORT: (m) => {
        failed.delete(m.msgid);
        spool.abort(m.msgid);
      },
      PING: () => undefined,
      PONG: () => undefined,
    });
    return {
      beforeDrop: () => undefined,
      onPeer: (peer, ch) => {
        if (peer !== 'smtp') return;
        ch.onClose(() => {
          for (const msgid of spool.receiving()) spool.abort(msgid);
        });
      },
      onPeerMessage: (peer, msg, ch) => {
        if (peer === 'smtp') dispatch(fromSmtp(ch), msg as SmtpToQueue);
      },
      onPeerBytes: (peer, id, bytes) => {
        const msgid = id.toString(16).padStart(8, '0');
        if (peer !== 'smtp' || !spool.isOpen(msgid)) return;
        try {
          spool.append(msgid, bytes);
        } catch (e) {
          if (!failed.has(msgid)) worker.log.error({ event: 'queue-write-failed', msgid }, String(e));
          failed.set(msgid, e);
        }
      },
      onStart: () => {
        const { purged, failed: stuck } = spool.open();
        if (purged > 0) worker.log.info({ event: 'incoming-purged', count: purged });
        for (const f of stuck) worker.log.error({ event: 'incoming-purge-failed', entry: f.name }, f.error);
      },
    };
  });
}
