import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderGate, MAX_HEAD, newMessageId } from './header-gate';

function through(chunks: string[], from?: string): string {
  const g = new HeaderGate({ messageId: () => '<id@host>', ...(from !== undefined ? { from } : {}) });
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...g.push(Buffer.from(c)));
  out.push(...g.end());
  return Buffer.concat(out).toString();
}

test('a Message-ID is added in front of a header block without one, even split across chunks', () => {
  assert.equal(through(['Subject: a\r\nFro', 'm: x\r', '\n\r\nbody\r\n']), 'Message-ID: <id@host>\r\nSubject: a\r\nFrom: x\r\n\r\nbody\r\n');
  assert.equal(through(['\r\nno headers\r\n']), 'Message-ID: <id@host>\r\n\r\nno headers\r\n');
});

test('a message with its own Message-ID (any case) passes unchanged', () => {
  assert.equal(through(['Subject: a\r\nmessage-ID: <x@y>\r\n\r\nb\r\n']), 'Subject: a\r\nmessage-ID: <x@y>\r\n\r\nb\r\n');
  assert.equal(through(['Subject: a\r\n\r\nMessage-ID: in the body\r\n']), 'Message-ID: <id@host>\r\nSubject: a\r\n\r\nMessage-ID: in the body\r\n');
});

test('a header block longer than MAX_HEAD is passed on as it is, without waiting for its end', () => {
  const g = new HeaderGate({ messageId: () => '<id@host>' });
  const big = Buffer.alloc(MAX_HEAD + 1, 0x61);
  assert.deepEqual(Buffer.concat(g.push(big)), big);
  assert.deepEqual(g.push(Buffer.from('more')).map(String), ['more']);
  assert.equal(g.tooLong, true);
});

test('masquerade: the From header, folded lines included, becomes the envelope sender', () => {
  assert.equal(
    through(['Subject: a\r\nFrom: "Boss" <boss@corp.test>,\r\n\tother@x.test\r\nMessage-ID: <m@x>\r\n\r\nFrom: in the body\r\n'], 'alice@local.test'),
    'From: <alice@local.test>\r\nSubject: a\r\nMessage-ID: <m@x>\r\n\r\nFrom: in the body\r\n',
  );
  assert.equal(through(['\r\nFrom: body only\r\n'], 'a@b'), 'Message-ID: <id@host>\r\nFrom: <a@b>\r\n\r\nFrom: body only\r\n');
  assert.equal(through(['Message-ID: <m@x>\r\nsubject: s\r\n'], 'a@b'), 'From: <a@b>\r\nMessage-ID: <m@x>\r\nsubject: s\r\n');
});

test('new ids are unique and carry only host name characters', () => {
  const a = newMessageId('0a1b2c3d', 'mx.example.org');
  assert.match(a, /^<0a1b2c3d\.[0-9a-f]{12}@mx\.example\.org>$/);
  assert.notEqual(a, newMessageId('0a1b2c3d', 'mx.example.org'));
  assert.match(newMessageId('0a1b2c3d', 'bad host>\r\n'), /@badhost>$/);
});

test('Bcc fields (folded lines included, any case) are removed, from every message; the rest is unchanged', () => {
  const plain = (chunks: string[]) => {
    const g = new HeaderGate({});
    const out: Buffer[] = [];
    for (const c of chunks) out.push(...g.push(Buffer.from(c)));
    out.push(...g.end());
    return Buffer.concat(out).toString();
  };
  assert.equal(plain(['To: alice\r\nBcc: bob@local.test,\r\n carol@local.test\r\nSubject: s\r\n\r\nBcc: in the body\r\n']), 'To: alice\r\nSubject: s\r\n\r\nBcc: in the body\r\n');
  assert.equal(plain(['BCC: x\r\n', '\r\nbody\r\n']), '\r\nbody\r\n', 'a header block of only Bcc: empty, the body intact');
  assert.equal(plain(['Subject: s\r\n\r\nbody\r\n']), 'Subject: s\r\n\r\nbody\r\n', 'no Message-ID added outside submissions');
  assert.equal(plain(['X-Bcc-Note: kept\r\n\r\nb\r\n']), 'X-Bcc-Note: kept\r\n\r\nb\r\n');
});

test('masquerade of a header block that is only a From field keeps one blank line before the body', () => {
  assert.equal(through(['From: x@y\r\n\r\nbody\r\n'], 'a@b'), 'Message-ID: <id@host>\r\nFrom: <a@b>\r\n\r\nbody\r\n');
});
