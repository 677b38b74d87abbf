/**
 * queue <-> mta: relayed deliveries.
 *
 * queue -> mta: the message as raw byte frames on stream `stream`, then MTA_DELIVER (the
 * envelope: relay action, destination address, sender). Envelopes of one message handed over
 * together may share one SMTP transaction. mta -> queue: MTA_RESULT per envelope (ok,
 * tempfail, permfail and the text to keep as the envelope's last error).
 */
import { COMMON_MESSAGES } from './msg-common';
import { bool, int, lit, obj, opt, str, union, type Infer } from './schema';
import { DsnRequest } from './msg-smtp-queue';

export const RelayEnvelope = obj({ evpid: str, msgid: str, action: str, dest: str, sender: str, dsn: opt(DsnRequest) });
export type RelayEnvelope = Infer<typeof RelayEnvelope>;

export const QueueToMta = union({
  ...COMMON_MESSAGES,
  MTA_DELIVER: { stream: int, envelope: RelayEnvelope },
});
export type QueueToMta = Infer<typeof QueueToMta>;

export const MtaToQueue = union({
  ...COMMON_MESSAGES,
  /** dsnPassed: the next hop took the sender's DSN request (it reports success itself) */
  MTA_RESULT: { evpid: str, result: lit('ok', 'tempfail', 'permfail'), text: str, dsnPassed: opt(bool) },
});
export type MtaToQueue = Infer<typeof MtaToQueue>;
