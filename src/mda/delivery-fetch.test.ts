import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentFetcher } from '../bus/content-fetch';
import { DeliverySlots } from './delivery-slots';

const tick = () => new Promise((r) => setImmediate(r));

test('without a window, a delivery waiting for its slot holds no message: it is asked for when the slot is free', async () => {
  const asked: string[] = [];
  const fetcher = new ContentFetcher((evpid) => asked.push(evpid), () => 0);
  const slots = new DeliverySlots(() => ({ maxSessions: 50, maxPerUser: 1 }));
  const delivered: string[] = [];
  const deliveries = ['e1', 'e2', 'e3'].map((evpid) => {
    fetcher.announce(evpid);
    return slots.run('alice', async () => {
      const got = await fetcher.take(evpid);
      assert.ok('content' in got);
      delivered.push(got.content.toString());
    });
  });
  await tick();
  assert.deepEqual(asked, ['e1'], 'only the delivery with a slot asks for its message');
  assert.equal(fetcher.pending, 1);
  fetcher.bytes(7, Buffer.from('first '));
  fetcher.bytes(7, Buffer.from('message'));
  fetcher.content('e1', 7);
  await tick();
  assert.deepEqual(delivered, ['first message']);
  assert.deepEqual(asked, ['e1', 'e2'], 'the next one asks once the first is done');
  fetcher.bytes(8, Buffer.from('second'));
  fetcher.content('e2', 8);
  await tick();
  fetcher.content('e3', 9);
  await Promise.all(deliveries);
  assert.deepEqual(delivered, ['first message', 'second', ''], 'a stream without bytes is an empty message');
  assert.equal(fetcher.pending, 0);
});

test('with a window of 2, the next two deliveries waiting for a slot have their message asked for ahead, in the order they came', async () => {
  const asked: string[] = [];
  const fetcher = new ContentFetcher((evpid) => asked.push(evpid), () => 2);
  const slots = new DeliverySlots(() => ({ maxSessions: 50, maxPerUser: 1 }));
  const delivered: string[] = [];
  const deliveries = ['e1', 'e2', 'e3', 'e4'].map((evpid) => {
    fetcher.announce(evpid);
    return slots.run('alice', async () => {
      const got = await fetcher.take(evpid);
      assert.ok('content' in got);
      delivered.push(`${evpid}:${got.content.toString()}`);
    });
  });
  await tick();
  // e1 and e2 were asked for ahead as they came; e1 took its slot, which let e3 in the window
  assert.deepEqual(asked, ['e1', 'e2', 'e3']);
  assert.equal(fetcher.prefetched, 2, 'e2 and e3, waiting for a slot');
  for (const [i, evpid] of ['e2', 'e3', 'e1'].entries()) {
    fetcher.bytes(i, Buffer.from(evpid));
    fetcher.content(evpid, i);
  }
  await tick();
  assert.deepEqual(asked, ['e1', 'e2', 'e3', 'e4'], 'e2 started at once with its message there; e4 took its place ahead');
  fetcher.bytes(9, Buffer.from('e4'));
  fetcher.content('e4', 9);
  await Promise.all(deliveries);
  assert.deepEqual(delivered, ['e1:e1', 'e2:e2', 'e3:e3', 'e4:e4']);
  assert.equal(fetcher.prefetched, 0);
  assert.equal(fetcher.pending, 0);
});
