import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientCounts } from './client-counts';

test('sessions are counted per address up to the maximum, and released at close', () => {
  const c = new ClientCounts();
  assert.equal(c.open('a', '10.0.0.1', 2), true);
  assert.equal(c.open('b', '10.0.0.1', 2), true);
  assert.equal(c.open('c', '10.0.0.1', 2), false, 'the third is refused');
  assert.equal(c.open('d', '10.0.0.2', 2), true, 'another address has its own count');
  c.close('c'); // refused sessions close too: no effect
  assert.equal(c.of('10.0.0.1'), 2);
  c.close('a');
  c.close('a');
  assert.equal(c.of('10.0.0.1'), 1, 'a close counts once');
  assert.equal(c.open('e', '10.0.0.1', 2), true);
});
