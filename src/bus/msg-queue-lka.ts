/**
 * queue <-> lka: where a bounce goes.
 *
 * queue -> lka: LKA_BOUNCE_ROUTE (the original sender, to which a bounce is to be sent: the
 * ruleset decides it as a local submission with the null sender, as OpenSMTPD does).
 * lka -> queue: LKA_BOUNCE_ROUTE_OK (the envelopes: action and destination) or
 * LKA_BOUNCE_ROUTE_FAIL (no rule takes it: the bounce is dropped, and logged).
 */
import { COMMON_MESSAGES } from './msg-common';
import { EnvelopeTarget } from './msg-smtp-lka';
import { arr, int, str, union, type Infer } from './schema';

export const QueueToLka = union({
  ...COMMON_MESSAGES,
  LKA_BOUNCE_ROUTE: { reqid: int, rcpt: str },
});
export type QueueToLka = Infer<typeof QueueToLka>;

export const LkaToQueue = union({
  ...COMMON_MESSAGES,
  LKA_BOUNCE_ROUTE_OK: { re: int, targets: arr(EnvelopeTarget, 1000) },
  LKA_BOUNCE_ROUTE_FAIL: { re: int, text: str },
});
export type LkaToQueue = Infer<typeof LkaToQueue>;
