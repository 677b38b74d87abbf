import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debugTraced, imsgTraced, retrace } from './trace';

test('trace turns on the debug lines of the workers doing that work; untrace all clears', () => {
  let t = retrace(new Set(), 'expand', true);
  assert.equal(debugTraced('lka', t), true);
  assert.equal(debugTraced('smtp', t), false);
  assert.equal(imsgTraced(t), false);
  t = retrace(t, 'imsg', true);
  assert.equal(imsgTraced(t), true);
  t = retrace(t, 'expand', false);
  assert.equal(debugTraced('lka', t), false);
  t = retrace(t, 'all', true);
  assert.equal(debugTraced('scheduler', t), true);
  assert.deepEqual([...retrace(t, 'all', false)], []);
});
