// Unit tests of diagnostic formatting and "did you mean" hints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance, formatDiagnostic, hint } from './diagnostics';

test('errors and warnings print as file:line:col: message', () => {
  const pos = { file: 'a.conf', line: 3, col: 7 };
  assert.equal(formatDiagnostic({ severity: 'error', pos, message: 'bad' }), 'a.conf:3:7: bad');
  assert.equal(formatDiagnostic({ severity: 'warning', pos, message: 'odd' }), 'a.conf:3:7: warning: odd');
});

test('edit distance and closest candidate', () => {
  assert.equal(editDistance('acton', 'action'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(closest('acton', ['action', 'listen']), 'action');
  assert.equal(closest('zzzzzz', ['action', 'listen']), undefined);
  assert.equal(closest('tsl', ['tls', 'tag']), undefined, 'short words allow one edit only');
  assert.equal(hint('lisen', ['listen']), ', did you mean "listen"?');
  assert.equal(hint('xyzzy', ['listen']), '');
});
