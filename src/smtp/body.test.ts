import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyChecker } from './body';

/** the rules, byte by byte: what BodyChecker must find however the message is cut */
function reference(msg: Buffer): { bare: boolean; hops: number } {
  let bare = false;
  let hops = 0;
  let inHeaders = true;
  let line = '';
  for (let i = 0; i < msg.length; i++) {
    const c = msg[i]!;
    if (c === 0x0a && msg[i - 1] !== 0x0d) bare = true;
    if (c === 0x0d && msg[i + 1] !== 0x0a) bare = true;
    if (!inHeaders) continue;
    if (c === 0x0a) {
      if (line === '' || line === '\r') inHeaders = false;
      else if (/^received:/i.test(line)) hops++;
      line = '';
    } else line += String.fromCharCode(c);
  }
  return { bare, hops };
}

function check(msg: Buffer, cuts: number[]): { bare: boolean; hops: number } {
  const b = new BodyChecker();
  let at = 0;
  for (const cut of [...cuts.sort((x, y) => x - y), msg.length]) {
    b.push(msg.subarray(at, cut));
    at = cut;
  }
  b.finish();
  return { bare: b.bareNewline, hops: b.hops };
}

const PIECES = ['Received: from a\r\n', 'received:x\r\n', 'Subject: s\r\n', '\r\n', 'body\r\n', '.\r\n', 'x\n', 'y\r', '\r\r\n', 'RECEIVED: b\r\n', 'Rec', 'eived: c\r\n', '\r'];

test('bare CR/LF and Received headers are found wherever the chunks are cut (against the byte-by-byte rule)', () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let round = 0; round < 3000; round++) {
    const msg = Buffer.from(Array.from({ length: 1 + rnd(12) }, () => PIECES[rnd(PIECES.length)]).join(''), 'latin1');
    const cuts = Array.from({ length: rnd(5) }, () => rnd(msg.length + 1));
    assert.deepEqual(check(msg, cuts), reference(msg), JSON.stringify({ msg: msg.toString('latin1'), cuts }));
  }
});

test('a clean message with three Received headers: no bare newline, three hops', () => {
  const msg = Buffer.from('Received: a\r\nReceived: b\r\nreceived: c\r\nSubject: x\r\n\r\nReceived: in the body\r\n');
  assert.deepEqual(check(msg, [5, 30]), { bare: false, hops: 3 });
});
