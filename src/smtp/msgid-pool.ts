/**
 * Message ids reserved by the queue ahead of need: smtp asks for RESERVE_BATCH at a time, so a
 * message does not wait for a round trip to the queue before its first byte (the Received
 * header carries the msgid, so it is needed first). Ids reserved from a queue channel that has
 * since gone away are dropped (a restarted queue does not know them).
 * Privileges: none (smtp). Peers: queue (QUEUE_MSG_CREATE).
 */
import type { QueueToSmtp } from '../bus/msg-smtp-queue';
import type { PeerChannel } from '../bus/worker-runtime';

export const RESERVE_BATCH = 16;

export type Taken = { readonly msgid: string } | { readonly fail: QueueToSmtp | undefined };

export class MsgidPool {
  private ids: string[] = [];
  private from: PeerChannel | undefined;
  private refill: Promise<QueueToSmtp | undefined> | undefined;

  /** a reserved msgid, or why there is none (the queue's failure; undefined: no answer) */
  async take(queue: PeerChannel): Promise<Taken> {
    for (;;) {
      if (queue !== this.from || queue.isClosed) {
        this.ids = [];
        this.from = queue;
      }
      const id = this.ids.pop();
      if (id !== undefined) return { msgid: id };
      this.refill ??= queue
        .request<QueueToSmtp>({ type: 'QUEUE_MSG_CREATE', count: RESERVE_BATCH })
        .catch(() => undefined)
        .then((r) => {
          this.refill = undefined;
          if (r?.type === 'QUEUE_MSG_CREATED' && queue === this.from) this.ids.push(...r.msgids);
          return r;
        });
      const r = await this.refill;
      if (r?.type !== 'QUEUE_MSG_CREATED' || r.msgids.length === 0) return { fail: r };
    }
  }
}
