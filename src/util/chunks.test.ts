import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinChunks, StreamPieces } from './chunks';

test('one piece is the body itself (no copy); several are joined in order; none is empty', () => {
  const one = Buffer.from('whole body');
  assert.equal(joinChunks([one]), one);
  assert.equal(joinChunks([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('e')]).toString(), 'abcde');
  assert.equal(joinChunks(undefined).length, 0);
  assert.equal(joinChunks([]).length, 0);
});

test('stream pieces: interleaved streams come out whole and in order, a one-piece body as it came, then forgotten', () => {
  const pieces = new StreamPieces();
  const whole = Buffer.from('one piece');
  pieces.add(1, Buffer.from('ab'));
  pieces.add(2, whole);
  pieces.add(1, Buffer.from('cd'));
  assert.equal(pieces.take(1).toString(), 'abcd');
  assert.equal(pieces.take(2), whole);
  assert.equal(pieces.take(1).length, 0, 'taken: nothing left of stream 1');
  pieces.add(3, Buffer.from('x'));
  pieces.clear();
  assert.equal(pieces.take(3).length, 0);
});
