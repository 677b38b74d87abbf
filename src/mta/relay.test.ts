import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { Fetched } from '../bus/content-fetch';
import type { PeerChannel, WorkerContext } from '../bus/worker-runtime';
import { createLogger } from '../log/logger';
import type { RelayAction, StaticTable } from '../parse/config';
import { Relay, type Job, type MtaConfig } from './relay';

/** a smarthost on loopback that takes every message: what it received after DATA */
async function smarthost(): Promise<{ port: number; messages: string[]; close: () => void }> {
  const messages: string[] = [];
  const server = net.createServer((s) => {
    let data: string | undefined;
    let buf = '';
    s.write('220 sink ESMTP\r\n');
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (data !== undefined) {
          if (line === '.') {
            messages.push(data);
            data = undefined;
            s.write('250 2.0.0 queued\r\n');
          } else data += `${line}\r\n`;
        } else if (/^EHLO/i.test(line)) s.write('250-sink\r\n250 8BITMIME\r\n');
        else if (/^DATA/i.test(line)) {
          data = '';
          s.write('354 go on\r\n');
        } else if (/^QUIT/i.test(line)) s.end('221 bye\r\n');
        else s.write('250 ok\r\n');
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, messages, close: () => server.close() };
}

/** a loopback port nothing listens on */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

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

test('a message is asked of the queue once there is a connection for it, once for all its envelopes', async () => {
  const sink = await smarthost();
  try {
    const relay = relayTo(sink.port);
    relays.push(relay);
    const asked = { count: 0 };
    const { outcomes } = await relay.deliver(twoJobs(asked));
    assert.deepEqual(outcomes.map((o) => o.result), ['ok', 'ok']);
    assert.equal(asked.count, 1);
    assert.deepEqual(sink.messages, ['Subject: hi\r\n\r\nbody\r\n']);
  } finally {
    sink.close();
  }
});

test('no server to take it: the message is never asked of the queue', async () => {
  const relay = relayTo(await closedPort());
  relays.push(relay);
  const asked = { count: 0 };
  const { outcomes } = await relay.deliver(twoJobs(asked));
  assert.deepEqual(outcomes.map((o) => o.result), ['tempfail', 'tempfail']);
  assert.equal(asked.count, 0);
});

test('the queue cannot give the message: every envelope of the group is a temporary failure with its reason', async () => {
  const sink = await smarthost();
  try {
    const relay = relayTo(sink.port);
    relays.push(relay);
    const jobs = twoJobs({ count: 0 }).map((j) => ({ ...j, message: () => Promise.resolve({ text: '451 4.3.0 cannot read the message: ENOENT' }) }));
    const { outcomes } = await relay.deliver(jobs);
    assert.deepEqual(outcomes, [
      { result: 'tempfail', text: '451 4.3.0 cannot read the message: ENOENT' },
      { result: 'tempfail', text: '451 4.3.0 cannot read the message: ENOENT' },
    ]);
    assert.deepEqual(sink.messages, []);
  } finally {
    sink.close();
  }
});
