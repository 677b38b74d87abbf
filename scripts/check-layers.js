#!/usr/bin/env node
// Enforces the folder dependency rules of architecture.md §5 on src/:
//   util/ imports only node:*; log/ (the pino logger) may import util/; mail/ may import
//   util/; bus/ may import util/, log/ and mail/; parse/ may import util/ and mail/; a worker
//   folder (parent, ctl, lka, queue, scheduler, smtp, mta, mda) may import bus/, mail/, util/,
//   log/ and the types of parse/config.ts, never another worker folder (deliver/, the
//   delivery helper, counts as one). Files directly in
//   src/ (entry points) may import anything.
// Usage: node scripts/check-layers.js [SRC_DIR]   (default: the checkout's src/)
// Prints each violation as file:line: message and exits 1 if there is any.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const src = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'src'));
const WORKERS = ['parent', 'ctl', 'lka', 'queue', 'scheduler', 'smtp', 'mta', 'mda', 'deliver'];
const ALLOWED = {
  util: ['util'],
  log: ['util', 'log'],
  mail: ['util', 'mail'],
  bus: ['util', 'log', 'mail', 'bus'],
  parse: ['util', 'mail', 'parse'],
};
for (const w of WORKERS) ALLOWED[w] = ['bus', 'mail', 'util', 'log', w];

function* files(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

const IMPORT_RE = /^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/;

function check(file) {
  const rel = path.relative(src, file);
  const folder = rel.includes(path.sep) ? rel.split(path.sep)[0] : undefined;
  const problems = [];
  if (folder === undefined) return problems;
  const allowed = ALLOWED[folder];
  if (!allowed) return [`${file}:1: folder src/${folder}/ has no dependency rule in scripts/check-layers.js`];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const m = IMPORT_RE.exec(line);
    const spec = m && (m[1] || m[2] || m[3]);
    if (!spec) return;
    const where = `src/${rel}:${i + 1}`;
    if (!spec.startsWith('.')) {
      if (folder === 'util' && !spec.startsWith('node:')) problems.push(`${where}: util/ may import only node:* modules, not "${spec}"`);
      return;
    }
    const target = path.relative(src, path.resolve(path.dirname(file), spec));
    const tFolder = target.split(path.sep)[0];
    if (allowed.includes(tFolder)) return;
    const typeOnlyConfig = target === path.join('parse', 'config') && /^\s*import\s+type\b/.test(line);
    if (WORKERS.includes(folder) && typeOnlyConfig) return;
    problems.push(`${where}: src/${folder}/ may not import src/${tFolder}/ ("${spec}")`);
  });
  return problems;
}

const problems = [...files(src)].flatMap(check);
for (const p of problems) console.error(p);
if (problems.length > 0) process.exit(1);
console.log(`check-layers: ${[...files(src)].length} files follow the folder dependency rules`);
