// Unit tests of framing: frames split anywhere, several in one chunk, oversized and garbage refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesHeader, decodeJson, encodeBytes, encodeFrame, encodeJson, FrameError, FrameReader, FRAME_BYTES } from './frame';

test('frames split at every byte boundary are reassembled', () => {
  const bytes = Buffer.concat([encodeJson({ type: 'A', n: 1 }), encodeJson({ type: 'B', s: 'é'.repeat(100) })]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const r = new FrameReader();
    const got = [...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))].map(decodeJson);
    assert.deepEqual(got, [{ type: 'A', n: 1 }, { type: 'B', s: 'é'.repeat(100) }], `cut at ${cut}`);
    assert.equal(r.pending, 0);
  }
});

test('byte by byte', () => {
  const bytes = encodeJson({ type: 'X' });
  const r = new FrameReader();
  const frames = [];
  for (const b of bytes) frames.push(...r.push(Buffer.from([b])));
  assert.deepEqual(frames.map(decodeJson), [{ type: 'X' }]);
});

test('an oversized frame is refused from its header, before its body arrives', () => {
  const r = new FrameReader(1024);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(1_000_000);
  assert.throws(() => r.push(header), FrameError);
  assert.throws(() => new FrameReader(10).push(encodeJson({ type: 'long enough to exceed ten bytes' })), /over the limit/);
});

test('garbage: empty frames, unknown kinds, invalid JSON', () => {
  assert.throws(() => new FrameReader().push(Buffer.from([0, 0, 0, 0])), /empty frame/);
  assert.throws(() => new FrameReader().push(encodeFrame(9, Buffer.from('{}'))), /unknown frame kind 9/);
  const [f] = new FrameReader().push(encodeFrame(1, Buffer.from('{nope')));
  assert.throws(() => decodeJson(f!), /not valid JSON/);
  assert.throws(() => new FrameReader().push(Buffer.from('GET / HTTP/1.1\r\n\r\n')), FrameError);
});

test('a bytes frame sent as its header and the buffer is the frame encodeBytes makes', () => {
  const body = Buffer.from('x'.repeat(1000));
  assert.ok(Buffer.concat([bytesHeader(9, body.length), body]).equals(encodeBytes(9, body)));
});

test('a large frame arriving in many chunks is reassembled whole, with the frames around it', () => {
  const body = Buffer.alloc(200_000);
  for (let i = 0; i < body.length; i++) body[i] = i % 251;
  const bytes = Buffer.concat([encodeJson({ type: 'A' }), encodeBytes(5, body), encodeJson({ type: 'B' })]);
  const r = new FrameReader();
  const frames = [];
  for (let off = 0; off < bytes.length; off += 6000) frames.push(...r.push(bytes.subarray(off, off + 6000)));
  assert.equal(r.pending, 0);
  assert.deepEqual(frames.map((f) => f.kind), [1, FRAME_BYTES, 1]);
  assert.equal(frames[1]!.payload.readUInt32BE(0), 5);
  assert.ok(frames[1]!.payload.subarray(4).equals(body));
  assert.deepEqual([decodeJson(frames[0]!), decodeJson(frames[2]!)], [{ type: 'A' }, { type: 'B' }]);
});
