import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { runCommand } from './command';

const vars = {
  sender: 'a@remote.test',
  rcpt: 'b@local.test',
  dest: 'b@local.test',
  subAddrDelim: '+',
  user: { name: os.userInfo().username, uid: os.userInfo().uid, gid: os.userInfo().gid, home: os.tmpdir() },
};

test('an mda command past its time limit is killed: a temporary failure that says so', async () => {
  const r = await runCommand(['/bin/sleep', '10'], vars, Buffer.from('x\r\n'), 300);
  assert.equal(r.result, 'tempfail');
  assert.match(r.text, /^451 4\.3\.0 mda command killed after 0 s/);
});

test('exit statuses: 0 delivered, 75 temporary, 67 permanent with the first line it printed', async () => {
  assert.equal((await runCommand(['/bin/cat'], vars, Buffer.from('x\r\n'), 5000)).result, 'ok');
  assert.equal((await runCommand(['/bin/sh', '-c', 'exit 75'], vars, Buffer.from(''), 5000)).result, 'tempfail');
  const perm = await runCommand(['/bin/sh', '-c', 'echo no such list; exit 67'], vars, Buffer.from(''), 5000);
  assert.deepEqual(perm, { result: 'permfail', text: '554 5.3.0 mda command exited with status 67: no such list' });
});
