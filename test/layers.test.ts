/**
 * The folder dependency check (scripts/check-layers.js, run by `npm run lint`) finds
 * forbidden imports, and the real src/ has none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromRoot } from './helpers';

function checkLayers(src?: string) {
  const args = [fromRoot('scripts', 'check-layers.js'), ...(src ? [src] : [])];
  return spawnSync(process.execPath, args, { encoding: 'utf8' });
}

test('forbidden imports are reported with file and line', () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-layers-'));
  const put = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), text);
  };
  put('util/a.ts', "import * as fs from 'node:fs';\nimport { Lexer } from 'chevrotain';\n");
  put('lka/x.ts', "import type { Config } from '../parse/config';\nimport { y } from '../queue/y';\n");
  put('lka/z.ts', "import { Config } from '../parse/config';\n");
  put('mail/m.ts', "import { u } from '../util/u';\nimport { b } from '../bus/b';\n");
  put('queue/y.ts', "import { f } from '../bus/f';\nimport { g } from '../mail/g';\nexport const y = 1;\n");
  const r = checkLayers(src);
  assert.equal(r.status, 1);
  assert.deepEqual(r.stderr.trim().split('\n').sort(), [
    'src/lka/x.ts:2: src/lka/ may not import src/queue/ ("../queue/y")',
    'src/lka/z.ts:1: src/lka/ may not import src/parse/ ("../parse/config")',
    'src/mail/m.ts:2: src/mail/ may not import src/bus/ ("../bus/b")',
    'src/util/a.ts:2: util/ may import only node:* modules, not "chevrotain"',
  ]);
});

test('the checkout follows the rules', () => {
  const r = checkLayers();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /follow the folder dependency rules/);
});
