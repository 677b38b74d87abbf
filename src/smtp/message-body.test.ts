import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BODY_HIGH_WATER, MessageBody } from './message-body';

test('chunks come out in order and the iteration ends at end()', async () => {
  const b = new MessageBody();
  b.write(Buffer.from('a'));
  setImmediate(() => {
    b.write(Buffer.from('b'));
    b.end();
  });
  const got: string[] = [];
  for await (const c of b) got.push(c.toString());
  assert.deepEqual(got, ['a', 'b']);
});

test('write() says when the reader is behind, and onDrain fires once it caught up', async () => {
  const b = new MessageBody();
  assert.equal(b.write(Buffer.alloc(BODY_HIGH_WATER)), false);
  let drained = false;
  b.onDrain(() => (drained = true));
  assert.equal(drained, false);
  const it = b[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.length, BODY_HIGH_WATER);
  assert.equal(drained, true);
});

test('fail() ends the reader with the error; discard() swallows it', async () => {
  const b = new MessageBody();
  b.write(Buffer.from('x'));
  setImmediate(() => b.fail(new Error('gone')));
  await assert.rejects(async () => {
    for await (const _ of b) {
      // read
    }
  }, /gone/);
  const d = new MessageBody();
  setImmediate(() => d.fail(new Error('gone')));
  await d.discard();
});
