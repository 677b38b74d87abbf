/**
 * Turning a failed envelope into a bounce: the recipient failed for good (a permanent error)
 * or its envelope expired. The bounce (bounce.ts) is committed to the spool as a new message
 * from the null sender, routed by lka's rules like a local submission, and only then is the
 * failed envelope removed: an accepted message is delivered or bounced, never just dropped.
 * If the bounce cannot be stored now (a full disk), it is tried again a minute later and the
 * envelope stays; while lka is not connected, bounces wait for it. A failure of a bounce (null sender) bounces to nobody (RFC
 * 5321 §6.1): it is logged and removed.
 * Privileges: the queue user. Peers: lka (routes), through the queue's channels.
 */
import type { LkaToQueue } from '../bus/msg-queue-lka';
import type { PeerChannel, WorkerContext } from '../bus/worker-runtime';
import { serverName } from '../util/hostname';
import { bounceMessage, headerBlock, type BounceFailure } from './bounce';
import type { Spool, StoredEnvelope } from './spool';

export const BOUNCE_RETRY_MS = 60_000;

export interface BouncerDeps {
  readonly worker: WorkerContext;
  readonly spool: Spool;
  lka(): PeerChannel | undefined;
  /** new envelopes (the bounce's) to schedule */
  add(list: readonly StoredEnvelope[]): void;
  /** the failed envelope is done with: forget it and remove it from the spool */
  remove(e: StoredEnvelope): void;
}

export class Bouncer {
  /** bounces queued so far (smtpctl show stats: queue.bounce) */
  made = 0;

  /** bounces waiting for lka (starting or restarting) */
  private waiting: [StoredEnvelope, string, boolean][] = [];

  constructor(private readonly deps: BouncerDeps) {}

  /** bounce `e` (failed with `error`), then remove it; retried later if that cannot be done now */
  bounce(e: StoredEnvelope, error: string, expired: boolean): void {
    const lka = this.deps.lka();
    if (!lka || lka.isClosed) {
      this.waiting.push([e, error, expired]);
      return;
    }
    this.attempt(e, error, expired).catch((err: unknown) => {
      this.deps.worker.log.error({ event: 'bounce-failed', evpid: e.evpid }, `${String(err)}; trying again in ${BOUNCE_RETRY_MS / 1000} s`);
      setTimeout(() => this.bounce(e, error, expired), BOUNCE_RETRY_MS).unref();
    });
  }

  /** lka is there (again): the bounces that waited for it go on */
  lkaReady(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const [e, error, expired] of waiting) this.bounce(e, error, expired);
  }

  /** tell the sender of `e` that it is still waiting (the envelope stays; a warning that
   * cannot be made now is only logged: the next interval, or the bounce, will come) */
  warn(e: StoredEnvelope, error: string, until: number): void {
    if (String(e.sender) === '') return;
    this.report(e, { rcpt: String(e.rcpt), error, expired: false, delayedUntil: until }).then(
      (msgid) => this.deps.worker.log.info({ event: 'delay-warning-queued', evpid: e.evpid, msgid, to: e.sender }),
      (err: unknown) => this.deps.worker.log.error({ event: 'delay-warning-failed', evpid: e.evpid }, String(err)),
    );
  }

  /** store a report about `e` for its sender, routed by lka; returns the report's msgid, or
   * undefined when no rule takes it to the sender (logged) */
  private async report(e: StoredEnvelope, failure: BounceFailure): Promise<string | undefined> {
    const { worker, spool } = this.deps;
    const sender = String(e.sender);
    const lka = this.deps.lka();
    if (!lka || lka.isClosed) throw new Error('lka is not connected');
    const route = await lka.request<LkaToQueue>({ type: 'LKA_BOUNCE_ROUTE', rcpt: sender }, 10_000);
    if (route.type !== 'LKA_BOUNCE_ROUTE_OK') {
      const why = route.type === 'LKA_BOUNCE_ROUTE_FAIL' ? route.text : 'unexpected answer';
      worker.log.error({ event: 'bounce-unroutable', evpid: e.evpid, sender }, `no rule takes the report to the sender (${why}); it was about: ${failure.error}`);
      return undefined;
    }
    const original = await spool.readMessage(e.msgid);
    const hostname = serverName();
    const msgid = spool.create();
    spool.append(msgid, bounceMessage({ hostname, sender, arrival: e.ctime, failures: [failure], headers: headerBlock(original), id: msgid, now: new Date() }));
    const envelopes = route.targets.map((t) => ({ action: t.action, sender: '', rcpt: sender, dest: t.dest, ...(t.via ? { via: t.via } : {}), helo: hostname, src: 'local', tls: false, bounce: true }));
    this.deps.add(await spool.commit(msgid, envelopes));
    return msgid;
  }

  private async attempt(e: StoredEnvelope, error: string, expired: boolean): Promise<void> {
    if (String(e.sender) === '') {
      this.deps.worker.log.warn({ event: 'bounce-not-sent', evpid: e.evpid, rcpt: e.rcpt }, `a bounce failed (${error}): no bounce is sent for a bounce`);
      this.deps.remove(e);
      return;
    }
    const msgid = await this.report(e, { rcpt: String(e.rcpt), error, expired });
    if (msgid !== undefined) {
      this.made++;
      this.deps.worker.log.info({ event: 'bounce-queued', evpid: e.evpid, msgid, to: e.sender, expired });
    }
    this.deps.remove(e);
  }
}
