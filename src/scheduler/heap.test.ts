import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHeap } from './heap';

test('the heap gives items back earliest first, ties in any order', () => {
  const h = new MinHeap<string>();
  const times = [5, 3, 9, 1, 3, 7, 0, 12, 2];
  times.forEach((t, i) => h.push(t, `i${i}`));
  const out: number[] = [];
  while (h.size > 0) {
    out.push(h.peekTime()!);
    h.pop();
  }
  assert.deepEqual(out, [...times].sort((a, b) => a - b));
  assert.equal(h.pop(), undefined);
  assert.equal(h.peekTime(), undefined);
});
