/**
 * queue <-> mda: local deliveries.
 *
 * queue -> mda: the message as raw byte frames on stream `stream`, then MDA_DELIVER (the
 * envelope: action, destination, sender). mda -> queue: MDA_RESULT (ok, tempfail, permfail and
 * the text to keep as the envelope's last error).
 */
import { COMMON_MESSAGES } from './msg-common';
import { int, lit, obj, opt, str, union, type Infer } from './schema';
import { ForwardVia } from './msg-smtp-lka';

export const DeliveryEnvelope = obj({ evpid: str, action: str, dest: str, rcpt: str, sender: str, via: opt(ForwardVia) });
export type DeliveryEnvelope = Infer<typeof DeliveryEnvelope>;

export const QueueToMda = union({
  ...COMMON_MESSAGES,
  MDA_DELIVER: { stream: int, envelope: DeliveryEnvelope },
});
export type QueueToMda = Infer<typeof QueueToMda>;

export const MdaToQueue = union({
  ...COMMON_MESSAGES,
  MDA_RESULT: { evpid: str, result: lit('ok', 'tempfail', 'permfail'), text: str },
});
export type MdaToQueue = Infer<typeof MdaToQueue>;
