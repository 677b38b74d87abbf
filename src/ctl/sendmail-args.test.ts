import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSendmailArgs, UsageError } from './sendmail-args';

test('sendmail flags: -t, -f (attached or not), -F, -oi, -i, -v; unknown flags ignored with their argument', () => {
  const a = parseSendmailArgs(['-t', '-fme@x.test', '-F', 'Full Name', '-oi', '-odb', '-B', '8BITMIME', '-v', 'a@x.test', '--', '-b@x.test']);
  assert.deepEqual(a, { mode: 'send', fromHeaders: true, ignoreDots: true, verbose: true, recipients: ['a@x.test', '-b@x.test'], sender: 'me@x.test', fullName: 'Full Name' });
  assert.equal(parseSendmailArgs(['-ti', 'x@y']).ignoreDots, true);
  assert.equal(parseSendmailArgs(['-r', 'r@x']).sender, 'r@x');
});

test('-bi, -bs and -bp choose the mode; -bm is sending; others are refused; a flag without its argument is a usage error', () => {
  assert.equal(parseSendmailArgs(['-bi']).mode, 'newaliases');
  assert.equal(parseSendmailArgs(['-bs']).mode, 'smtp');
  assert.equal(parseSendmailArgs(['-bp']).mode, 'mailq');
  assert.equal(parseSendmailArgs(['-bm', 'a@b']).mode, 'send');
  assert.throws(() => parseSendmailArgs(['-bv']), UsageError);
  assert.throws(() => parseSendmailArgs(['-f']), /needs an argument/);
});
