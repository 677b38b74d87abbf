/**
 * Tables: `table` statements, inline tables in options, and the check that each use of a table
 * gets the kind it needs (list or mapping), as OpenSMTPD's table_check_use.
 *
 * Purpose: builder step for tables. I/O: reads `file:` tables through the context's FileAccess.
 */
import type { Str, TablesAst } from './ast';
import type { StaticTable, TableName } from './config';
import { hint } from './diagnostics';
import { where, type BuildContext } from './build-context';
import { parseTableFile } from '../mail/table-file';
import { describeError } from '../util/errno';

export interface TableUse {
  /** what the lookup needs: a list, a mapping, or either */
  readonly need: 'list' | 'mapping' | 'any';
  /** the option, for messages: `table "x" is a list, but "<what>" needs a mapping` */
  readonly what: string;
  /** a credentials table: warn when its file is readable by others */
  readonly secret?: boolean;
  /** patterns: each key must compile as a regular expression */
  readonly regex?: boolean;
}

const BACKEND_RE = /^[a-z][a-z0-9_-]*$/;

export function defineTable(
  ctx: BuildContext,
  stmt: { name: Str; spec?: Str; inline?: TablesAst },
): void {
  const name = stmt.name.value;
  const prev = ctx.tablePos.get(name);
  if (prev) {
    ctx.diags.error(stmt.name.pos, `table "${name}" is already defined at ${where(prev)}`);
    return;
  }
  if (stmt.inline) {
    const t = inlineTable(ctx, stmt.inline, name, false);
    if (t) register(ctx, t, stmt.name);
    return;
  }
  const spec = stmt.spec!;
  const colon = spec.value.indexOf(':');
  const slash = spec.value.indexOf('/');
  const hasBackend = colon > 0 && (slash < 0 || colon < slash);
  const backend = hasBackend ? spec.value.slice(0, colon) : spec.value.startsWith('/') ? 'file' : spec.value;
  const arg = hasBackend ? spec.value.slice(colon + 1) : spec.value.startsWith('/') ? spec.value : undefined;
  if (backend === 'db') {
    ctx.diags.error(spec.pos, `table "${name}": db: tables are not supported, use file:${arg ?? '/path'} (a table(5) text file)`);
    return;
  }
  if (arg !== undefined && !arg.startsWith('/')) {
    ctx.diags.error(spec.pos, `table "${name}": the path after "${backend}:" must be absolute`);
    return;
  }
  if (backend === 'file' || backend === 'static') {
    const file = fileTable(ctx, name, { ...spec, value: arg! });
    if (file) register(ctx, file, stmt.name);
    return;
  }
  if (!BACKEND_RE.test(backend)) {
    ctx.diags.error(spec.pos, `table "${name}": "${spec.value}" is neither an absolute path nor a backend name`);
    return;
  }
  register(ctx, { kind: 'proc', name, backend, ...(arg !== undefined ? { arg } : {}) }, stmt.name);
}

function register(ctx: BuildContext, t: StaticTable | { kind: 'proc'; name: string; backend: string; arg?: string }, at: Str): void {
  ctx.tables.set(t.name, t);
  ctx.tablePos.set(t.name, at.pos);
}

function fileTable(ctx: BuildContext, name: string, path: Str): StaticTable | undefined {
  const base = { kind: 'static' as const, name, anonymous: false, path: path.value };
  if (!ctx.checkFiles) {
    ctx.unloaded.add(name);
    return { ...base, type: 'mapping', keys: [], pairs: [] };
  }
  let text: string;
  try {
    text = ctx.files.readFile(path.value);
  } catch (e) {
    ctx.diags.error(path.pos, `table "${name}": cannot read "${path.value}": ${describeError(e)}`);
    return undefined;
  }
  const content = parseTableFile(text);
  for (const e of content.errors) {
    ctx.diags.error({ file: path.value, line: e.line, col: e.col }, `${e.message} (table "${name}")`);
  }
  if (content.errors.length > 0) return undefined;
  return { ...base, type: content.type, keys: content.keys, pairs: content.pairs };
}

function inlineTable(ctx: BuildContext, ast: TablesAst, name: string, anonymous: boolean): StaticTable | undefined {
  if (ast.kind === 'single') {
    return { kind: 'static', name, anonymous, type: 'list', keys: [ast.value.value], pairs: [] };
  }
  if (ast.kind !== 'inline') return undefined;
  const isMapping = ast.items[0]!.value !== undefined;
  const odd = ast.items.find((i) => (i.value !== undefined) !== isMapping);
  if (odd) {
    ctx.diags.error(odd.key.pos, 'an inline table must be all values or all key = value pairs, not a mix');
    return undefined;
  }
  if (isMapping) {
    const pairs = new Map<string, string>();
    for (const i of ast.items) pairs.set(i.key.value, i.value!.value);
    return { kind: 'static', name, anonymous, type: 'mapping', keys: [], pairs: [...pairs] };
  }
  const keys = [...new Set(ast.items.map((i) => i.key.value))];
  return { kind: 'static', name, anonymous, type: 'list', keys, pairs: [] };
}

/** Resolve a table operand (`<name>`, `{ ... }` or a single value) for a use; reports an error
 * and returns undefined when the table does not exist or is of the wrong kind. */
export function useTable(ctx: BuildContext, ast: TablesAst, use: TableUse): TableName | undefined {
  let name: string;
  if (ast.kind === 'ref') {
    name = ast.name.value;
    if (!ctx.tables.has(name)) {
      if (!ctx.broken.has(`table:${name}`)) {
        ctx.diags.error(ast.name.pos, `no such table "${name}"${hint(name, ctx.tables.keys())}`);
      }
      return undefined;
    }
  } else {
    name = `<inline:${++ctx.anonTables}>`;
    const t = inlineTable(ctx, ast, name, true);
    if (!t) return undefined;
    ctx.tables.set(name, t);
  }
  const t = ctx.tables.get(name)!;
  if (t.kind === 'static' && !ctx.unloaded.has(name)) {
    if (use.need !== 'any' && t.type !== use.need) {
      const label = ast.kind === 'ref' ? `table "${name}"` : 'this inline table';
      ctx.diags.error(ast.pos, `${label} is a ${t.type}, but "${use.what}" needs a ${use.need}`);
      return undefined;
    }
    if (use.regex) {
      for (const k of t.keys) {
        const bad = regexError(k);
        if (bad) {
          ctx.diags.error(ast.pos, `invalid regex "${k}": ${bad}`);
          return undefined;
        }
      }
    }
  }
  if (use.secret && t.kind === 'static' && t.path) {
    ctx.secrecy({ value: t.path, pos: ctx.tablePos.get(name)!, quoted: false }, 'credentials table file');
  }
  return name;
}

/** The error of a POSIX-extended pattern (with an optional leading `(?i)`), as JavaScript sees it. */
export function regexError(pattern: string): string | undefined {
  try {
    new RegExp(pattern.startsWith('(?i)') ? pattern.slice(4) : pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, '');
  }
}
