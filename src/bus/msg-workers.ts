/**
 * Messages on the direct channels between workers: which union each side of each pair
 * receives. Pairs without messages of their own speak only the common ones (PING/PONG).
 * Adding a type to a pair's union bumps BUS_VERSION.
 */
import { COMMON_MESSAGES } from './msg-common';
import { LkaToSmtp, SmtpToLka } from './msg-smtp-lka';
import { QueueToSmtp, SmtpToQueue } from './msg-smtp-queue';
import { MdaToQueue, QueueToMda } from './msg-queue-mda';
import { MtaToQueue, QueueToMta } from './msg-queue-mta';
import { LkaToMta, MtaToLka } from './msg-mta-lka';
import { QueueToScheduler, SchedulerToQueue } from './msg-queue-scheduler';
import { LkaToQueue, QueueToLka } from './msg-queue-lka';
import { ControlToQueue, QueueToControl } from './msg-control-queue';
import { ControlToScheduler, SchedulerToControl } from './msg-control-scheduler';
import { ControlToWorker, WorkerToControl } from './msg-control-common';
import { ControlToSmtp, SmtpToControl } from './msg-control-smtp';
import { ControlToMta, MtaToControl } from './msg-control-mta';
import { union, type Infer, type UnionDecoder } from './schema';
import { assertAllowed, type WorkerName } from './topology';

export const CommonMessage = union({ ...COMMON_MESSAGES });
export type CommonMessage = Infer<typeof CommonMessage>;

/** Any message a worker may receive from a peer. */
export type PeerMessage =
  | CommonMessage
  | SmtpToLka
  | LkaToSmtp
  | SmtpToQueue
  | QueueToSmtp
  | QueueToScheduler
  | SchedulerToQueue
  | QueueToMda
  | MdaToQueue
  | QueueToMta
  | MtaToQueue
  | MtaToLka
  | LkaToMta
  | QueueToLka
  | LkaToQueue
  | ControlToQueue
  | QueueToControl
  | ControlToScheduler
  | SchedulerToControl
  | ControlToWorker
  | WorkerToControl
  | ControlToSmtp
  | SmtpToControl
  | ControlToMta
  | MtaToControl;

/** receiver <- sender: the union the receiver decodes */
const RECEIVES: Readonly<Record<string, UnionDecoder<PeerMessage>>> = {
  'lka<-smtp': SmtpToLka,
  'smtp<-lka': LkaToSmtp,
  'queue<-smtp': SmtpToQueue,
  'smtp<-queue': QueueToSmtp,
  'scheduler<-queue': QueueToScheduler,
  'queue<-scheduler': SchedulerToQueue,
  'mda<-queue': QueueToMda,
  'queue<-mda': MdaToQueue,
  'mta<-queue': QueueToMta,
  'queue<-mta': MtaToQueue,
  'lka<-mta': MtaToLka,
  'mta<-lka': LkaToMta,
  'lka<-queue': QueueToLka,
  'queue<-lka': LkaToQueue,
  'queue<-control': ControlToQueue,
  'control<-queue': QueueToControl,
  'scheduler<-control': ControlToScheduler,
  'control<-scheduler': SchedulerToControl,
  'smtp<-control': ControlToSmtp,
  'control<-smtp': SmtpToControl,
  'lka<-control': ControlToWorker,
  'control<-lka': WorkerToControl,
  'mta<-control': ControlToMta,
  'control<-mta': MtaToControl,
  'mda<-control': ControlToWorker,
  'control<-mda': WorkerToControl,
};

/** The decoder for what `self` may receive from `peer`; throws for a pair not in the topology. */
export function decoderFor(self: WorkerName, peer: WorkerName): UnionDecoder<PeerMessage> {
  assertAllowed(self, peer);
  return RECEIVES[`${self}<-${peer}`] ?? CommonMessage;
}
