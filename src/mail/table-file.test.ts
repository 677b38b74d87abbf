// Unit tests of the table(5) text format parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTableFile } from './table-file';

test('a mapping: key ends at space, tab or colon; keys lower-cased; duplicates replace', () => {
  const t = parseTableFile('# comment\nRoot: alice, bob\nuser\tx\nroot  carol\n\n');
  assert.equal(t.type, 'mapping');
  assert.deepEqual(t.pairs, [['root', 'carol'], ['user', 'x']]);
  assert.deepEqual(t.errors, []);
});

test('a list: first entry without value decides; [::1] keys end at ]', () => {
  const t = parseTableFile('  Example.ORG\n[::1]\n10.0.0.0/8\nexample.org\n');
  assert.equal(t.type, 'list');
  assert.deepEqual(t.keys, ['example.org', '[::1]', '10.0.0.0/8']);
});

test('# @list before the first entry forces a list; an empty file is a mapping', () => {
  assert.equal(parseTableFile('# @list\n').type, 'list');
  assert.equal(parseTableFile('').type, 'mapping');
  assert.equal(parseTableFile('a b\n# @list\n').type, 'mapping');
});

test('malformed lines are reported with line and column', () => {
  const t = parseTableFile('a b\n  c\n');
  assert.deepEqual(t.errors, [{ line: 2, col: 3, message: 'mapping table entry "c" has no value' }]);
  const l = parseTableFile('a\nb c\n[::1\n');
  assert.deepEqual(l.errors.map((e) => `${e.line}:${e.col}: ${e.message}`), [
    '2:1: list table entry "b" has a value; a list has keys only',
    '3:1: unterminated "[" in key',
  ]);
});
