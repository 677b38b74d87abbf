import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DISABLE_MS, MAX_ERRORS, RouteBook, duration } from './route-book';

test('durations as smtpctl prints them', () => {
  assert.equal(duration(0), '0s');
  assert.equal(duration(61_000), '1m1s');
  assert.equal(duration(3_600_000 + 2000), '1h2s');
  assert.equal(duration(86_400_000), '1d');
});

test('hosts, routes, relays and hoststats follow connections and results', () => {
  let t = 1_000_000;
  const b = new RouteBook(() => t);
  b.task('[mx:remote.test]', 1);
  b.connecting('192.0.2.1', 'mx.remote.test', '[mx:remote.test]');
  t += 5000;
  assert.deepEqual(b.showHosts(), ['192.0.2.1 mx.remote.test refcount=1 nconn=1 lastconn=5s']);
  assert.deepEqual(b.showRoutes(), ['1. 0.0.0.0 <-> 192.0.2.1 (mx.remote.test) N--- nconn=1 nerror=0 penalty=0 timeout=-']);
  b.opened('192.0.2.1', 'mx.remote.test');
  b.kept('192.0.2.1', 'mx.remote.test', 1);
  assert.deepEqual(b.showRoutes(), ['1. 0.0.0.0 <-> 192.0.2.1 (mx.remote.test) ---K nconn=1 nerror=0 penalty=0 timeout=-']);
  b.kept('192.0.2.1', 'mx.remote.test', -1);
  b.closed('192.0.2.1', 'mx.remote.test', '[mx:remote.test]', true);
  assert.deepEqual(b.showRelays(), ['[mx:remote.test] refcount=1 ntask=1 nconn=0 lastconn=5s']);
  assert.deepEqual(b.outcome('remote.test', 'e1', 'ok', '250 2.0.0 Ok', 100), []);
  assert.deepEqual(b.showHoststats(), [`remote.test|${Math.floor(t / 1000)}|250 2.0.0 Ok`]);
  t += 5 * 3600_000;
  assert.deepEqual(b.showHoststats(), [], 'kept four hours');
});

test(`after ${MAX_ERRORS} failed connections a route is disabled until resumed (or for a while)`, () => {
  let t = 0;
  const b = new RouteBook(() => t);
  for (let i = 0; i < MAX_ERRORS; i++) {
    assert.equal(b.disabled('192.0.2.9', 'mx.down.test'), undefined);
    b.connecting('192.0.2.9', 'mx.down.test', 'r');
    b.closed('192.0.2.9', 'mx.down.test', 'r', false);
  }
  assert.match(String(b.disabled('192.0.2.9', 'mx.down.test')), /route 1 .* is disabled .*smtpctl resume route 1/);
  assert.match(b.showRoutes()[0]!, /^1\. 0\.0\.0\.0 <-> 192\.0\.2\.9 \(mx\.down\.test\) NDQ- nconn=0 nerror=10 penalty=0 timeout=5m$/);
  assert.equal(b.resume(2), false);
  assert.equal(b.resume(1), true);
  assert.equal(b.disabled('192.0.2.9', 'mx.down.test'), undefined);
  for (let i = 0; i < MAX_ERRORS; i++) b.closed('192.0.2.9', 'mx.down.test', 'r', false);
  t += DISABLE_MS;
  assert.equal(b.disabled('192.0.2.9', 'mx.down.test'), undefined, 'and by itself after a while');
});

test('holdq: deferred envelopes of a domain (up to max-deferred) are returned when a delivery there works', () => {
  let t = 1_000_000;
  const b = new RouteBook(() => t);
  for (const e of ['e1', 'e2', 'e3']) assert.deepEqual(b.outcome('down.test', e, 'tempfail', '421 4.4.1 no server', 2), []);
  b.outcome('other.test', 'x1', 'tempfail', '451 4.3.0 busy', 2);
  assert.deepEqual(b.outcome('down.test', 'e1', 'permfail', '550 5.1.1 unknown', 2), [], 'a failure releases nothing (and e1 is out)');
  assert.deepEqual(b.outcome('down.test', 'e4', 'ok', '250 2.0.0 Ok', 2), ['e2'], 'e3 was past max-deferred; e1 left');
  assert.deepEqual(b.outcome('down.test', 'e5', 'ok', '250 2.0.0 Ok', 2), [], 'released once');
  b.outcome('down.test', 'e6', 'tempfail', '421 4.4.1 no server', 2);
  t += 5 * 3600_000;
  assert.deepEqual(b.outcome('down.test', 'e7', 'ok', '250 2.0.0 Ok', 2), [], 'a holdq is forgotten with its hoststat');
});
