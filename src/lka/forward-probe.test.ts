import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { noForward } from './forward-probe';

test('no .forward: answered without the parent; a .forward, a sticky home or an unsearchable one: the parent decides', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-home-'));
  const uid = 1234;
  assert.equal(noForward({ uid, home }), 'none', 'a home without .forward');
  assert.equal(noForward({ uid, home: path.join(home, 'gone') }), 'none', 'a home that does not exist');
  assert.equal(noForward({ uid: 0, home }), 'none', "root's .forward is never read");
  fs.writeFileSync(path.join(home, '.forward'), 'x@y\n');
  assert.equal(noForward({ uid, home }), undefined, 'a .forward: the parent reads it as the user');
  fs.rmSync(path.join(home, '.forward'));
  fs.symlinkSync('/nonexistent', path.join(home, '.forward'));
  assert.equal(noForward({ uid, home }), undefined, 'even a dangling link is the parent\'s to judge');
  fs.rmSync(path.join(home, '.forward'));
  fs.chmodSync(home, 0o1755);
  assert.equal(noForward({ uid, home }), undefined, 'a sticky home: the parent defers the lookup');
  fs.chmodSync(home, 0o755);
  fs.writeFileSync(path.join(home, 'file'), '');
  assert.equal(noForward({ uid, home: path.join(home, 'file') }), 'none', 'a home that is a file has no .forward');
  fs.rmSync(home, { recursive: true });
});
