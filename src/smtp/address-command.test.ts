import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddressCommand } from './address-command';

const MAIL = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID']);
const RCPT = new Set(['NOTIFY', 'ORCPT']);

test('MAIL: the path as sent (source route dropped), parameters decoded', () => {
  assert.deepEqual(parseAddressCommand('MAIL', 'MAIL FROM:<@r.test:a@xn--bcher-kva.test> SIZE=10 ENVID=a+2Bb', MAIL, 100), { address: 'a@xn--bcher-kva.test', args: { SIZE: '10', ENVID: 'a+b' } });
  assert.deepEqual(parseAddressCommand('MAIL', 'mail from: <> BODY=8BITMIME', MAIL, 0), { address: '', args: { BODY: '8BITMIME' } });
});

test('MAIL refusals: syntax, SIZE over the limit, bad values, duplicates', () => {
  const code = (l: string) => {
    const r = parseAddressCommand('MAIL', l, MAIL, 100);
    return 'problem' in r ? `${r.problem.code} ${r.problem.esc}` : 'ok';
  };
  assert.equal(code('MAIL FROM:a@b.test'), '501 5.1.7');
  assert.equal(code('MAIL TO:<a@b.test>'), '501 5.1.7');
  assert.equal(code('MAIL FROM:<a@b.test> SIZE=101'), '552 5.3.4');
  assert.equal(code('MAIL FROM:<a@b.test> SIZE=x'), '501 5.5.4');
  assert.equal(code('MAIL FROM:<a@b.test> BODY=BINARYMIME'), '501 5.5.4');
  assert.equal(code('MAIL FROM:<a@b.test> SIZE=1 SIZE=2'), '501 5.5.4');
  assert.equal(code('MAIL FROM:<a@b.test> RET'), '501 5.5.4');
  assert.equal(code('MAIL FROM:<a@b.test> FOO=1'), '555 5.5.4');
  assert.equal(code('MAIL FROM:<a@b.test\0x>'), '501 5.1.7');
  assert.equal(code('MAIL FROM:<a..b@b.test>'), '501 5.1.7');
  assert.equal(code('MAIL FROM:<a@[1.2.3]>'), '501 5.1.7');
  assert.equal(code('MAIL FROM:<a@[IPv6:::1]>'), 'ok');
});

test('RCPT: DSN parameters, postmaster without a domain, no null path', () => {
  assert.deepEqual(parseAddressCommand('RCPT', 'RCPT TO:<a@b.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b.test', RCPT, 0), {
    address: 'a@b.test',
    args: { NOTIFY: 'SUCCESS,DELAY', ORCPT: 'rfc822;a@b.test' },
    dsn: { notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;a@b.test' },
  });
  assert.equal((parseAddressCommand('RCPT', 'RCPT TO:<Postmaster>', RCPT, 0) as { address: string }).address, 'Postmaster');
  const bad = (l: string) => {
    const r = parseAddressCommand('RCPT', l, RCPT, 0);
    return 'problem' in r ? r.problem.code : 0;
  };
  assert.equal(bad('RCPT TO:<>'), 501);
  assert.equal(bad('RCPT TO:<a@b.test> NOTIFY=NEVER,SUCCESS'), 501);
  assert.equal(bad('RCPT TO:<a@b.test> NOTIFY=SOMETIMES'), 501);
  assert.equal(bad('RCPT TO:<a@b.test> ORCPT=rfc822'), 501);
});
