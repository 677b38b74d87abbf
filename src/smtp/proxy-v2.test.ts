import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyV2, SIGNATURE } from './proxy-v2';

function header(verCmd: number, fam: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  SIGNATURE.copy(h);
  h[12] = verCmd;
  h[13] = fam;
  h.writeUInt16BE(body.length, 14);
  return Buffer.concat([h, body]);
}

function v4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

test('PROXY over TCP/IPv4 and IPv6 gives the client address and port; LOCAL keeps the socket\'s', () => {
  assert.deepEqual(parseProxyV2(header(0x21, 0x11, v4([203, 0, 113, 7], [127, 0, 0, 1], 4242, 25))), { length: 28, address: '203.0.113.7', port: 4242 });
  const six = Buffer.alloc(36);
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(six, 0);
  six.writeUInt16BE(5555, 32);
  assert.deepEqual(parseProxyV2(header(0x21, 0x21, six)), { length: 52, address: '2001:db8:0:0:0:0:0:1', port: 5555 });
  const mapped = Buffer.alloc(36);
  Buffer.from('00000000000000000000ffffc6336401', 'hex').copy(mapped, 0);
  assert.equal((parseProxyV2(header(0x21, 0x21, mapped)) as { address: string }).address, '198.51.100.1');
  assert.deepEqual(parseProxyV2(header(0x20, 0x00, Buffer.alloc(0))), { length: 16 });
  const withTlv = Buffer.concat([v4([10, 0, 0, 1], [10, 0, 0, 2], 1, 2), Buffer.from([0x04, 0x00, 0x01, 0x41])]);
  assert.deepEqual(parseProxyV2(header(0x21, 0x11, withTlv)), { length: 32, address: '10.0.0.1', port: 1 }, 'TLVs are skipped');
});

test('a partial header asks for more; anything else is refused', () => {
  const full = header(0x21, 0x11, v4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
  assert.deepEqual(parseProxyV2(full.subarray(0, 10)), { need: 6 });
  assert.deepEqual(parseProxyV2(full.subarray(0, 20)), { need: 8 });
  assert.match((parseProxyV2(Buffer.from('EHLO x\r\n')) as { error: string }).error, /not a PROXY/);
  assert.match((parseProxyV2(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')) as { error: string }).error, /not a PROXY/);
  assert.match((parseProxyV2(header(0x11, 0x11, Buffer.alloc(12))) as { error: string }).error, /version 1/);
  assert.match((parseProxyV2(header(0x21, 0x12, Buffer.alloc(12))) as { error: string }).error, /family 0x12/);
  assert.match((parseProxyV2(header(0x21, 0x11, Buffer.alloc(4))) as { error: string }).error, /short/);
  const h = header(0x21, 0x11, Buffer.alloc(0));
  h.writeUInt16BE(9000, 14);
  assert.match((parseProxyV2(h) as { error: string }).error, /too long/);
});
