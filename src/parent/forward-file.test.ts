import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readForward } from './forward-file';
import type { Identity } from './helpers';

/** a home of uid/gid 65534 (nobody), searchable, owned by root as system homes may be */
function home(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fwd-home-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** process, seen with its seteuid (optional in Node's types: POSIX only) */
const posixProcess = process as unknown as { seteuid(id: number | string): void };

const user = (dir: string): Identity => ({ name: 'nobody', uid: 65534, gid: 65534, home: dir, system: true });

test('a missing ~/.forward is answered without switching identity (a set*id call signals every thread)', () => {
  const dir = home();
  const seteuid = mock.method(posixProcess, 'seteuid');
  try {
    assert.deepEqual(readForward(user(dir)), { result: 'none' });
    assert.equal(seteuid.mock.callCount(), 0);
  } finally {
    seteuid.mock.restore();
    fs.rmSync(dir, { recursive: true });
  }
});

test('an existing ~/.forward is opened as the user and read', () => {
  const dir = home();
  const file = path.join(dir, '.forward');
  fs.writeFileSync(file, 'someone@example.org\n', { mode: 0o644 });
  fs.chownSync(file, 65534, 65534);
  const seteuid = mock.method(posixProcess, 'seteuid');
  try {
    assert.deepEqual(readForward(user(dir)), { result: 'ok', content: 'someone@example.org\n' });
    assert.deepEqual(
      seteuid.mock.calls.map((c) => c.arguments[0]),
      [65534, 0],
      'the euid is the user for the open, then root again',
    );
  } finally {
    seteuid.mock.restore();
    fs.rmSync(dir, { recursive: true });
  }
});
