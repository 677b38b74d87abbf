import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandLineError, splitCommand, wrapCommand } from './command-line';

test('words, quotes and backslashes; nothing is expanded', () => {
  assert.deepEqual(splitCommand('/usr/bin/procmail -f %{sender}'), ['/usr/bin/procmail', '-f', '%{sender}']);
  assert.deepEqual(splitCommand(`/bin/x 'a b' "c \\"d\\"" e\\ f '$(id)' ;`), ['/bin/x', 'a b', 'c "d"', 'e f', '$(id)', ';']);
  assert.deepEqual(splitCommand("  a  ''  "), ['a', '']);
});

test('unbalanced quotes, a trailing backslash and an empty command are errors', () => {
  for (const bad of ["a 'b", 'a "b', 'a \\', '   ']) assert.throws(() => splitCommand(bad), CommandLineError, bad);
});

test('a wrapper takes the mda command in place of %{mda}', () => {
  assert.deepEqual(wrapCommand(['/w', '--', '%{mda}'], ['/m', '-x'], '/m -x'), ['/w', '--', '/m', '-x']);
  assert.deepEqual(wrapCommand(['/w', '-c', 'run %{mda}'], ['/m'], '/m'), ['/w', '-c', 'run /m']);
});
