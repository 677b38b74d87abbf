import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupSync } from './group-sync';

/** an fsync stand-in that completes when told to, recording when each run started */
function fakeFsync() {
  const runs: { started: number; done: () => void }[] = [];
  let clock = 0;
  const g = new GroupSync(() => new Promise<void>((resolve) => runs.push({ started: ++clock, done: resolve })));
  return { g, runs, tick: () => ++clock };
}

const settle = () => new Promise((r) => setImmediate(r));

test('one caller alone: one fsync', async () => {
  const { g, runs } = fakeFsync();
  const p = g.sync();
  assert.equal(runs.length, 1);
  runs[0]!.done();
  await p;
});

test('callers arriving while an fsync runs share the next one, which starts after they came', async () => {
  const { g, runs, tick } = fakeFsync();
  const first = g.sync();
  const arrived = [tick(), tick(), tick()];
  const later = [g.sync(), g.sync(), g.sync()];
  assert.equal(runs.length, 1, 'no second fsync while the first runs');
  let laterDone = false;
  void Promise.all(later).then(() => (laterDone = true));
  runs[0]!.done();
  await first;
  await settle();
  assert.equal(laterDone, false, 'the first fsync may have started before their entries: not theirs');
  assert.equal(runs.length, 2, 'one more fsync for all three');
  assert.ok(runs[1]!.started > Math.max(...arrived), 'it started after every one of them arrived');
  runs[1]!.done();
  await Promise.all(later);
  assert.equal(runs.length, 2);
});

test('a failed fsync fails its callers; the next callers get a fresh one', async () => {
  let fail = true;
  let calls = 0;
  const g = new GroupSync(async () => {
    calls++;
    if (fail) throw new Error('EIO');
  });
  await assert.rejects(g.sync(), /EIO/);
  fail = false;
  await g.sync();
  assert.equal(calls, 2);
});
