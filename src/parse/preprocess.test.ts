// Unit tests of the preprocessor: statements split by line (not inside braces), macros and
// their -D overrides, includes, and unused-macro warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnostics } from './diagnostics';
import { tokenValue } from './lexer';
import { Preprocessor } from './preprocess';

function run(text: string, files: Record<string, string> = {}, macros: Record<string, string> = {}, verbose = false) {
  const diags = new Diagnostics();
  const p = new Preprocessor({
    macros,
    diags,
    warnUnusedMacros: verbose,
    readFile: (f) => {
      if (!(f in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return files[f]!;
    },
  });
  p.run('/etc/main.conf', text);
  p.reportUnused();
  return {
    statements: p.statements.map((s) => s.tokens.map(tokenValue).join(' ')),
    files: p.files,
    messages: diags.list.map((d) => `${d.pos.file}:${d.pos.line}:${d.pos.col}: ${d.severity}: ${d.message}`),
  };
}

test('one statement per line; newlines inside braces continue it', () => {
  const r = run('table t {\n a,\n b\n}\nlisten on lo\n');
  assert.deepEqual(r.statements, ['table t { a , b }', 'listen on lo']);
});

test('an unclosed brace ends at the next statement keyword', () => {
  const r = run('table t { a,\nlisten on lo\n');
  assert.deepEqual(r.statements, ['table t { a ,', 'listen on lo']);
});

test('macros expand at the start of a word, with glued text, in file order', () => {
  const r = run('dir = "/etc/mail"\nopts = "port 25"\ntable a $dir/aliases\nlisten on lo $opts\n');
  assert.deepEqual(r.statements, ['table a /etc/mail/aliases', 'listen on lo port 25']);
  assert.deepEqual(r.messages, []);
});

test('-D overrides the file definition; quoted strings do not expand', () => {
  const r = run('x = "file"\nadmd $x\nadmd "$x"\n', {}, { x: 'cli' });
  assert.deepEqual(r.statements, ['admd cli', 'admd $x']);
});

test('a macro used before its definition is undefined, with a hint', () => {
  const r = run('admd $hostnme\nhostname1 = "a"\nadmd $hostname1\n');
  assert.deepEqual(r.messages, ['/etc/main.conf:1:6: error: macro "hostnme" is not defined']);
  const r2 = run('hostname1 = "a"\nadmd $hostnam1\n');
  assert.deepEqual(r2.messages, ['/etc/main.conf:2:6: error: macro "hostnam1" is not defined, did you mean "hostname1"?']);
});

test('a keyword cannot be a macro name; a macro takes one value', () => {
  const r = run('port = 25\nx = a b\n');
  assert.deepEqual(r.messages, [
    '/etc/main.conf:1:1: error: a macro name must be a plain word, not the keyword "port"',
    '/etc/main.conf:2:7: error: macro "x" needs one value; quote a value that has spaces',
  ]);
});

test('include splices a file relative to the including one, and reports its errors under its name', () => {
  const r = run('include "inc/more.conf"\nadmd b\n', { '/etc/inc/more.conf': 'admd a\nadmd $nope\n' });
  assert.deepEqual(r.statements, ['admd a', 'admd b']);
  assert.deepEqual(r.files, ['/etc/main.conf', '/etc/inc/more.conf']);
  assert.deepEqual(r.messages, ['/etc/inc/more.conf:2:6: error: macro "nope" is not defined']);
});

test('include loops and missing files are errors', () => {
  const r = run('include "/etc/a.conf"\ninclude "/etc/missing.conf"\n', { '/etc/a.conf': 'include "/etc/a.conf"\n' });
  assert.deepEqual(r.messages, [
    '/etc/a.conf:1:9: error: cannot include "/etc/a.conf": include loop',
    '/etc/main.conf:2:9: error: cannot read included file "/etc/missing.conf": no such file',
  ]);
});

test('unused macros are warned about only in verbose mode', () => {
  assert.deepEqual(run('x = 1\n', {}, {}, false).messages, []);
  assert.deepEqual(run('x = 1\n', {}, {}, true).messages, ['/etc/main.conf:1:1: warning: macro "x" is defined but never used']);
});
