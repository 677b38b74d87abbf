import { test } from 'node:test';
import assert from 'node:assert/strict';
import { saslStart, type SaslStep } from './sasl';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function replyOf(step: SaslStep): number | undefined {
  return 'reply' in step ? step.reply.code : undefined;
}

test('PLAIN with an initial response, and after a 334 challenge', () => {
  assert.deepEqual(saslStart('PLAIN', [b64('\0alice\0pw')]), { credentials: { method: 'PLAIN', username: 'alice', password: 'pw' } });
  const first = saslStart('PLAIN', []);
  assert.ok('challenge' in first && first.challenge === '');
  assert.deepEqual('next' in first && first.next(b64('admin\0alice\0pw')), { credentials: { method: 'PLAIN', username: 'alice', password: 'pw' } });
});

test('PLAIN tokens that are not canonical base64 or lack a part: 501 5.5.2 (checklist P17)', () => {
  for (const t of ['=', 'a', 'aaa', 'aaaa=', '====', 'A'.repeat(10_000), '***', 'AA==', 'dQB1', b64('\0al\r\nX: y\0pw')]) {
    const s = saslStart('PLAIN', [t]);
    assert.equal(replyOf(s), 501, t.slice(0, 20));
    assert.match('reply' in s ? s.reply.text : '', /^5\.5\.2 /);
  }
});

test('LOGIN asks for the user and the password; a * cancels with 501', () => {
  const first = saslStart('LOGIN', []);
  assert.ok('challenge' in first && first.challenge === 'VXNlcm5hbWU6');
  const second = 'next' in first ? first.next(b64('alice')) : first;
  assert.ok('challenge' in second && second.challenge === 'UGFzc3dvcmQ6');
  assert.deepEqual('next' in second && second.next(b64('pw')), { credentials: { method: 'LOGIN', username: 'alice', password: 'pw' } });
  assert.equal(replyOf('next' in first ? first.next('*') : first), 501);
  assert.equal(replyOf('next' in second ? second.next('*') : second), 501);
  assert.equal(replyOf('next' in first ? first.next('!!') : first), 501);
});

test('other mechanisms: 504', () => {
  assert.equal(replyOf(saslStart('CRAM-MD5', [])), 504);
  assert.equal(replyOf(saslStart('PLAIN', ['a', 'b'])), 501);
});
