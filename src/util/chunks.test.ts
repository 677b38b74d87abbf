import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinChunks } from './chunks';

test('one piece is the body itself (no copy); several are joined in order; none is empty', () => {
  const one = Buffer.from('whole body');
  assert.equal(joinChunks([one]), one);
  assert.equal(joinChunks([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('e')]).toString(), 'abcde');
  assert.equal(joinChunks(undefined).length, 0);
  assert.equal(joinChunks([]).length, 0);
});
