/**
 * Messages on the direct channels between workers, per pair. Today every pair speaks only the
 * common messages (PING/PONG); each feature adds its pair's types here (or in a file of its
 * own per pair, msg-<a>-<b>.ts) and bumps BUS_VERSION.
 */
import { COMMON_MESSAGES } from './msg-common';
import { union, type Infer, type UnionDecoder } from './schema';
import { assertAllowed, type WorkerName } from './topology';

export const PeerMessage = union({ ...COMMON_MESSAGES });
export type PeerMessage = Infer<typeof PeerMessage>;

/** The decoder for what `self` may receive from `peer`; throws for a pair not in the topology. */
export function decoderFor(self: WorkerName, peer: WorkerName): UnionDecoder<PeerMessage> {
  assertAllowed(self, peer);
  return PeerMessage;
}
