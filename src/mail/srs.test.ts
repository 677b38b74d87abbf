import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isSrs, srsDecode, srsEncode } from './srs';

const DAY = 86_400_000;
const now = 20_000 * DAY + 3600_000;
const keys = { key: 'k-current', ttlDays: 4 };

test('SRS0: the original sender in the forwarder\'s domain, signed and dated; decoded back', () => {
  const a = srsEncode('Alice@Origin.Example', 'fwd.test', 'k-current', now)!;
  // day 20000 mod 1024 = 544 = 17 * 32 + 0 -> "RA"
  assert.match(a, /^SRS0=[A-Za-z0-9+/]{4}=RA=Origin\.Example=Alice@fwd\.test$/);
  const rest = a.slice(10);
  assert.equal(a.slice(5, 9), createHash('sha1').update('k-current').update(rest).digest('base64').slice(0, 4), 'SHA-1 of key and rest, as OpenSMTPD signs');
  assert.equal(srsDecode(a, keys, now), 'Alice@Origin.Example');
  assert.equal(srsDecode(a.replace('Alice', 'alice'), keys, now), undefined, 'the hash covers the case of the local part');
  assert.ok(isSrs(a));
  assert.ok(!isSrs('alice@x'));
});

test('SRS0: a wrong hash, another key or an old timestamp is refused; the backup key is accepted', () => {
  const a = srsEncode('bob@origin.example', 'fwd.test', 'k-old', now)!;
  assert.equal(srsDecode(a, keys, now), undefined, 'signed with another key');
  assert.equal(srsDecode(a, { ...keys, keyBackup: 'k-old' }, now), 'bob@origin.example', 'the backup key');
  const b = srsEncode('bob@origin.example', 'fwd.test', 'k-current', now)!;
  const forged = `SRS0=AAAA${b.slice(9)}`;
  assert.equal(srsDecode(forged, keys, now), undefined);
  assert.equal(srsDecode(b, keys, now + 4 * DAY), 'bob@origin.example', 'ttl 4 days');
  assert.equal(srsDecode(b, keys, now + 5 * DAY), undefined, 'too old');
  assert.equal(srsDecode(b, keys, now - DAY), 'bob@origin.example', 'a clock one day behind');
  assert.equal(srsDecode(b, keys, now - 2 * DAY), undefined);
});

test('SRS1: a second forwarder keeps the first one\'s SRS0 part and names its domain; a third only re-signs', () => {
  const first = srsEncode('carol@origin.example', 'first.test', 'k-first', now)!;
  const second = srsEncode(first, 'second.test', 'k-current', now)!;
  assert.match(second, /^SRS1=[A-Za-z0-9+/]{4}=first\.test==[A-Za-z0-9+/]{4}=RA=origin\.example=carol@second\.test$/);
  assert.equal(srsDecode(second, keys, now), first, 'back to the first forwarder\'s SRS0 address');
  const third = srsEncode(second, 'third.test', 'k-third', now)!;
  assert.equal(third.slice(10), second.slice(10).replace('@second.test', '@third.test'));
  assert.equal(srsDecode(third, { key: 'k-third', ttlDays: 4 }, now), first);
});

test('not SRS, or not an address: nothing', () => {
  assert.equal(srsDecode('alice@fwd.test', keys, now), undefined);
  assert.equal(srsDecode('SRS0=short@fwd.test', keys, now), undefined);
  assert.equal(srsDecode('SRS0=abcd=RA=x@', keys, now), undefined);
  assert.equal(srsEncode('no-at-sign', 'fwd.test', 'k', now), undefined);
});
