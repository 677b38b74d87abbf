/**
 * queue <-> mta: relayed deliveries.
 *
 * queue -> mta: the message as raw byte frames on stream `stream`, then MTA_DELIVER (the
 * envelope: relay action, destination address, sender). Envelopes of one message handed over
 * together may share one SMTP transaction. mta -> queue: MTA_RESULT per envelope (ok,
 * tempfail, permfail and the text to keep as the envelope's last error).
 */
import { COMMON_MESSAGES } from './msg-common';
import { int, lit, obj, str, union, type Infer } from './schema';

export const RelayEnvelope = obj({ evpid: str, msgid: str, action: str, dest: str, sender: str });
export type RelayEnvelope = Infer<typeof RelayEnvelope>;

export const QueueToMta = union({
  ...COMMON_MESSAGES,
  MTA_DELIVER: { stream: int, envelope: RelayEnvelope },
});
export type QueueToMta = Infer<typeof QueueToMta>;

export const MtaToQueue = union({
  ...COMMON_MESSAGES,
  MTA_RESULT: { evpid: str, result: lit('ok', 'tempfail', 'permfail'), text: str },
});
export type MtaToQueue = Infer<typeof MtaToQueue>;
