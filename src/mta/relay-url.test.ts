import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRelayUrl } from './relay-url';

test('relay URLs: protocols, default ports, labels, IPv6 hosts', () => {
  assert.deepEqual(parseRelayUrl('mx.example.org'), { proto: 'smtp', tls: 'opportunistic', host: 'mx.example.org', port: 25 });
  assert.deepEqual(parseRelayUrl('smtp+tls://bob@smart.example.org:587'), { proto: 'smtp', tls: 'starttls', host: 'smart.example.org', port: 587, label: 'bob' });
  assert.deepEqual(parseRelayUrl('smtps://[::1]'), { proto: 'smtp', tls: 'smtps', host: '::1', port: 465 });
  assert.deepEqual(parseRelayUrl('smtp+notls://127.0.0.1:2525'), { proto: 'smtp', tls: 'none', host: '127.0.0.1', port: 2525 });
  assert.deepEqual(parseRelayUrl('lmtp://127.0.0.1:24'), { proto: 'lmtp', tls: 'none', host: '127.0.0.1', port: 24 });
});

test('bad relay URLs say what is wrong', () => {
  assert.match(String(parseRelayUrl('ftp://x')), /not a relay protocol/);
  assert.match(String(parseRelayUrl('lmtp://x')), /needs a port/);
  assert.match(String(parseRelayUrl('smtp://x:99999')), /out of range/);
  assert.match(String(parseRelayUrl('smtp://a b')), /not a relay URL/);
});
