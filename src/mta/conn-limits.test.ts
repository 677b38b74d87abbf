import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnLimiter, familyFor, limitFor, type LimitKeys } from './conn-limits';

const keys = (host: string, domain = 'd.test'): LimitKeys => ({ host, route: `0.0.0.0 ${host}`, source: '0.0.0.0', connector: '0.0.0.0 [mx:d.test]', relay: `[mx:${domain}]`, domain });

test('limits: `mta limit for domain` first, then `mta limit`, then the defaults (connection delays 0 here)', () => {
  const global = { values: { 'max-conn-per-host': 3 } };
  const per = { 'slow.test': { values: { 'max-conn-per-host': 1 }, family: 'inet4' as const } };
  assert.equal(limitFor('max-conn-per-host', 'slow.test', global, per), 1);
  assert.equal(limitFor('max-conn-per-host', 'other.test', global, per), 3);
  assert.equal(limitFor('max-conn-per-route', 'other.test', global, per), 5);
  assert.equal(limitFor('session-mail-max', 'other.test', global, per), 100);
  assert.equal(limitFor('conn-delay-route', 'other.test', global, per), 0);
  assert.equal(familyFor('slow.test', global, per), 'inet4');
  assert.equal(familyFor('other.test', global, per), undefined);
});

test('a connection waits while a max-conn limit is reached, and goes when one closes', async () => {
  const l = new ConnLimiter();
  const limit = (k: string) => (k === 'max-conn-per-host' ? 2 : k.startsWith('conn-delay') ? 0 : 100);
  assert.equal(l.check(keys('192.0.2.1'), limit).go, true);
  l.acquire(keys('192.0.2.1'));
  l.acquire(keys('192.0.2.1'));
  const v = l.check(keys('192.0.2.1'), limit);
  assert.equal(v.go, false);
  assert.match((v as { why: string }).why, /max-conn-per-host 2 reached for 192\.0\.2\.1/);
  assert.equal(l.check(keys('192.0.2.2'), limit).go, true, 'another host is not held back by this one');
  const woke = l.wait(60_000).then(() => 'woke');
  l.release(keys('192.0.2.1'));
  assert.equal(await woke, 'woke');
  assert.equal(l.check(keys('192.0.2.1'), limit).go, true);
  assert.equal(l.count('host', '192.0.2.1'), 1);
});

test('conn-delay: the next connection to the same key waits the rest of the delay', () => {
  let t = 1000;
  const l = new ConnLimiter(() => t);
  const limit = (k: string) => (k === 'conn-delay-route' ? 5 : k.startsWith('conn-delay') ? 0 : 100);
  l.acquire(keys('192.0.2.1'));
  l.release(keys('192.0.2.1'));
  t += 2000;
  const v = l.check(keys('192.0.2.1'), limit);
  assert.deepEqual(v, { go: false, why: 'conn-delay-route for 0.0.0.0 192.0.2.1', afterMs: 3000 });
  t += 3000;
  assert.equal(l.check(keys('192.0.2.1'), limit).go, true);
});
