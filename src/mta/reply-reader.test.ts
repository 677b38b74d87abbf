import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LINE, ReplyReader, sanitize } from './reply-reader';

async function read(input: string, n = 1): Promise<{ code: number; text: string }[]> {
  const r = new ReplyReader();
  r.push(Buffer.from(input, 'latin1'));
  r.close();
  const out = [];
  for (let i = 0; i < n; i++) {
    const x = await r.next();
    out.push({ code: x.code, text: x.text });
  }
  return out;
}

test('single and multi-line replies, CRLF or LF, split anywhere', async () => {
  assert.deepEqual(await read('220 mx.test ESMTP\r\n'), [{ code: 220, text: 'mx.test ESMTP' }]);
  assert.deepEqual(await read('250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n'), [{ code: 250, text: 'mx.test PIPELINING 8BITMIME' }]);
  assert.deepEqual(await read('250\r\n354 go\n', 2), [{ code: 250, text: '' }, { code: 354, text: 'go' }]);
  const r = new ReplyReader();
  for (const c of '250-a\r\n250 b\r\n') r.push(Buffer.from(c));
  const x = await r.next();
  assert.deepEqual([x.code, x.lines], [250, ['a', 'b']]);
});

test('garbage is a protocol error (code 0) with a printable excerpt, never a reply', async () => {
  for (const bad of ['HTTP/1.1 400 Bad\r\n', '25 short\r\n', '600 no\r\n', '250-a\r\n251 b\r\n', '250x\r\n', '\x00\x01\r\n']) {
    const [r] = await read(bad);
    assert.equal(r!.code, 0, JSON.stringify(bad));
    assert.match(r!.text, /^protocol error: /);
    assert.ok(!/[^\x20-\x7e]/.test(r!.text), 'printable');
  }
  const [long] = await read(`250 ${'x'.repeat(MAX_LINE + 10)}`);
  assert.equal(long!.code, 0);
  const [many] = await read(`${'250-x\r\n'.repeat(200)}250 y\r\n`);
  assert.equal(many!.code, 0);
});

test('a closed connection without a reply reads as code 0', async () => {
  assert.deepEqual(await read(''), [{ code: 0, text: 'connection closed' }]);
});

test('sanitize keeps one printable line', () => {
  assert.equal(sanitize('a\r\nb\x1b[31mc'), 'a b [31mc');
});
