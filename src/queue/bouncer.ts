/**
 * Turning failed envelopes into bounces: the recipient failed for good (a permanent error) or
 * its envelope expired. The failures of one message that come within BATCH_MS of each other
 * (the recipients of one transaction, say) make one report, per kind (failed or expired).
 * The bounce (bounce.ts) is committed to the spool as a new message
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
import { bounceMessage, fullReturn, headerBlock, type BounceFailure } from './bounce';
import type { Spool, StoredEnvelope } from './spool';

export const BOUNCE_RETRY_MS = 60_000;
/** how long the first failure of a message waits for the others, to share one report */
export const BATCH_MS = 1000;

type Failed = readonly [StoredEnvelope, string];

/** what a report tells: a failure, an expiry, or (NOTIFY=SUCCESS) a delivery */
export type ReportKind = 'failed' | 'expired' | 'delivered' | 'relayed';

/** the recipient's NOTIFY (RFC 3461), if the sender gave one */
function notifyOf(e: StoredEnvelope): readonly string[] | undefined {
  const dsn = e.dsn as { notify?: string[] } | undefined;
  return Array.isArray(dsn?.notify) ? dsn.notify : undefined;
}

function dsnField(e: StoredEnvelope, field: 'orcpt' | 'envid'): string | undefined {
  const v = (e.dsn as Record<string, unknown> | undefined)?.[field];
  return typeof v === 'string' ? v : undefined;
}

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
  private waiting: [Failed[], ReportKind][] = [];
  /** failures gathered for one report, by message and kind */
  private readonly batches = new Map<string, Failed[]>();

  constructor(private readonly deps: BouncerDeps) {}

  /** bounce `e` (failed with `error`), then remove it; retried later if that cannot be done now */
  bounce(e: StoredEnvelope, error: string, expired: boolean): void {
    if (String(e.sender) === '') {
      this.deps.worker.log.warn({ event: 'bounce-not-sent', evpid: e.evpid, rcpt: e.rcpt }, `a bounce failed (${error}): no bounce is sent for a bounce`);
      this.deps.remove(e);
      return;
    }
    const notify = notifyOf(e);
    if (notify !== undefined && !notify.includes('FAILURE')) {
      this.deps.worker.log.info({ event: 'bounce-not-requested', evpid: e.evpid, rcpt: e.rcpt, notify: notify.join(',') }, error);
      this.deps.remove(e);
      return;
    }
    this.gather(e, error, expired ? 'expired' : 'failed');
  }

  /** `e` was delivered: a success notice if its sender asked for one (NOTIFY=SUCCESS; `relayed`:
   * the next hop will not send one), then it is removed. False: no notice was asked for. */
  delivered(e: StoredEnvelope, text: string, relayed: boolean): boolean {
    if (String(e.sender) === '' || !notifyOf(e)?.includes('SUCCESS')) return false;
    this.gather(e, text, relayed ? 'relayed' : 'delivered');
    return true;
  }

  private gather(e: StoredEnvelope, error: string, kind: ReportKind): void {
    const key = `${e.msgid} ${kind}`;
    const batch = this.batches.get(key);
    if (batch) {
      batch.push([e, error]);
      return;
    }
    this.batches.set(key, [[e, error]]);
    setTimeout(() => {
      const list = this.batches.get(key) ?? [];
      this.batches.delete(key);
      this.send(list, kind);
    }, BATCH_MS).unref();
  }

  private send(list: Failed[], kind: ReportKind): void {
    const lka = this.deps.lka();
    if (!lka || lka.isClosed) {
      this.waiting.push([list, kind]);
      return;
    }
    this.attempt(list, kind).catch((err: unknown) => {
      this.deps.worker.log.error({ event: 'bounce-failed', evpids: list.map(([e]) => e.evpid) }, `${String(err)}; trying again in ${BOUNCE_RETRY_MS / 1000} s`);
      setTimeout(() => this.send(list, kind), BOUNCE_RETRY_MS).unref();
    });
  }

  /** lka is there (again): the bounces that waited for it go on */
  lkaReady(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const [list, kind] of waiting) this.send(list, kind);
  }

  /** tell the sender of `e` that it is still waiting (the envelope stays; a warning that
   * cannot be made now is only logged: the next interval, or the bounce, will come) */
  warn(e: StoredEnvelope, error: string, until: number): void {
    const notify = notifyOf(e);
    if (String(e.sender) === '' || (notify !== undefined && !notify.includes('DELAY'))) return;
    const orcpt = dsnField(e, 'orcpt');
    this.report(e, [{ rcpt: String(e.rcpt), error, expired: false, delayedUntil: until, ...(orcpt ? { orcpt } : {}) }]).then(
      (msgid) => this.deps.worker.log.info({ event: 'delay-warning-queued', evpid: e.evpid, msgid, to: e.sender }),
      (err: unknown) => this.deps.worker.log.error({ event: 'delay-warning-failed', evpid: e.evpid }, String(err)),
    );
  }

  /** store a report about `e` (and the other recipients of its message in `failures`) for its
   * sender, routed by lka; returns the report's msgid, or undefined when no rule takes it to
   * the sender (logged) */
  private async report(e: StoredEnvelope, failures: BounceFailure[]): Promise<string | undefined> {
    const { worker, spool } = this.deps;
    const sender = String(e.sender);
    const lka = this.deps.lka();
    if (!lka || lka.isClosed) throw new Error('lka is not connected');
    const route = await lka.request<LkaToQueue>({ type: 'LKA_BOUNCE_ROUTE', rcpt: sender }, 10_000);
    if (route.type !== 'LKA_BOUNCE_ROUTE_OK') {
      const why = route.type === 'LKA_BOUNCE_ROUTE_FAIL' ? route.text : 'unexpected answer';
      worker.log.error({ event: 'bounce-unroutable', evpid: e.evpid, sender }, `no rule takes the report to the sender (${why}); it was about: ${failures.map((f) => f.error).join('; ')}`);
      return undefined;
    }
    const original = await spool.readMessage(e.msgid);
    const hostname = serverName();
    const msgid = spool.create();
    const envid = dsnField(e, 'envid');
    const failure = failures.every((f) => f.success === undefined && f.delayedUntil === undefined);
    const full = fullReturn((e.dsn as { ret?: unknown } | undefined)?.ret, failure, original);
    spool.append(msgid, bounceMessage({ hostname, sender, arrival: e.ctime, failures, headers: headerBlock(original), id: msgid, now: new Date(), ...(envid ? { envid } : {}), ...(full ? { full } : {}) }));
    const envelopes = route.targets.map((t) => ({ action: t.action, sender: '', rcpt: sender, dest: t.dest, ...(t.via ? { via: t.via } : {}), helo: hostname, src: 'local', tls: false, bounce: true }));
    this.deps.add(await spool.commit(msgid, envelopes));
    return msgid;
  }

  /** one report for the envelopes of one message, then they go */
  private async attempt(list: Failed[], kind: ReportKind): Promise<void> {
    const e = list[0]![0];
    const success = kind === 'delivered' || kind === 'relayed' ? kind : undefined;
    const failures = list.map(([x, error]) => {
      const orcpt = dsnField(x, 'orcpt');
      return { rcpt: String(x.rcpt), error, expired: kind === 'expired', ...(success ? { success } : {}), ...(orcpt ? { orcpt } : {}) };
    });
    const msgid = await this.report(e, failures);
    if (msgid !== undefined) {
      this.made++;
      for (const [x] of list) this.deps.worker.log.info({ event: success ? 'success-notice-queued' : 'bounce-queued', evpid: x.evpid, msgid, to: x.sender, kind });
    }
    for (const [x] of list) this.deps.remove(x);
  }
}
