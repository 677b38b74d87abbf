/**
 * Scenario: `scheduler limit max-inflight` and `mda limit max-session-per-user` hold local
 * deliveries to the number they say. Three messages for one user arrive at once; their mda
 * command notes whether another delivery of theirs was running (a directory made for the
 * duration of each): with either limit at 1 none overlap, and all three are delivered.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRoot, ensureUser, ensureUserWithHome, freePort, startDaemon, stopDaemon } from './daemon-harness';
import { sendOne } from './smtp-send';
import { waitFor } from './wait-for';

let user: { name: string; home: string };
let bin = '';

/** one delivery: "alone" when no other was running, "overlap" when one was */
const SCRIPT = `#!/bin/sh
cat > /dev/null
if mkdir "$HOME/busy" 2>/dev/null; then sleep 1; rmdir "$HOME/busy"; echo alone >> "$HOME/runs"
else echo overlap >> "$HOME/runs"; fi
exit 0
`;

before(() => {
  assertRoot();
  ensureUser('_smtpd');
  ensureUser('_smtpq');
  user = ensureUserWithHome('tsmtpd-slots');
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-slots-'));
  fs.chmodSync(bin, 0o755);
  fs.writeFileSync(path.join(bin, 'one.sh'), SCRIPT, { mode: 0o755 });
});

after(() => fs.rmSync(bin, { recursive: true, force: true }));

/** three messages at once under `limit` (a config line): what each delivery saw */
async function threeAtOnce(limit: string): Promise<string[]> {
  const runs = path.join(user.home, 'runs');
  fs.rmSync(runs, { force: true });
  fs.rmSync(path.join(user.home, 'busy'), { recursive: true, force: true });
  const port = await freePort();
  const conf = [`listen on 127.0.0.1 port ${port}`, limit, `action "one" mda "${path.join(bin, 'one.sh')}"`, 'match from any for domain "slots.test" action "one"', ''].join('\n');
  const d = await startDaemon({ conf });
  try {
    await d.waitHealthy();
    await Promise.all([1, 2, 3].map((i) => sendOne(port, `${user.name}@slots.test`, `m${i}`)));
    return await waitFor('three deliveries', () => {
      const lines = fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').trim().split('\n') : [];
      return lines.length >= 3 ? lines : undefined;
    }, 20_000);
  } finally {
    await stopDaemon(d);
  }
}

test('scheduler limit max-inflight 1: one delivery at a time, every message delivered', async () => {
  assert.deepEqual(await threeAtOnce('scheduler limit max-inflight 1'), ['alone', 'alone', 'alone']);
});

test('mda limit max-session-per-user 1: one delivery at a time for the user, every message delivered', async () => {
  assert.deepEqual(await threeAtOnce('mda limit max-session-per-user 1'), ['alone', 'alone', 'alone']);
});

test('without a limit the same three deliveries overlap (what the two tests above rule out)', async () => {
  assert.ok((await threeAtOnce('')).includes('overlap'));
});
