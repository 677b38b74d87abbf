/**
 * The far end of the bus benchmark: a process that receives a channel socket from its parent
 * (exactly as a worker does) and answers every PING with a PONG, and counts one-way PINGs
 * with reqid 0 (reporting the count when asked with reqid -1... see bus-bench.ts).
 */
import type { Socket } from 'node:net';
import { Channel } from '../src/bus/channel';
import { CommonMessage } from '../src/bus/msg-workers';

process.on('message', (_m: unknown, handle: unknown) => {
  const ch = new Channel<CommonMessage, CommonMessage>({ self: 'queue', peer: 'lka', socket: handle as Socket, decoder: CommonMessage });
  let oneWay = 0;
  ch.onMessage((msg) => {
    if (msg.type !== 'PING') return;
    if (msg.reqid === 0) {
      oneWay++;
      return;
    }
    ch.send({ type: 'PONG', re: msg.reqid, pid: process.pid, name: String(oneWay) });
  });
  ch.onClose(() => process.exit(0));
});
