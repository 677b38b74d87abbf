import { test } from 'node:test';
import assert from 'node:assert/strict';
import { esmtpParamProblem } from './mail-rcpt-filter';

const MAIL = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID']);
const RCPT = new Set(['NOTIFY', 'ORCPT']);

test('offered parameters with valid values pass, as do lines address-command.ts refuses itself', () => {
  for (const l of ['MAIL FROM:<a@x.test>', 'MAIL FROM:<> SIZE=10 BODY=8BITMIME', 'MAIL FROM:<a@x.test> SMTPUTF8', 'MAIL FROM:<a@x.test> RET=HDRS ENVID=Q+2B+3Dx', 'MAIL FROM: <a@x.test>  SIZE=1', 'MAIL FROM:a@x.test FOO', 'MAIL FROM:<a@x.test']) {
    assert.equal(esmtpParamProblem(l, MAIL), undefined, l);
  }
  assert.equal(esmtpParamProblem('RCPT TO:<a@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+2Bb@x.test', RCPT), undefined);
  assert.equal(esmtpParamProblem('RCPT TO:<a@x.test> ORCPT=utf-8;a\\x{20}b@x.test', RCPT), undefined, 'utf-8 addr-type: not xtext');
});

test('a parameter of no offered extension: 555 5.5.4', () => {
  assert.deepEqual(esmtpParamProblem('MAIL FROM:<a@x.test> FOO=BAR', MAIL), { code: 555, esc: '5.5.4', text: 'Unsupported parameter FOO' });
  assert.equal(esmtpParamProblem('MAIL FROM:<a@x.test> AUTH=<>', MAIL)?.code, 555);
  assert.equal(esmtpParamProblem('MAIL FROM:<a@x.test> ENVID=x', new Set(['SIZE']))?.code, 555, 'DSN hidden');
  assert.equal(esmtpParamProblem('RCPT TO:<a@x.test> XYZ', RCPT)?.code, 555);
  assert.equal(esmtpParamProblem('MAIL FROM:<a@x.test> AUTH=<>', new Set(['AUTH'])), undefined);
});

test('malformed parameters and broken xtext: 501 5.5.4', () => {
  for (const l of ['MAIL FROM:<a@x.test> =x', 'MAIL FROM:<a@x.test> -X=1', 'MAIL FROM:<a@x.test> SIZE=1=2', 'MAIL FROM:<a@x.test> ENVID=a+ZZ', 'MAIL FROM:<a@x.test> ENVID=a+0d', 'MAIL FROM:<a@x.test> ENVID=a+']) {
    const p = esmtpParamProblem(l, MAIL);
    assert.equal(p?.code, 501, l);
    assert.equal(p?.esc, '5.5.4', l);
  }
  assert.equal(esmtpParamProblem('RCPT TO:<a@x.test> ORCPT=rfc822;a+ZZ', RCPT)?.code, 501);
  assert.equal(esmtpParamProblem('RCPT TO:<a@x.test> ORCPT=;a', RCPT)?.code, 501);
  assert.equal(esmtpParamProblem('MAIL FROM:<a@x.test> AUTH=a+2', new Set(['AUTH']))?.code, 501);
});
