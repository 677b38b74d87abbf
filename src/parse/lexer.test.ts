// Unit tests of the lexer: keywords versus words, quoting and escapes, comments, continuation
// lines, and token positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnostics } from './diagnostics';
import { lex, tokenValue } from './lexer';

function kinds(text: string): string[] {
  return lex(text, 'f', new Diagnostics()).map((t) => `${t.tokenType.name}:${tokenValue(t)}`);
}

test('keywords are whole words only; longer words stay words', () => {
  assert.deepEqual(kinds('auth auth-optional authx smtp+tls://h mail-from'), [
    'KW_auth:auth', 'KW_auth-optional:auth-optional', 'Word:authx', 'Word:smtp+tls://h', 'KW_mail-from:mail-from',
  ]);
});

test('punctuation splits words; quotes and $ inside a word are ordinary characters', () => {
  assert.deepEqual(kinds('<t> {a,b} !x k=v k=>v don\'t a$b'), [
    'LAngle:<', 'Word:t', 'RAngle:>', 'LCurly:{', 'Word:a', 'Comma:,', 'Word:b', 'RCurly:}', 'Bang:!', 'Word:x',
    'Word:k', 'Equals:=', 'Word:v', 'Word:k', 'Arrow:=>', 'Word:v', "Word:don't", 'Word:a$b',
  ]);
});

test('quoted strings: keywords inside are values, escapes follow OpenSMTPD', () => {
  assert.deepEqual(kinds('"local" \'x y\' "a\\"b" "c\\d"'), [
    'QuotedString:local', 'QuotedString:x y', 'QuotedString:a"b', 'QuotedString:c\\d',
  ]);
});

test('comments are dropped, newlines kept, backslash-newline joins lines', () => {
  assert.deepEqual(kinds('a # b c\nd \\\n e'), ['Word:a', 'Newline:\n', 'Word:d', 'Word:e']);
});

test('positions are 1-based line and column', () => {
  const toks = lex('a\n  listen', 'x.conf', new Diagnostics());
  const last = toks[toks.length - 1]!;
  assert.equal(last.file, 'x.conf');
  assert.equal(last.startLine, 2);
  assert.equal(last.startColumn, 3);
});

test('an unterminated quote and a stray character are errors with their position', () => {
  const d = new Diagnostics();
  lex('a (b\nc "open', 'x.conf', d);
  assert.deepEqual(
    d.list.map((e) => `${e.pos.line}:${e.pos.col}: ${e.message}`),
    ['1:3: unexpected character "(": quote the value if it is meant as text', '2:3: unterminated quoted string: the closing quote is missing'],
  );
});

test('a backslash escapes one character in a bare word', () => {
  assert.deepEqual(kinds('a\\ b'), ['Word:a b']);
});
