import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthLimits, IP_MAX, IP_WINDOW_MS, SESSION_MAX } from './auth-limits';

test('failures in one session are delayed more each time and end the session at the limit', () => {
  const l = new AuthLimits(() => 0);
  const answers = Array.from({ length: SESSION_MAX }, () => l.fail('s1', '10.0.0.1'));
  assert.deepEqual(answers.map((a) => a.delayMs), [0, 1000, 2000].slice(0, SESSION_MAX));
  assert.deepEqual(answers.map((a) => a.close), [...Array(SESSION_MAX - 1).fill(false), true]);
  l.closed('s1');
  assert.equal(l.fail('s1', '10.0.0.1').delayMs, 0, 'a new session starts from zero');
});

test('an address is blocked after IP_MAX failures in the window, and free again after it', () => {
  let now = 1_000_000;
  const l = new AuthLimits(() => now);
  for (let i = 0; i < IP_MAX; i++) {
    assert.equal(l.blocked('10.0.0.2'), false);
    l.fail(`s${i}`, '10.0.0.2');
    now += 1000;
  }
  assert.equal(l.blocked('10.0.0.2'), true);
  assert.equal(l.blocked('10.0.0.3'), false, 'other addresses are not blocked');
  now += IP_WINDOW_MS;
  assert.equal(l.blocked('10.0.0.2'), false);
  l.prune();
  assert.equal(l.size, 0, 'nothing kept once the window has passed');
});
