import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataReader } from './data-reader';

/** RFC 5321 §4.5.2, line by line: the content up to CRLF.CRLF (periods at line starts
 * dropped) and what follows the end, or undefined content when the end never comes */
function reference(input: string): { content?: string; after: string } {
  let at = 0;
  let out = '';
  for (;;) {
    const eol = input.indexOf('\r\n', at);
    if (eol < 0) return { after: '' };
    const line = input.slice(at, eol);
    if (line === '.') return { content: out, after: input.slice(eol + 2) };
    out += (line.startsWith('.') ? line.slice(1) : line) + '\r\n';
    at = eol + 2;
  }
}

/** feed `input` in the pieces `cuts` makes: the content, and the bytes after the final dot */
function frame(input: string, cuts: number[], max = 0): { content?: string; after: string } {
  const r = new DataReader(max);
  let content = '';
  let at = 0;
  for (const cut of [...cuts.sort((x, y) => x - y), input.length]) {
    const fed = r.feed(Buffer.from(input.slice(at, cut), 'latin1'));
    for (const c of fed.content) content += c.toString('latin1');
    if (fed.rest !== undefined) return { content, after: fed.rest.toString('latin1') + input.slice(cut) };
    at = cut;
  }
  return { after: '' };
}

test('DATA framing: the same content and end wherever the input is cut (every cut of each case, and pairs)', () => {
  const cases = [
    'a\r\n.\r\n',
    '.\r\n',
    '..\r\n.\r\nQUIT\r\n',
    '.x\r\n..y\r\n...\r\n.\r\nNOOP\r\n',
    'a\r\n.b\r\n.\r',
    'a\n.\nb\r\n.\r\n',
    'a\r.\r\n.\r\n',
    '\r\n.\r\n',
    '\r\n..\r\n\r\n.\r\nRSET\r\n',
    'x\r\r\n.\r\n',
  ];
  for (const input of cases) {
    const want = reference(input);
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        assert.deepEqual(frame(input, [i, j]), want, JSON.stringify({ input, cuts: [i, j] }));
      }
    }
  }
});

test('past the size limit the content is counted, not passed on, and the end is still found', () => {
  const r = new DataReader(10);
  const first = r.feed(Buffer.from('0123456789'));
  assert.equal(Buffer.concat(first.content).toString(), '0123456789');
  assert.equal(r.oversized, false);
  const second = r.feed(Buffer.from('abc\r\n.\r\nQUIT\r\n'));
  assert.deepEqual(second.content, []);
  assert.equal(r.oversized, true);
  assert.equal(r.bytes, 15);
  assert.equal(second.rest?.toString(), 'QUIT\r\n');
});
