/**
 * queue <-> mda: local deliveries.
 *
 * queue -> mda: MDA_DELIVER (the envelope: action, destination, sender), without the message.
 * mda -> queue: MDA_FETCH once the delivery has a slot (mda limit max-session and
 * max-session-per-user), so that a delivery waiting for one holds no message in memory.
 * queue -> mda: the message as raw byte frames on stream `stream`, then MDA_CONTENT; or
 * MDA_NO_CONTENT with the reason (the delivery is then a temporary failure).
 * mda -> queue: MDA_RESULT (ok, tempfail, permfail and the text to keep as the envelope's last
 * error).
 */
import { COMMON_MESSAGES } from './msg-common';
import { int, lit, obj, opt, str, union, type Infer } from './schema';
import { ForwardVia } from './msg-smtp-lka';

export const DeliveryEnvelope = obj({ evpid: str, action: str, dest: str, rcpt: str, sender: str, via: opt(ForwardVia) });
export type DeliveryEnvelope = Infer<typeof DeliveryEnvelope>;

export const QueueToMda = union({
  ...COMMON_MESSAGES,
  MDA_DELIVER: { envelope: DeliveryEnvelope },
  MDA_CONTENT: { evpid: str, stream: int },
  MDA_NO_CONTENT: { evpid: str, text: str },
});
export type QueueToMda = Infer<typeof QueueToMda>;

export const MdaToQueue = union({
  ...COMMON_MESSAGES,
  MDA_FETCH: { evpid: str },
  MDA_RESULT: { evpid: str, result: lit('ok', 'tempfail', 'permfail'), text: str },
});
export type MdaToQueue = Infer<typeof MdaToQueue>;
