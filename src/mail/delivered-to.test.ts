import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasDeliveredTo, withDeliveredTo } from './delivered-to';

const msg = Buffer.from('Received: x\r\nDelivered-To: Alice@Local.test\r\nSubject: s\r\n\r\nDelivered-To: bob@local.test\r\n');

test('a Delivered-To for the same destination in the header block is a loop; in the body it is not', () => {
  assert.equal(hasDeliveredTo(msg, 'alice@local.test'), true, 'case-insensitive');
  assert.equal(hasDeliveredTo(msg, 'bob@local.test'), false, 'the body does not count');
  assert.equal(hasDeliveredTo(Buffer.from('Delivered-To: <carol@x>\r\n\r\n'), 'carol@x'), true);
  assert.equal(hasDeliveredTo(Buffer.from('Delivered-To: carol@x.other\r\n\r\n'), 'carol@x'), false);
});

test('Delivered-To goes in front, on one line', () => {
  assert.equal(withDeliveredTo(Buffer.from('Subject: s\r\n\r\nb\r\n'), 'alice@local.test').toString(), 'Delivered-To: alice@local.test\r\nSubject: s\r\n\r\nb\r\n');
  assert.equal(withDeliveredTo(Buffer.from('x'), 'a\r\nX: y@z').toString(), 'Delivered-To: aX:y@z\r\nx');
});
