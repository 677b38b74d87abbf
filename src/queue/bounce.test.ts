import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_RETURN_MAX, bounceMessage, fullReturn, headerBlock, statusOf, type BounceFailure } from './bounce';

const original = Buffer.from('Received: from x\r\n\tby y\r\nFrom: a@remote.test\r\nTo: alice@local.test\r\nBcc: secret@local.test\r\nSubject: hi\r\n\r\nthe body\r\n');

function make(failures: BounceFailure[]): string {
  return bounceMessage({
    hostname: 'mx.local.test',
    sender: 'a@remote.test',
    arrival: 1_700_000_000,
    failures,
    headers: headerBlock(original),
    id: '0a1b2c3d',
    now: new Date(1_700_000_100_000),
  }).toString('latin1');
}

test('a bounce is an RFC 3464 multipart/report with a text part, the status part and the original headers only', () => {
  const b = make([{ rcpt: 'alice@local.test', error: '550 5.1.1 user unknown', expired: false }]);
  const [head, body] = [b.slice(0, b.indexOf('\r\n\r\n')), b.slice(b.indexOf('\r\n\r\n') + 4)];
  assert.match(head, /^From: Mail Delivery System <MAILER-DAEMON@mx\.local\.test>$/m);
  assert.match(head, /^To: <a@remote\.test>$/m);
  assert.match(head, /^Auto-Submitted: auto-replied$/m);
  assert.match(head, /^Content-Type: multipart\/report; report-type=delivery-status; boundary="0a1b2c3d\/mx\.local\.test"$/m);
  const parts = body.split('--0a1b2c3d/mx.local.test');
  assert.equal(parts.length, 5, 'preamble, three parts, the closing delimiter');
  assert.match(parts[1]!, /Content-Type: text\/plain/);
  assert.match(parts[1]!, /<alice@local\.test>: 550 5\.1\.1 user unknown/);
  assert.match(parts[2]!, /^Content-Type: message\/delivery-status\r\n\r\nReporting-MTA: dns; mx\.local\.test\r\nArrival-Date: .+\r\n\r\nOriginal-Recipient: rfc822; alice@local\.test\r\nFinal-Recipient: rfc822; alice@local\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nDiagnostic-Code: smtp; 550 5\.1\.1 user unknown\r\n/m);
  assert.match(parts[3]!, /Content-Type: text\/rfc822-headers\r\n\r\nReceived: from x\r\n\tby y\r\nFrom: a@remote\.test\r\n/);
  assert.ok(!b.includes('the body'), 'the original body is not returned');
  assert.equal(parts[4], '--\r\n');
  assert.ok(!/[^\r]\n/.test(b), 'CRLF line ends only');
});

test('the status of an expired envelope is its last temporary code, or 4.4.7', () => {
  assert.equal(statusOf({ rcpt: 'a', error: '451 4.3.0 mailbox busy', expired: true }), '4.3.0');
  assert.equal(statusOf({ rcpt: 'a', error: 'no answer', expired: true }), '4.4.7');
  assert.equal(statusOf({ rcpt: 'a', error: 'cannot write', expired: false }), '5.0.0');
  assert.equal(statusOf({ rcpt: 'a', error: '550 5.7.1 no', expired: false }), '5.7.1');
  const b = make([{ rcpt: 'alice@local.test', error: '451 4.3.0 busy', expired: true }]);
  assert.match(b, /^Subject: Delivery status notification: delivery time expired$/m);
  assert.match(b, /^Status: 4\.3\.0$/m);
});

test('text from outside cannot inject lines: error texts and addresses stay on their line', () => {
  const b = make([{ rcpt: 'x@y\r\nX-Evil: 1', error: '550 oops\r\nX-Injected: yes\n\rmore', expired: false }]);
  assert.ok(!/^X-Injected/m.test(b));
  assert.ok(!/^X-Evil/m.test(b));
  assert.match(b, /^Diagnostic-Code: smtp; 550 oops X-Injected: yes more$/m);
});

test('headerBlock stops at the empty line, or at 64 KiB', () => {
  assert.equal(headerBlock(original).toString(), 'Received: from x\r\n\tby y\r\nFrom: a@remote.test\r\nTo: alice@local.test\r\nBcc: secret@local.test\r\nSubject: hi\r\n');
  assert.equal(headerBlock(Buffer.alloc(100_000, 0x61)).length, 64 * 1024);
});

test('a delay warning: Action delayed, the last temporary status, Will-Retry-Until, and its own subject', () => {
  const b = make([{ rcpt: 'alice@local.test', error: '451 4.2.0 mailbox busy', expired: false, delayedUntil: 1_700_345_600 }]);
  assert.match(b, /^Subject: Delivery status notification: delayed$/m);
  assert.match(b, /^Action: delayed$/m);
  assert.match(b, /^Status: 4\.2\.0$/m);
  assert.match(b, /^Will-Retry-Until: \w{3}, \d{1,2} \w{3} 2023 /m);
  assert.match(b, /only a\r\nwarning: the mail system will keep trying until /);
});

test('RET=FULL: a failure report returns the whole message as message/rfc822, 8-bit content declared', () => {
  const eight = Buffer.concat([original, Buffer.from('caf\xe9\r\n', 'latin1')]);
  const b = bounceMessage({
    hostname: 'mx.local.test',
    sender: 'a@remote.test',
    arrival: 1_700_000_000,
    failures: [{ rcpt: 'alice@local.test', error: '550 5.1.1 user unknown', expired: false }],
    headers: headerBlock(eight),
    full: eight,
    id: '0a1b2c3d',
    now: new Date(1_700_000_100_000),
  });
  const parts = b.toString('latin1').split('--0a1b2c3d/mx.local.test');
  assert.equal(parts.length, 5);
  assert.match(parts[1]!, /Your message is attached below, whole\./);
  assert.ok(parts[3]!.startsWith('\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'));
  assert.ok(b.includes(eight), 'the message, byte for byte');
  assert.equal(parts[4], '--\r\n');
});

test('RET=FULL applies to failure reports up to FULL_RETURN_MAX bytes only; RET=HDRS and no RET give the headers', () => {
  const small = Buffer.from('Subject: x\r\n\r\nbody\r\n');
  assert.equal(fullReturn('FULL', true, small), small);
  assert.equal(fullReturn('FULL', false, small), undefined, 'not in a delay warning or success notice');
  assert.equal(fullReturn('HDRS', true, small), undefined);
  assert.equal(fullReturn(undefined, true, small), undefined);
  assert.equal(fullReturn('FULL', true, Buffer.alloc(FULL_RETURN_MAX + 1, 0x61)), undefined);
});
