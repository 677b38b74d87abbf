/**
 * From statements to a Config: parse each statement, check it, and assemble the result.
 *
 * Purpose: drive the grammar (parser.ts) and the builder steps (build-*.ts) over the
 * statements of the preprocessor, in file order, then make the checks that need the whole file
 * (pki and filters referenced, srs key, at least one match rule) and freeze the Config.
 * I/O: only through the context's FileAccess.
 */
import type { StmtAst } from './ast';
import type { Config, Listener } from './config';
import {
  DEFAULT_MTA_MAX_DEFERRED,
  DEFAULT_QUEUE_TTL,
  DEFAULT_SMTP,
  DEFAULT_SRS_TTL_DAYS,
  DEFAULT_WARN_INTERVAL,
} from './defaults';
import { hint, shown, type Position } from './diagnostics';
import { positionOf, tokenValue, type Tok } from './lexer';
import { getParser } from './parser';
import { unexpected } from './parser-messages';
import type { Statement } from './preprocess';
import { KW, StringTok, STATEMENT_KEYWORDS } from './tokens';
import type { BuildContext } from './build-context';
import { buildAction } from './build-action';
import { buildFilter } from './build-filter';
import {
  buildAdmd,
  buildBounce,
  buildCa,
  buildGlobal,
  buildLimits,
  buildMaxDeferred,
  buildPki,
  buildProc,
  buildWrapper,
  finishPki,
} from './build-global';
import { buildListen } from './build-listen';
import { buildMatch } from './build-match';
import { defineTable } from './build-tables';

/** Parse one statement; report a syntax error and return undefined on failure. */
export function parseStatement(ctx: BuildContext, st: Statement): StmtAst | undefined {
  const first = st.tokens[0]!;
  if (!STATEMENT_KEYWORDS.some((k) => KW[k] === first.tokenType)) {
    const isWord = first.tokenType.name === 'Word';
    const h = hint(first.image, STATEMENT_KEYWORDS);
    const msg = isWord && h
      ? `unknown keyword ${shown(first.image)}${h}`
      : `${shown(first.image)} does not start a statement; expected ${STATEMENT_KEYWORDS.join(', ')} or a macro (name = value)`;
    ctx.diags.error(st.pos, msg);
    return undefined;
  }
  const parser = getParser();
  parser.input = st.tokens;
  const ast = parser.statement();
  const err = parser.errors[0];
  if (!err) return ast;
  const idx = st.tokens.indexOf(err.token as Tok);
  const at = idx >= 0 ? idx : st.tokens.length;
  const expected = parser
    .computeContentAssist('statement', st.tokens.slice(0, at))
    .map((s) => s.nextTokenType);
  const unique = [...new Set(expected)];
  let pos: Position;
  if (idx >= 0) {
    pos = positionOf(st.tokens[idx]!);
  } else {
    const last = st.tokens[st.tokens.length - 1]!;
    const p = positionOf(last);
    pos = { ...p, col: p.col + (last.image.includes('\n') ? 0 : last.image.length) };
  }
  let msg = unexpected(err.token, unique);
  if (idx < 0 && unique.length > 0) {
    msg = `incomplete statement: expected ${unique.length === 1 ? unique[0]!.LABEL : 'one of ' + unique.slice(0, 10).map((t) => t.LABEL).join(', ')}${unique.length > 10 ? ', ...' : ''}`;
  }
  ctx.diags.error(pos, msg);
  return undefined;
}

/** Note every action's name and place, so that a match that comes first can say so. */
function collectActionNames(ctx: BuildContext, statements: readonly Statement[]): void {
  for (const st of statements) {
    const [a, name] = st.tokens;
    if (a?.tokenType === KW.action && name && name.tokenType.CATEGORIES?.includes(StringTok)) {
      if (!ctx.laterActions.has(tokenValue(name))) ctx.laterActions.set(tokenValue(name), positionOf(name));
    }
  }
}

/** A table, action or filter whose statement had errors: remember its name (see ctx.broken). */
function markBroken(ctx: BuildContext, st: Statement): void {
  const [kw, name] = st.tokens;
  if (!name || !name.tokenType.CATEGORIES?.includes(StringTok)) return;
  const kind = kw?.tokenType === KW.table ? 'table' : kw?.tokenType === KW.action ? 'action' : kw?.tokenType === KW.filter ? 'filter' : undefined;
  if (kind === 'table' && ctx.tables.has(tokenValue(name))) return;
  if (kind === 'filter' && ctx.filters.has(tokenValue(name))) return;
  if (kind) ctx.broken.add(`${kind}:${tokenValue(name)}`);
}

function dispatch(ctx: BuildContext, ast: StmtAst): void {
  switch (ast.kind) {
    case 'table': return defineTable(ctx, ast);
    case 'pki': return buildPki(ctx, ast);
    case 'ca': return buildCa(ctx, ast);
    case 'admd': return buildAdmd(ctx, ast);
    case 'bounce': return buildBounce(ctx, ast);
    case 'mda-wrapper': return buildWrapper(ctx, ast);
    case 'limits': return buildLimits(ctx, ast);
    case 'mta-max-deferred': return buildMaxDeferred(ctx, ast);
    case 'proc': return buildProc(ctx, ast);
    case 'global': return buildGlobal(ctx, ast);
    case 'listen': return buildListen(ctx, ast);
    case 'action': return buildAction(ctx, ast);
    case 'match': return buildMatch(ctx, ast);
    case 'filter': return buildFilter(ctx, ast);
  }
}

function finish(ctx: BuildContext, end: Position): void {
  finishPki(ctx);
  for (const ref of ctx.pending) {
    const name = ref.kind === 'filter' ? ref.name.value : ref.name.value.toLowerCase();
    const known: Map<string, unknown> = ref.kind === 'pki' ? ctx.pki : ref.kind === 'ca' ? ctx.ca : ctx.filters;
    ctx.diags.anchor = ref.anchor;
    if (!known.has(name) && !ctx.broken.has(`${ref.kind}:${name}`)) {
      ctx.diags.error(ref.name.pos, `no ${ref.kind} "${ref.name.value}"${hint(name, known.keys())}`);
    }
  }
  ctx.diags.anchor = undefined;
  if (ctx.srsNeededAt && ctx.srsKey === undefined) {
    ctx.diags.error(ctx.srsNeededAt, '"srs" needs a key: add "srs key SECRET"');
  }
  if (ctx.rules.length === 0 && ctx.diags.errorCount === 0) {
    ctx.diags.error(end, 'no match rules, nothing to do: add at least one "match ... action NAME" rule');
  }
}

export function buildConfig(ctx: BuildContext, statements: readonly Statement[], end: Position): Config {
  collectActionNames(ctx, statements);
  for (const st of statements) {
    ctx.diags.anchor = st.anchor;
    const errors = ctx.diags.errorCount;
    const ast = parseStatement(ctx, st);
    if (ast) dispatch(ctx, ast);
    if (ctx.diags.errorCount > errors) markBroken(ctx, st);
  }
  ctx.diags.anchor = undefined;
  finish(ctx, end);
  const listeners: Listener[] = [...ctx.listeners];
  if (!ctx.socketListenerPos) listeners.unshift({ kind: 'socket', implicit: true, maskSrc: false, dsn: true });
  const byName = <T extends { name: string }>(m: Map<string, T & { pos?: Position }>) =>
    [...m.values()].map(({ pos: _pos, ...rest }) => rest as unknown as T);
  return {
    ...(ctx.admd !== undefined ? { admd: ctx.admd } : {}),
    bounceWarnInterval: ctx.bounceWarnInterval ?? DEFAULT_WARN_INTERVAL,
    mda: { wrappers: Object.fromEntries(ctx.wrappers), limits: { ...ctx.mdaLimits } },
    mta: {
      maxDeferred: ctx.mtaMaxDeferred ?? DEFAULT_MTA_MAX_DEFERRED,
      limits: ctx.mtaLimits,
      domainLimits: ctx.domainLimits,
    },
    queue: {
      compression: ctx.queueCompression,
      ttl: ctx.queueTtl ?? DEFAULT_QUEUE_TTL,
      ...(ctx.queueEncryption ? { encryption: ctx.queueEncryption } : {}),
    },
    scheduler: { limits: { ...ctx.schedulerLimits } },
    smtp: { ...DEFAULT_SMTP, ...ctx.smtp },
    srs: {
      ttlDays: ctx.srsTtlDays ?? DEFAULT_SRS_TTL_DAYS,
      ...(ctx.srsKey !== undefined ? { key: ctx.srsKey } : {}),
      ...(ctx.srsKeyBackup !== undefined ? { keyBackup: ctx.srsKeyBackup } : {}),
    },
    tables: [...ctx.tables.values()],
    pki: [...ctx.pki.values()].filter((p) => p.cert && p.key).map((p) => ({
      name: p.name,
      cert: p.cert!.value,
      key: p.key!.value,
      dhe: p.dhe,
    })),
    ca: byName(ctx.ca),
    procs: [...ctx.procs.values()],
    filters: [...ctx.filters.values()],
    listeners,
    actions: [...ctx.actions.values()],
    rules: ctx.rules,
  };
}

/** Freeze an object graph so that no worker can change the configuration it was given. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
