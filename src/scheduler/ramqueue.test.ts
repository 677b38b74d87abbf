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

test('many envelopes come out by time, at most `max` at once, each once even when added twice', () => {
  const q = new RamQueue();
  const n = 10_000;
  for (let i = 0; i < n; i++) q.add(env(`e${i}`, 1000 - (i % 100), 1_000_000, 1), 0);
  q.add(env('e5', 1000 - 5, 1_000_000, 1), 0); // replaced: one entry, one due
  assert.equal(q.size, n);
  assert.equal(q.nextDue(0), 1000 - 99 + 10);
  const first = q.due(1000 - 99 + 10, 50);
  assert.equal(first.length, 50, 'max honoured');
  const rest = q.due(2000, n);
  const all = [...first, ...rest];
  assert.equal(all.length, n);
  assert.equal(new Set(all).size, n, 'each once');
  assert.equal(q.nextDue(2000), undefined, 'everything is in flight');
});

test('a delay warning is due once per warn interval, after a temporary failure past it', () => {
  const q = new RamQueue();
  q.add(env('w', 1000, 100_000), 1000);
  const warnAfter = [100, 1000];
  q.due(1000, 10);
  assert.equal(q.result('w', 'tempfail', 1050, warnAfter), false, 'too early');
  q.due(2000, 10);
  assert.equal(q.result('w', 'tempfail', 1200, warnAfter), true, 'past the first interval');
  q.due(3000, 10);
  assert.equal(q.result('w', 'tempfail', 1300, warnAfter), false, 'warned once for it');
  q.due(4000, 10);
  assert.equal(q.result('w', 'tempfail', 2100, warnAfter), true, 'past the second');
  q.due(99_000, 10);
  assert.equal(q.result('w', 'tempfail', 50_000, warnAfter), false, 'no more intervals');
  q.add(env('x', 1000, 100_000, 2), 5000);
  q.due(99_000, 10);
  assert.equal(q.result('x', 'ok', 5000, warnAfter), false, 'never after a success');
});

test('pause mda holds due local deliveries (not relays); resume hands them out at once', () => {
  const q = new RamQueue();
  q.add(env('a', 1000, 3600), 1000);
  q.add({ evpid: 'r', type: 'mta', ctime: 1000, ttl: 3600, retry: 0 }, 1000);
  q.setPaused('mda', true, 1000);
  assert.deepEqual(q.due(1000, 10), ['r']);
  assert.deepEqual(q.due(1100, 10), [], 'still held');
  assert.equal(q.nextDue(1100), 1000 + 3600 - 1100, 'a held envelope wakes nobody before its expiry');
  q.setPaused('mda', false, 1200);
  assert.deepEqual(q.due(1200, 10), ['a']);
});

test('pause envelope holds one message; a held envelope still expires; resume all releases it', () => {
  const q = new RamQueue();
  q.add(env('0a1b2c3d00000001', 1000, 60), 1000);
  q.add(env('0a1b2c3d00000002', 1000, 3600), 1000);
  q.add(env('ffffffff00000001', 1000, 3600), 1000);
  assert.equal(q.setSuspended('0a1b2c3d', true, 1000), 2);
  assert.deepEqual(q.due(1000, 10), ['ffffffff00000001']);
  assert.deepEqual(q.suspendedIds().sort(), ['0a1b2c3d00000001', '0a1b2c3d00000002']);
  assert.deepEqual(q.expired(1060), ['0a1b2c3d00000001']);
  assert.equal(q.setSuspended('all', false, 1070), 1);
  assert.deepEqual(q.due(1070, 10), ['0a1b2c3d00000002']);
});

test('the count of envelopes in flight (for scheduler limit max-inflight) follows hand-outs, results and removals', () => {
  const q = new RamQueue();
  for (const id of ['a', 'b', 'c', 'd']) q.add(env(id, 1000, 3600), 1000);
  const out = q.due(1000, 3);
  assert.equal(out.length, 3);
  assert.equal(q.inflight, 3);
  const [x, y, z] = out as [string, string, string];
  q.result(x, 'ok', 1001);
  q.result(y, 'tempfail', 1001);
  assert.equal(q.inflight, 1);
  q.remove(['a', 'b', 'c', 'd'].filter((id) => id !== x));
  assert.equal(q.inflight, 0, 'removing an envelope in flight frees its slot');
  q.result(z, 'ok', 1002);
  assert.equal(q.inflight, 0, 'a late result of a removed envelope counts nothing');
  assert.equal(q.counts().inflight, q.inflight);
});
