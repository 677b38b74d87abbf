import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PeerGate } from './peer-gate';

function gate(needed: string[]) {
  const up = new Set<string>();
  const g = new PeerGate(needed, (p) => up.has(p));
  return { g, up: (p: string) => (up.add(p), g.connected()), down: (p: string) => up.delete(p) };
}

test('peer gate: closed until every needed peer is connected', () => {
  const { g, up, down } = gate(['lka', 'queue']);
  assert.equal(g.open, false);
  up('lka');
  assert.equal(g.open, false);
  up('queue');
  assert.equal(g.open, true);
  down('lka');
  assert.equal(g.open, false);
});

test('peer gate: a waiting session goes on when the last peer arrives', async () => {
  const { g, up } = gate(['lka', 'queue']);
  up('queue');
  const waiting = g.wait(5000);
  setTimeout(() => up('lka'), 20);
  assert.equal(await waiting, true);
  assert.equal(await g.wait(10), true, 'an open gate answers at once');
});

test('peer gate: a session waits no longer than its deadline', async () => {
  const { g, up } = gate(['lka']);
  assert.equal(await g.wait(30), false);
  up('lka');
  assert.equal(g.open, true);
});
