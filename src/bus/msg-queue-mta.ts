/**
 * queue <-> mta: relayed deliveries.
 *
 * queue -> mta: MTA_DELIVER (the envelope: relay action, destination address, sender), without
 * the message. Envelopes of one message handed over together may share one SMTP transaction.
 * mta -> queue: MTA_FETCH for one of them once mta has a connection for the transaction
 * (bus/content-fetch.ts); queue -> mta: the message as raw byte frames on stream `stream`,
 * then MTA_CONTENT, or MTA_NO_CONTENT with the reason (a temporary failure).
 * mta -> queue: MTA_RESULT per envelope (ok,
 * tempfail, permfail and the text to keep as the envelope's last error); MTA_SCHEDULE: a
 * delivery to a domain worked again, so the envelopes deferred for it (up to `mta
 * max-deferred`) are tried now instead of at their next retry.
 */
import { COMMON_MESSAGES } from './msg-common';
import { arr, bool, int, lit, obj, opt, str, union, type Infer } from './schema';
import { DsnRequest } from './msg-smtp-queue';

/** dest: where the mail goes; rcpt: the recipient as the client gave it (another address when
 * an alias or a .forward sent the mail on: `srs` rewrites the sender into its domain) */
export const RelayEnvelope = obj({ evpid: str, msgid: str, action: str, dest: str, rcpt: str, sender: str, dsn: opt(DsnRequest) });
export type RelayEnvelope = Infer<typeof RelayEnvelope>;

export const QueueToMta = union({
  ...COMMON_MESSAGES,
  MTA_DELIVER: { envelope: RelayEnvelope },
  MTA_CONTENT: { evpid: str, stream: int },
  MTA_NO_CONTENT: { evpid: str, text: str },
});
export type QueueToMta = Infer<typeof QueueToMta>;

export const MtaToQueue = union({
  ...COMMON_MESSAGES,
  /** dsnPassed: the next hop took the sender's DSN request (it reports success itself) */
  MTA_RESULT: { evpid: str, result: lit('ok', 'tempfail', 'permfail'), text: str, dsnPassed: opt(bool) },
  MTA_SCHEDULE: { evpids: arr(str, 100_000) },
  MTA_FETCH: { evpid: str },
});
export type MtaToQueue = Infer<typeof MtaToQueue>;
