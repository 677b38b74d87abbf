import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerChannel } from '../bus/worker-runtime';
import { MsgidPool, RESERVE_BATCH } from './msgid-pool';

/** a queue end that answers QUEUE_MSG_CREATE with fresh ids (or a failure), counting requests */
function fakeQueue(fail = false): PeerChannel & { asked: number } {
  let next = 0;
  const q = {
    asked: 0,
    isClosed: false,
    request: async (m: { count: number }) => {
      q.asked++;
      if (fail) return { type: 'QUEUE_FAIL', re: 1, code: 452, esc: '4.3.1', text: 'Insufficient system storage' };
      return { type: 'QUEUE_MSG_CREATED', re: 1, msgids: Array.from({ length: m.count }, () => (next++).toString(16).padStart(8, '0')) };
    },
  };
  return q as unknown as PeerChannel & { asked: number };
}

test('one request to the queue serves RESERVE_BATCH messages, concurrent ones included, each id once', async () => {
  const pool = new MsgidPool();
  const q = fakeQueue();
  const taken = await Promise.all(Array.from({ length: RESERVE_BATCH }, () => pool.take(q)));
  assert.equal(q.asked, 1);
  const ids = taken.map((t) => ('msgid' in t ? t.msgid : 'none'));
  assert.equal(new Set(ids).size, RESERVE_BATCH);
  await pool.take(q);
  assert.equal(q.asked, 2, 'the next one refills');
});

test('ids reserved from a queue channel that was replaced are not used', async () => {
  const pool = new MsgidPool();
  const first = fakeQueue();
  await pool.take(first);
  const second = fakeQueue();
  const t = await pool.take(second);
  assert.equal(second.asked, 1);
  assert.deepEqual(t, { msgid: '0000000f' }, 'an id of the new queue');
});

test("the queue's refusal reaches the caller", async () => {
  const t = await new MsgidPool().take(fakeQueue(true));
  assert.ok('fail' in t && t.fail?.type === 'QUEUE_FAIL' && t.fail.code === 452);
});
