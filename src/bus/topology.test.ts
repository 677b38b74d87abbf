// The topology: which pairs may talk; a pair not in the table cannot get a decoder or a channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decoderFor } from './msg-workers';
import { allowed, assertAllowed, PAIRS, peersOf, TopologyError, WORKERS } from './topology';

test('the listed pairs may talk both ways, every worker may talk to the parent, no one to itself', () => {
  for (const [a, b] of PAIRS) {
    assert.ok(allowed(a, b) && allowed(b, a), `${a}-${b}`);
  }
  for (const w of WORKERS) {
    assert.ok(allowed('parent', w) && allowed(w, 'parent'));
    assert.ok(!allowed(w, w));
  }
});

test('a pair not in the topology cannot talk', () => {
  assert.ok(!allowed('smtp', 'mta'));
  assert.ok(!allowed('scheduler', 'lka'));
  assert.throws(() => assertAllowed('smtp', 'mda'), TopologyError);
  assert.throws(() => decoderFor('scheduler', 'smtp'), /scheduler and smtp are not allowed to talk/);
});

test('every worker has peers, control reaches every other worker', () => {
  for (const w of WORKERS) assert.ok(peersOf(w).length > 0, w);
  assert.deepEqual(peersOf('control').sort(), WORKERS.filter((w) => w !== 'control').sort());
});
