/**
 * smtpctl update table NAME: the file of a `file:` table is read again (table(5) format) and,
 * if it is still a table of the same kind, replaces that table in the running configuration;
 * the rest of the configuration stays as it is (SIGHUP reloads everything). A file with
 * errors changes nothing and the errors are reported as `file:line:col: message`.
 * Privileges: root (the parent reads the files the configuration names). Peers: none (the
 * Daemon asks, then hands the workers the new configuration).
 */
import * as fs from 'node:fs';
import { parseTableFile } from '../mail/table-file';
import type { Config, StaticTable } from '../parse/config';

export type TableUpdate = { readonly ok: true; readonly config: Config; readonly entries: number } | { readonly ok: false; readonly text: string };

export function updateTable(config: Config, name: string): TableUpdate {
  const t = config.tables.find((x) => x.name === name);
  if (!t) return { ok: false, text: `no table "${name}" in the configuration` };
  if (t.kind !== 'static' || t.path === undefined) return { ok: false, text: `table "${name}" is not a file table: its content is in smtpd.conf (reload the configuration with SIGHUP)` };
  let text: string;
  try {
    text = fs.readFileSync(t.path, 'utf8');
  } catch (e) {
    return { ok: false, text: `table "${name}": cannot read ${t.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const content = parseTableFile(text);
  if (content.errors.length > 0) return { ok: false, text: content.errors.map((e) => `${t.path}:${e.line}:${e.col}: ${e.message}`).join('\n') };
  // an empty file reads as a mapping: it is still good for a list table
  const type = content.keys.length === 0 && content.pairs.length === 0 ? t.type : content.type;
  if (type !== t.type) return { ok: false, text: `table "${name}" was a ${t.type} and ${t.path} now holds a ${type}: fix the file, or reload the configuration` };
  const updated: StaticTable = { ...t, keys: content.keys, pairs: content.pairs };
  return { ok: true, config: { ...config, tables: config.tables.map((x) => (x.name === name ? updated : x)) }, entries: type === 'list' ? content.keys.length : content.pairs.length };
}
