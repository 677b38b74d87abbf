/**
 * The tables a relay action names, as the mta reads them: `host` (relay URLs, a list),
 * `domain` (recipient domain -> URL), `auth` (label -> user:password), `src` (addresses),
 * `helo-src` (address -> name). Only static tables reach the mta (parent/config-parts.ts).
 * Privileges: none (mta). Peers: none. No I/O.
 */
import type { Table } from '../parse/config';

/** the first entry of a list table, or a mapping table's value for `key` */
export function tableValue(tables: readonly Table[], name: string, key?: string): string | undefined {
  const t = tables.find((x) => x.name === name);
  if (!t || t.kind !== 'static') return undefined;
  if (key === undefined) return t.type === 'list' ? t.keys[0] : t.pairs[0]?.[0];
  return t.pairs.find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
}

/** the keys of a list table */
export function tableList(tables: readonly Table[], name: string): readonly string[] {
  const t = tables.find((x) => x.name === name);
  return t?.kind === 'static' ? (t.type === 'list' ? t.keys : t.pairs.map(([k]) => k)) : [];
}

/** a mapping table as an object */
export function tableMap(tables: readonly Table[], name: string): Record<string, string> {
  const t = tables.find((x) => x.name === name);
  return t?.kind === 'static' && t.type === 'mapping' ? Object.fromEntries(t.pairs.map(([k, v]) => [k, v])) : {};
}
