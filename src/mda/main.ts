/**
 * mda: local delivery coordination. Receives envelopes from the queue, asks it for each
 * message when its delivery can start (bus/content-fetch.ts, delivery-slots.ts), and hands the
 * message to the delivery helper of the recipient user, which writes it as that user (maildir,
 * mbox) or runs the action's mda command as that user; LMTP actions are delivered by mda
 * itself, to the action's server (lmtp.ts).
 * Privileges: runs as the daemon user (_smtpd). Peers: control, queue, lka; the parent starts
 * the helpers; the helpers; LMTP servers. Never runs anything through a shell with envelope
 * data.
 */
import type { Config, LocalAction } from '../parse/config';
import type { DeliveryEnvelope, QueueToMda } from '../bus/msg-queue-mda';
import { dispatch, type Handlers } from '../bus/schema';
import { perChannel, runWorker, type PeerChannel, type WorkerContext } from '../bus/worker-runtime';
import { parseAddress, stripSubaddress } from '../mail/address';
import { splitCommand, wrapCommand } from '../mail/command-line';
import { hasDeliveredTo, withDeliveredTo } from '../mail/delivered-to';
import { MDA_LIMIT_DEFAULTS } from '../mail/mda-limit-defaults';
import { Helpers, type Outcome } from './helpers';
import { deliverLmtp } from './lmtp';
import { DeliverySlots } from './delivery-slots';
import { ContentFetcher, QueueFetchers } from '../bus/content-fetch';

/** The part of the configuration mda receives (see parent/config-parts.ts). */
export type MdaConfig = Pick<Config, 'mda'> & { actions: LocalAction[]; subAddrDelim?: string };

const DELIVERY_TIMEOUT_MS = 120_000;
/** an LMTP delivery gives up after this (a temporary failure) */
const LMTP_LIMIT_MS = 300_000;
/** an mda command is killed after this (a temporary failure), well before mda stops waiting */
export const COMMAND_LIMIT_MS = 100_000;

/** the words to run for an mda action: its command, inside its wrapper if it has one */
function commandWords(action: LocalAction, command: string, wrappers: Readonly<Record<string, string>>): string[] {
  const words = splitCommand(command);
  const wrapper = action.wrapper !== undefined ? wrappers[action.wrapper] : undefined;
  return wrapper === undefined ? words : wrapCommand(splitCommand(wrapper), words, command);
}

/** whom a delivery runs as, for `mda limit max-session-per-user`: the .forward's owner, the
 * action's user, or the recipient's user name */
function deliveryUser(action: LocalAction | undefined, envelope: DeliveryEnvelope, subAddrDelim: string): string {
  if (envelope.via) return envelope.via.user;
  return action?.user ?? stripSubaddress(parseAddress(envelope.dest).user, subAddrDelim).user;
}

/** `mda limit max-session` and `max-session-per-user`, the configuration's or OpenSMTPD's defaults */
function sessionLimits(cfg: MdaConfig): { maxSessions: number; maxPerUser: number } {
  const limits = cfg.mda.limits as Readonly<Record<string, number>>;
  return {
    maxSessions: limits['max-session'] ?? MDA_LIMIT_DEFAULTS['max-session']!,
    maxPerUser: limits['max-session-per-user'] ?? MDA_LIMIT_DEFAULTS['max-session-per-user']!,
  };
}

async function deliver(worker: WorkerContext, helpers: Helpers, action: LocalAction | undefined, envelope: DeliveryEnvelope, content: Buffer): Promise<Outcome> {
  const { dest, sender, rcpt } = envelope;
  if (!action) return { result: 'tempfail', text: '451 4.3.0 no such local action (configuration changed?)' };
  const method = action.method;
  // a .forward's or an alias's command or file (via) needs no delivery method of the action
  if (!envelope.via && method.type !== 'maildir' && method.type !== 'mbox' && method.type !== 'mda' && method.type !== 'lmtp') {
    return { result: 'tempfail', text: `451 4.3.0 ${method.type} delivery is not available yet` };
  }
  if (hasDeliveredTo(content, dest)) return { result: 'permfail', text: `554 5.4.6 Loop detected: already delivered to ${dest}` };
  const stamped = withDeliveredTo(content, dest);
  const subAddrDelim = (worker.config as MdaConfig).subAddrDelim ?? '+';
  const via = envelope.via;
  if (via) {
    // a ~/.forward's command or file, as the user whose .forward it is
    const owner = { name: via.user, userbase: action.userbase };
    try {
      if (via.kind === 'file') return await helpers.file(owner, via.value, sender, stamped, DELIVERY_TIMEOUT_MS);
      return await helpers.command(owner, ['/bin/sh', '-c', via.value], { sender, rcpt, dest, subAddrDelim }, stamped, COMMAND_LIMIT_MS, DELIVERY_TIMEOUT_MS, true);
    } catch (e) {
      return { result: 'tempfail', text: `451 4.3.0 ${(e as Error).message}` };
    }
  }
  const name = action.user ?? stripSubaddress(parseAddress(dest).user, subAddrDelim).user;
  // LMTP: mda itself talks to the server, which delivers as it knows best
  if (method.type === 'lmtp') return deliverLmtp({ dest: method.dest, sender, rcpt: method.rcptTo ? dest : name, content: stamped, timeoutMs: LMTP_LIMIT_MS });
  const user = { name, userbase: action.userbase };
  try {
    if (method.type === 'mbox') return await helpers.mbox(user, sender, stamped, DELIVERY_TIMEOUT_MS);
    if (method.type === 'mda') {
      const argv = commandWords(action, method.command, (worker.config as MdaConfig).mda.wrappers);
      return await helpers.command(user, argv, { sender, rcpt, dest, subAddrDelim }, stamped, COMMAND_LIMIT_MS, DELIVERY_TIMEOUT_MS);
    }
    if (method.type === 'maildir') return await helpers.maildir(user, method.path, method.junk, { sender, rcpt, dest, subAddrDelim }, stamped, DELIVERY_TIMEOUT_MS);
    // forward-only and expand-only have no mailbox: lka gives them no such envelope
    return { result: 'permfail', text: `554 5.3.0 a ${method.type} action has no mailbox` };
  } catch (e) {
    return { result: 'tempfail', text: `451 4.3.0 ${(e as Error).message}` };
  }
}

export function main(): void {
  runWorker('mda', (worker) => {
    const helpers = new Helpers(worker);
    /** deliveries at once, in all and per user */
    const slots = new DeliverySlots(() => sessionLimits(worker.config as MdaConfig));
    /** the messages asked of the queue, one fetcher per queue channel: at most max-session
     * messages ahead of their slot, besides the deliveries running */
    const fetchers = new QueueFetchers<PeerChannel>(
      (ch) => new ContentFetcher((evpid) => ch.send({ type: 'MDA_FETCH', evpid }), () => sessionLimits(worker.config as MdaConfig).maxSessions),
    );
    /** deliveries done (smtpctl show stats) */
    let done = 0;
    const fromQueue = perChannel((ch: PeerChannel): Handlers<QueueToMda, void> => {
      const fetcher = fetchers.of(ch);
      return {
        MDA_DELIVER: (m) => {
          const cfg = worker.config as MdaConfig;
          const action = cfg.actions.find((a) => a.name === m.envelope.action);
          const user = deliveryUser(action, m.envelope, cfg.subAddrDelim ?? '+');
          // the message is asked for when the delivery has its slot, or a little before
          fetcher.announce(m.envelope.evpid);
          const run = async (): Promise<Outcome> => {
            const got = await fetcher.take(m.envelope.evpid);
            return 'content' in got ? deliver(worker, helpers, action, m.envelope, got.content) : { result: 'tempfail', text: got.text };
          };
          void slots.run(user, run).then((r) => {
            done++;
            const ev = r.result === 'ok' ? 'delivered' : r.result === 'tempfail' ? 'deferred' : 'failed';
            worker.log.info({ event: ev, evpid: m.envelope.evpid, rcpt: m.envelope.rcpt, dest: m.envelope.dest, result: r.text });
            if (!ch.isClosed) ch.send({ type: 'MDA_RESULT', evpid: m.envelope.evpid, result: r.result, text: r.text });
          });
        },
        MDA_CONTENT: (m) => fetcher.content(m.evpid, m.stream),
        MDA_NO_CONTENT: (m) => fetcher.noContent(m.evpid, m.text),
        PING: () => undefined,
        PONG: () => undefined,
      };
    });
    return {
      stats: () => ({ 'mda.envelope': done, 'mda.running': slots.active, 'mda.pending': slots.pending, 'mda.user': slots.users }),
      onPeer: (peer, ch) => {
        if (peer === 'queue') fetchers.connected(ch);
      },
      onPeerBytes: (peer, id, bytes) => {
        if (peer === 'queue') fetchers.current?.bytes(id, bytes);
      },
      onPeerMessage: (peer, msg, ch) => {
        if (peer === 'queue') dispatch(fromQueue(ch), msg as QueueToMda);
      },
    };
  });
}
