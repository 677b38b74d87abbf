import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliverySlots } from './delivery-slots';

/** a task that ends when `finish` is called, recording when it started */
function gate(log: string[], name: string): { task: () => Promise<string>; finish: () => void } {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  return {
    task: async () => {
      log.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

test('max-session-per-user: a user waits at its limit, another user does not', async () => {
  const slots = new DeliverySlots(() => ({ maxSessions: 50, maxPerUser: 2 }));
  const log: string[] = [];
  const a = [1, 2, 3].map((i) => gate(log, `a${i}`));
  const b = gate(log, 'b1');
  const results = [...a.map((g) => slots.run('alice', g.task)), slots.run('bob', b.task)];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['a1', 'a2', 'b1'], 'a3 waits for one of alice\'s two');
  assert.equal(slots.pending, 1);
  assert.equal(slots.users, 2);
  a[0]!.finish();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['a1', 'a2', 'b1', 'a3']);
  [a[1]!, a[2]!, b].forEach((g) => g.finish());
  assert.deepEqual(await Promise.all(results), ['a1', 'a2', 'a3', 'b1']);
  assert.equal(slots.active, 0);
  assert.equal(slots.users, 0);
});

test('max-session: at most that many at once in all, the rest in the order they came', async () => {
  const slots = new DeliverySlots(() => ({ maxSessions: 2, maxPerUser: 7 }));
  const log: string[] = [];
  const gs = ['u1', 'u2', 'u3', 'u4'].map((u) => gate(log, u));
  const results = gs.map((g, i) => slots.run(`u${i + 1}`, g.task));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['u1', 'u2']);
  gs[1]!.finish();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['u1', 'u2', 'u3']);
  gs.forEach((g) => g.finish());
  await Promise.all(results);
  assert.deepEqual(log, ['u1', 'u2', 'u3', 'u4']);
});

test('a failing delivery frees its slot and its error reaches the caller', async () => {
  const slots = new DeliverySlots(() => ({ maxSessions: 1, maxPerUser: 1 }));
  await assert.rejects(slots.run('a', () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await slots.run('a', async () => 'next'), 'next');
});
