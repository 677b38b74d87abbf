import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextTry, RamQueue } from './ramqueue';

const env = (evpid: string, ctime: number, ttl: number, retry = 0) => ({ evpid, type: 'mda' as const, ctime, ttl, retry });

test('OpenSMTPD backoff: ctime + base x retry^2, moved to the next step when already past', () => {
  assert.equal(nextTry(env('a', 1000, 3600, 1), 1000), 1010);
  assert.equal(nextTry(env('a', 1000, 3600, 2), 1000), 1040);
  assert.equal(nextTry(env('a', 1000, 3600, 2), 1045), 1090);
});

test('a temporary failure is tried again later; an envelope past its ttl expires instead, once', () => {
  const q = new RamQueue();
  q.add(env('a', 1000, 30), 1000);
  assert.deepEqual(q.due(1000, 10), ['a']);
  q.result('a', 'tempfail', 1001);
  assert.deepEqual(q.due(1005, 10), [], 'not before its next try');
  assert.equal(q.nextDue(1005), 5, 'next try at ctime + 10');
  assert.deepEqual(q.due(1010, 10), ['a']);
  q.result('a', 'tempfail', 1011);
  assert.equal(q.nextDue(1011), 19, 'the expiry (ctime + 30) comes before the next try (ctime + 40)');
  assert.deepEqual(q.expired(1029), []);
  assert.deepEqual(q.expired(1030), ['a']);
  assert.deepEqual(q.expired(1031), [], 'reported once');
  assert.equal(q.size, 0);
});

test('an envelope in flight does not expire until its result is in', () => {
  const q = new RamQueue();
  q.add(env('b', 1000, 10), 1000);
  assert.deepEqual(q.due(1000, 10), ['b']);
  assert.deepEqual(q.expired(2000), []);
  q.result('b', 'tempfail', 2000);
  assert.deepEqual(q.expired(2000), ['b']);
});
