// Unit tests of the normalized dump: values that need escaping read back unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpConfig, quote } from './dump';
import { parseConfigText } from './load';

function reread(text: string) {
  const r = parseConfigText(text, 'x.conf', { checkFiles: false });
  assert.deepEqual(r.diagnostics.map((d) => d.message), []);
  return r.config!;
}

test('quoted values with quotes, backslashes, spaces and tabs read back unchanged', () => {
  for (const v of ['plain', 'a "quoted" word', 'back\\slash', 'dir\\ space', 'q\\"x', 'tab\\\there', '#not a comment', '{ x }', 'é ü']) {
    const c = reread(`mda wrapper "w" ${quote(v)}\naction "a" mbox\nmatch for any action "a"\n`);
    assert.equal(c.mda.wrappers.w, v, `value ${JSON.stringify(v)} as ${quote(v)}`);
  }
});

test('table paths and backend arguments with spaces survive the dump', () => {
  const text = 'table t "ldap:/etc/my ldap.conf"\ntable u "files"\naction "a" mbox alias <t>\nmatch for any action "a"\n';
  const c = reread(text);
  const dump = dumpConfig(c);
  assert.match(dump, /^table t "ldap:\/etc\/my ldap\.conf"$/m);
  assert.match(dump, /^table u "files"$/m);
  assert.equal(dumpConfig(reread(dump)), dump);
});
