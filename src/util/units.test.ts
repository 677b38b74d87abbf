// Unit tests of delay and size parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDelay, parseCount, parseDelay, parseSize } from './units';

test('delays need a unit', () => {
  assert.equal(parseDelay('4h'), 14400);
  assert.equal(parseDelay('30s'), 30);
  assert.equal(parseDelay('2d'), 172800);
  assert.equal(parseDelay('10m'), 600);
  assert.equal(parseDelay('4'), undefined);
  assert.equal(parseDelay('4w'), undefined);
  assert.equal(parseDelay('h'), undefined);
});

test('delays print in the largest exact unit', () => {
  assert.equal(formatDelay(14400), '4h');
  assert.equal(formatDelay(90), '90s');
  assert.equal(formatDelay(120), '2m');
  assert.equal(formatDelay(345600), '4d');
});

test('sizes are bytes or scaled like scan_scaled', () => {
  assert.equal(parseSize('1024'), 1024);
  assert.equal(parseSize('35M'), 35 * 1024 * 1024);
  assert.equal(parseSize('1k'), 1024);
  assert.equal(parseSize('1.5K'), 1536);
  assert.equal(parseSize('1.5'), undefined);
  assert.equal(parseSize('35Q'), undefined);
  assert.equal(parseSize('-1'), undefined);
  assert.equal(parseSize('99999E'), undefined);
});

test('counts are bounded decimal integers', () => {
  assert.equal(parseCount('0'), 0);
  assert.equal(parseCount('65535', 65535), 65535);
  assert.equal(parseCount('65536', 65535), undefined);
  assert.equal(parseCount('1e3'), undefined);
});
