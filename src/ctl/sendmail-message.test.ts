import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressesIn, checkSmtpAddress, MessageError, normalizeInput, prepareMessage } from './sendmail-message';
import { dataLines } from '../mail/smtp-io';

const now = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));

test('input: LF and lone CR become CRLF; a lone dot ends it unless -i; a last line gets its CRLF', () => {
  assert.equal(normalizeInput(Buffer.from('a\nb\rc'), true).toString(), 'a\r\nb\r\nc\r\n');
  assert.equal(normalizeInput(Buffer.from('a\n.\nb\n'), false).toString(), 'a\r\n');
  assert.equal(normalizeInput(Buffer.from('.\nb\n'), false).toString(), '');
  assert.equal(normalizeInput(Buffer.from('a\n.\nb\n'), true).toString(), 'a\r\n.\r\nb\r\n');
});

test('addresses of To/Cc/Bcc values: display names, quotes with commas, comments, groups', () => {
  assert.deepEqual(addressesIn(' "Doe, John" <j@x.test>, b@y.test (Bob), team: c@z.test, d@z.test;'), ['j@x.test', 'b@y.test', 'c@z.test', 'd@z.test']);
});

test('From and Date are added when missing, kept when present; -t collects and removes Bcc', () => {
  const p = prepareMessage(Buffer.from('To: a@x.test\r\nBcc: b@x.test,\r\n c@x.test\r\nSubject: s\r\n\r\nbody\r\n'), { sender: 'me@h.test', fullName: 'Me', fromHeaders: true, now });
  assert.deepEqual(p.recipients, ['a@x.test', 'b@x.test', 'c@x.test']);
  assert.equal(p.message.toString(), 'From: "Me" <me@h.test>\r\nDate: Sun, 22 Nov 2026 12:00:00 +0000\r\nTo: a@x.test\r\nSubject: s\r\n\r\nbody\r\n');
  const kept = prepareMessage(Buffer.from('From: x@y\r\nDate: today\r\n\r\nb\r\n'), { sender: 'me@h.test', fromHeaders: false, now });
  assert.equal(kept.message.toString(), 'From: x@y\r\nDate: today\r\n\r\nb\r\n');
  const bodyOnly = prepareMessage(Buffer.from('just a body line\r\n'), { sender: 'me@h.test', fromHeaders: false, now });
  assert.match(bodyOnly.message.toString(), /^From: me@h\.test\r\nDate: [^\r]+\r\n\r\njust a body line\r\n$/);
});

test('addresses that could break an SMTP command are refused; data lines are dot-stuffed and end with a dot', () => {
  for (const bad of ['a b@x', 'a@x>\r\nRCPT TO:<c@d', '', '<a@x>']) assert.throws(() => checkSmtpAddress(bad), MessageError);
  assert.equal(checkSmtpAddress('ok@x.test'), 'ok@x.test');
  assert.equal(dataLines(Buffer.from('.a\r\nb\r\n..c\r\n')).toString(), '..a\r\nb\r\n...c\r\n.\r\n');
});
