import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Writable } from 'node:stream';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import './dot-stuffing';

interface Stream extends Writable {
  oncommand(line: Buffer, next: () => void): void;
  startDataMode(max?: number): NodeJS.ReadableStream;
  continue(): void;
}

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

/** feed `input` in the pieces `cuts` makes: the data stream's content, and the command lines after it */
async function frame(input: string, cuts: number[]): Promise<{ content?: string; after: string }> {
  const s = new (SMTPStream as unknown as new () => Stream)();
  const commands: string[] = [];
  s.oncommand = (line, next) => {
    commands.push(line.toString('latin1'));
    next();
  };
  const data = s.startDataMode();
  let content = '';
  let ended = false;
  data.on('data', (b: Buffer) => (content += b.toString('latin1')));
  data.on('end', () => {
    ended = true;
    s.continue();
  });
  let at = 0;
  for (const cut of [...cuts.sort((x, y) => x - y), input.length]) {
    await new Promise<void>((r) => s.write(Buffer.from(input.slice(at, cut), 'latin1'), () => r()));
    at = cut;
  }
  await new Promise((r) => setImmediate(r));
  return ended ? { content, after: commands.map((c) => `${c}\r\n`).join('') } : { after: '' };
}

test('DATA framing: the same content and end wherever the input is cut (every cut of each case, and pairs)', async () => {
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
        assert.deepEqual(await frame(input, [i, j]), want, JSON.stringify({ input, cuts: [i, j] }));
      }
    }
  }
});
