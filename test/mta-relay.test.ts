/**
 * mta's relay (src/mta/relay.ts) asks the queue for a message only once it has a connection to
 * send it on, and once for all the envelopes of a group; against the fake MX of test/.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fetched } from '../src/bus/content-fetch';
import type { PeerChannel, WorkerContext } from '../src/bus/worker-runtime';
import { createLogger } from '../src/log/logger';
import type { RelayAction, StaticTable } from '../src/parse/config';
import { Relay, type Job, type MtaConfig } from '../src/mta/relay';
import { freePort } from './daemon-harness';
import { startFakeMx } from './fake-mx';

function relayTo(port: number): Relay {
  const hosts: StaticTable = { kind: 'static', name: 'hosts', anonymous: true, type: 'list', keys: [`smtp://127.0.0.1:${port}`], pairs: [] };
  const action: RelayAction = { kind: 'relay', name: 'out', host: 'hosts', srs: false };
  const config: MtaConfig = {
    mta: { maxDeferred: 100, limits: { values: {} }, domainLimits: {} },
    actions: [action],
    ca: [],
    pki: [],
    mxPort: 25,
    tables: [hosts],
    listenPorts: [],
    timeoutMs: 5000,
  };
  const worker = { name: 'mta', config, log: createLogger({ worker: 'mta', format: 'json', verbose: false, fd: 2 }), peers: new Map() } as unknown as WorkerContext;
  return new Relay(worker);
}

/** two envelopes of one message, counting how often their message is asked for */
function twoJobs(asked: { count: number }): Job[] {
  const message = (): Promise<Fetched> => {
    asked.count++;
    return Promise.resolve({ content: Buffer.from('Subject: hi\r\n\r\nbody\r\n') });
  };
  return ['a', 'b'].map((u, i) => ({
    ch: {} as PeerChannel,
    envelope: { evpid: `0a1b2c3d0000000${i}`, msgid: '0a1b2c3d', action: 'out', dest: `${u}@remote.test`, rcpt: `${u}@remote.test`, sender: 's@here.test' },
    message,
  }));
}

const relays: Relay[] = [];
after(() => relays.forEach((r) => r.pool.closeAll()));

/** a relay to a fake MX on a free port, for `body`; the MX is closed after it */
async function withSink(body: (relay: Relay, sink: Awaited<ReturnType<typeof startFakeMx>>) => Promise<void>): Promise<void> {
  const port = await freePort();
  const sink = await startFakeMx('127.0.0.1', port);
  try {
    const relay = relayTo(port);
    relays.push(relay);
    await body(relay, sink);
  } finally {
    await sink.close();
  }
}

test('a message is asked of the queue once there is a connection for it, once for all its envelopes', () =>
  withSink(async (relay, sink) => {
    const asked = { count: 0 };
    const { outcomes } = await relay.deliver(twoJobs(asked));
    assert.deepEqual(outcomes.map((o) => o.result), ['ok', 'ok']);
    assert.equal(asked.count, 1);
    assert.deepEqual(sink.messages.map((m) => [m.rcpts, m.data]), [[['a@remote.test', 'b@remote.test'], 'Subject: hi\r\n\r\nbody\r\n']]);
  }));

test('no server to take it: the message is never asked of the queue', async () => {
  const relay = relayTo(await freePort());
  relays.push(relay);
  const asked = { count: 0 };
  const { outcomes } = await relay.deliver(twoJobs(asked));
  assert.deepEqual(outcomes.map((o) => o.result), ['tempfail', 'tempfail']);
  assert.equal(asked.count, 0);
});

test('the queue cannot give the message: every envelope of the group is a temporary failure with its reason', () =>
  withSink(async (relay, sink) => {
    const jobs = twoJobs({ count: 0 }).map((j) => ({ ...j, message: () => Promise.resolve({ text: '451 4.3.0 cannot read the message: ENOENT' }) }));
    const { outcomes } = await relay.deliver(jobs);
    assert.deepEqual(outcomes, [
      { result: 'tempfail', text: '451 4.3.0 cannot read the message: ENOENT' },
      { result: 'tempfail', text: '451 4.3.0 cannot read the message: ENOENT' },
    ]);
    assert.deepEqual(sink.messages, []);
  }));
