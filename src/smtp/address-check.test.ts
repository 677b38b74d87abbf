import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAddress } from './address-check';

test('RFC 5321 local parts and domains pass: dot-strings, quoted strings, literals, SMTPUTF8', () => {
  for (const a of ['a@remote.test', 'a.b+c@remote.test', "o'brien@x.test", '{x}|y~z@x.test', '"a b"@x.test', '"a\\"b"@x.test', 'a@[1.2.3.4]', 'a@[IPv6:::1]', 'postmaster', 'a@x-y.test', 'a@1.test']) {
    assert.equal(checkAddress(a, 'sender', false), undefined, a);
  }
  assert.equal(checkAddress('josé@bücher.test', 'recipient', true), undefined);
  assert.equal(checkAddress('', 'sender', false), undefined, 'the null sender');
});

test('what a permissive parser lets through and RFC 5321 does not: 501 with 5.1.7 (sender) or 5.1.3 (recipient)', () => {
  for (const a of ['"unterminated@x.test', 'a"b@x.test', 'a\\@x.test', 'a(b)@x.test', 'a,b@x.test', 'a b@x.test', 'a@-x.test', 'a@x-.test', 'a@x.-test', 'a@x..test', '.a@x.test', 'a..b@x.test', 'a.@x.test', '"a"b"@x.test']) {
    assert.deepEqual(checkAddress(a, 'sender', false), { code: 501, esc: '5.1.7', text: 'Bad sender address syntax' }, a);
    assert.equal(checkAddress(a, 'recipient', false)?.esc, '5.1.3', a);
  }
});

test('8-bit addresses still need SMTPUTF8, and the length limits come first', () => {
  assert.equal(checkAddress('josé@x.test', 'sender', false)?.code, 553);
  assert.equal(checkAddress(`${'a'.repeat(65)}@x.test`, 'sender', false)?.text, 'The local part of the sender address is too long');
});
