import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cipherList, protocolRange } from './tls-words';

test('libtls protocol strings become a TLS version range; TLS 1.2 and 1.3 by default', () => {
  assert.deepEqual(protocolRange(undefined), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  assert.deepEqual(protocolRange('tlsv1.3'), { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
  assert.deepEqual(protocolRange('tlsv1.2:tlsv1.3'), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  assert.deepEqual(protocolRange('legacy'), { minVersion: 'TLSv1', maxVersion: 'TLSv1.3' });
  assert.deepEqual(protocolRange('tlsv1.0,tlsv1.1'), { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
  assert.deepEqual(protocolRange('nonsense'), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
});

test('libtls cipher words become OpenSSL lists; OpenSSL lists pass as they are', () => {
  assert.equal(cipherList('secure'), 'HIGH:!aNULL:!MD5');
  assert.equal(cipherList('all'), 'ALL');
  assert.equal(cipherList('ECDHE-RSA-AES256-GCM-SHA384'), 'ECDHE-RSA-AES256-GCM-SHA384');
});
