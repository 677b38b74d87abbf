import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Peer, Session } from './smtp-client';
import { SessionPool } from './session-pool';

const peer = (address: string): Peer => ({ address, port: 25, name: 'mx.test', tls: 'opportunistic', verify: false, helo: 'me.test', timeoutMs: 1000 });

/** a session as the pool sees it */
function fake(p: Peer, reusable = true): Session & { closed: boolean; dead: boolean } {
  const s = { peer: p, reusable, transactions: 1, closed: false, dead: false, alive: () => !s.dead && !s.closed, close: () => void (s.closed = true) };
  return s as unknown as Session & { closed: boolean; dead: boolean };
}

test('a clean session is kept for the same route only, and handed out once', () => {
  const pool = new SessionPool(60_000);
  const s = fake(peer('192.0.2.1'));
  pool.give(s);
  assert.equal(pool.take(peer('192.0.2.2')), undefined, 'another address is another route');
  assert.equal(pool.take(peer('192.0.2.1')), s);
  assert.equal(pool.take(peer('192.0.2.1')), undefined);
  pool.closeAll();
});

test('a session that cannot carry another message is closed, not kept; a dead one is skipped', () => {
  const pool = new SessionPool(60_000);
  const broken = fake(peer('192.0.2.1'), false);
  pool.give(broken);
  assert.equal(broken.closed, true);
  assert.equal(pool.size, 0);
  const s = fake(peer('192.0.2.1'));
  pool.give(s);
  s.dead = true;
  assert.equal(pool.take(peer('192.0.2.1')), undefined);
  assert.equal(s.closed, true);
});

test('an idle session says QUIT after the idle time', async () => {
  const pool = new SessionPool(20);
  const s = fake(peer('192.0.2.1'));
  pool.give(s);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(s.closed, true);
  assert.equal(pool.size, 0);
});

test('a session made with a client certificate or credentials is never handed to a route without them', () => {
  const pool = new SessionPool(60_000);
  const withCert: Peer = { ...peer('192.0.2.1'), tlsExtra: { cert: Buffer.from('client cert'), key: Buffer.from('k') } };
  const s = fake(withCert);
  pool.give(s);
  assert.equal(pool.take(peer('192.0.2.1')), undefined, 'no certificate: another route');
  assert.equal(pool.take({ ...peer('192.0.2.1'), auth: { user: 'u', password: 'p' } }), undefined);
  assert.equal(pool.take({ ...withCert }), s, 'the same certificate: the same route');
  pool.closeAll();
});

test('session-mail-max: a session that has carried that many messages says QUIT instead of waiting', () => {
  const pool = new SessionPool(60_000, undefined, 3);
  const s = fake(peer('192.0.2.1'));
  s.transactions = 2;
  pool.give(s);
  assert.equal(pool.take(peer('192.0.2.1')), s, 'two messages: kept');
  s.transactions = 3;
  pool.give(s);
  assert.equal(s.closed, true);
  assert.equal(pool.size, 0);
});
