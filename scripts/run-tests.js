#!/usr/bin/env node
// Runs the compiled tests: every dist/**/*.test.js (unit tests beside the code and the
// scenarios under test/), with node:test. Arguments select files by substring:
//   node scripts/run-tests.js bad-config      runs only dist/test/bad-config.test.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const dist = path.resolve(__dirname, '..', 'dist');
function* tests(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* tests(p);
    else if (e.name.endsWith('.test.js')) yield p;
  }
}
const filters = process.argv.slice(2);
const files = [...tests(dist)].filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error(`run-tests: no test file matches ${filters.join(' ') || 'dist/**/*.test.js'}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
