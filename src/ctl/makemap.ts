/**
 * makemap: checks a table file as smtpd reads it (table(5) format; with `-t aliases` every value
 * as an aliases(5) list, with `-t set` keys only) and reports each problem as
 * `file:line:col: message`; `-U` prints the entries as `key<TAB>value`. tsmtpd reads table
 * files as they are (there is no .db to build): after a change, `smtpctl update table NAME`
 * (or newaliases) makes a running smtpd read it again. `-d` and `-o` are accepted and ignored.
 * Privileges: the caller's. Peers: none.
 */
import * as fs from 'node:fs';
import { classifyAliasValue, splitAliasValues } from '../mail/aliases';
import { parseTableFile } from '../mail/table-file';
import type { Io } from '../util/stdio';

const USAGE = 'usage: makemap [-U] [-d type] [-o dbfile] [-t aliases|set] file\n';

export function makemapMain(args: readonly string[], io: Io): number {
  let type: 'plain' | 'aliases' | 'set' = 'plain';
  let dump = false;
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-U') dump = true;
    else if (a === '-t' || a === '-d' || a === '-o') {
      const v = args[++i];
      if (v === undefined) return (io.err(`makemap: ${a} needs an argument\n${USAGE}`), 64);
      if (a === '-t') {
        if (v !== 'aliases' && v !== 'set') return (io.err(`makemap: -t ${v}: the types are aliases and set\n${USAGE}`), 64);
        type = v;
      }
    } else if (a.startsWith('-') && a !== '-') return (io.err(`makemap: unknown option ${a}\n${USAGE}`), 64);
    else if (file === undefined) file = a;
    else return (io.err(USAGE), 64);
  }
  if (file === undefined) return (io.err(USAGE), 64);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    io.err(`makemap: ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  const content = parseTableFile(text);
  const problems = content.errors.map((e) => `${file}:${e.line}:${e.col}: ${e.message}`);
  const lines = text.split('\n');
  /** the line of a key, for the messages about its value */
  const lineOf = (key: string) => 1 + lines.findIndex((l) => l.trim().toLowerCase().startsWith(key));
  if (type === 'set' && content.type === 'mapping' && content.pairs.some(([, v]) => v !== '')) problems.push(`${file}: a set has keys only, this file has values`);
  if (type === 'aliases') {
    for (const [key, value] of content.pairs) {
      const values = splitAliasValues(value);
      if (values.length === 0) problems.push(`${file}:${lineOf(key)}:1: alias "${key}" has no value`);
      for (const v of values) {
        const c = classifyAliasValue(v);
        if (c.kind === 'invalid') problems.push(`${file}:${lineOf(key)}:1: alias "${key}": ${c.why}`);
      }
    }
  }
  if (problems.length > 0) {
    for (const p of problems) io.err(`${p}\n`);
    return 1;
  }
  if (dump) {
    for (const [k, v] of content.type === 'list' ? content.keys.map((k) => [k, ''] as const) : content.pairs) io.out(`${k}\t${v}\n`);
  } else {
    const n = content.type === 'list' ? content.keys.length : content.pairs.length;
    io.out(`${file}: ${n} ${n === 1 ? 'entry' : 'entries'}, no problem (smtpd reads it as it is: smtpctl update table NAME makes a running smtpd read it again)\n`);
  }
  return 0;
}
