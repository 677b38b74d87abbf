/**
 * Filters: `filter NAME proc|proc-exec|phase|chain`, and `filter` options on listeners and
 * relay actions (a name, or an inline chain `{ a, b }`).
 *
 * Purpose: builder step for filters, with OpenSMTPD's checks: one condition per builtin
 * filter, conditions allowed per phase, no `junk` at commit, chains of existing non-chain
 * filters without repeats and without a processor twice. No I/O.
 */
import type { Opt, StmtAst, Str } from './ast';
import type { Filter, FilterCondition, FilterDecision, FilterPhase } from './config';
import { hint } from './diagnostics';
import { where, type BuildContext } from './build-context';
import { procOptions } from './build-global';
import { useTable } from './build-tables';

type FilterStmt = Extract<StmtAst, { kind: 'filter' }>;

const CONNECT_CONDITIONS = ['fcrdns', 'rdns', 'src'];
const ALLOWED: Readonly<Record<FilterPhase, readonly string[]>> = {
  connect: CONNECT_CONDITIONS,
  helo: [...CONNECT_CONDITIONS, 'helo'],
  ehlo: [...CONNECT_CONDITIONS, 'helo'],
  auth: [...CONNECT_CONDITIONS, 'helo', 'auth'],
  'mail-from': [...CONNECT_CONDITIONS, 'helo', 'auth', 'mail-from'],
  'rcpt-to': [...CONNECT_CONDITIONS, 'helo', 'auth', 'mail-from', 'rcpt-to'],
  data: [...CONNECT_CONDITIONS, 'helo', 'auth', 'mail-from'],
  commit: [...CONNECT_CONDITIONS, 'helo', 'auth', 'mail-from'],
};

const REPLY_RE = /^[45][0-9][0-9]([ -]|$)/;

function define(ctx: BuildContext, name: Str, f: Filter): void {
  ctx.filters.set(name.value, f);
  ctx.filterPos.set(name.value, name.pos);
}

export function buildFilter(ctx: BuildContext, st: FilterStmt): void {
  const name = st.name.value;
  const prev = ctx.filterPos.get(name);
  if (prev) {
    ctx.diags.error(st.name.pos, `filter "${name}" is already defined at ${where(prev)}`);
    return;
  }
  const body = st.body;
  switch (body.name) {
    case 'proc': {
      const proc = body.args[0]!;
      if (!ctx.procs.has(proc.value)) {
        ctx.diags.error(proc.pos, `no processor "${proc.value}": declare it first with "proc ${proc.value} COMMAND"${hint(proc.value, ctx.procs.keys())}`);
        return;
      }
      define(ctx, st.name, { kind: 'proc', name, proc: proc.value });
      return;
    }
    case 'proc-exec':
      define(ctx, st.name, { kind: 'proc-exec', name, command: body.args[0]!.value, ...procOptions(ctx, st.opts) });
      return;
    case 'phase': {
      const f = builtin(ctx, name, body.flags[0] as FilterPhase, st.opts[0]!, st.opts[1]!);
      if (f) define(ctx, st.name, f);
      return;
    }
    default: {
      const filters = chainMembers(ctx, body.names ?? body.args);
      if (filters) define(ctx, st.name, { kind: 'chain', name, anonymous: false, filters });
    }
  }
}

function builtin(ctx: BuildContext, name: string, phase: FilterPhase, cond: Opt, dec: Opt): Filter | undefined {
  if (!ALLOWED[phase].includes(cond.name)) {
    ctx.diags.error(cond.pos, `condition "${cond.name}" is not available in the ${phase} phase (allowed: ${ALLOWED[phase].join(', ')})`);
    return undefined;
  }
  let table: string | undefined;
  const regex = cond.flags.includes('regex');
  if (cond.tables) {
    table = useTable(ctx, cond.tables, { need: 'list', what: regex ? `${cond.name} regex` : cond.name, regex });
    if (table === undefined) return undefined;
  }
  const condition: FilterCondition = {
    negate: cond.flags.includes('!'),
    type: cond.name as FilterCondition['type'],
    regex,
    ...(table !== undefined ? { table } : {}),
  };
  let decision: FilterDecision;
  if (dec.name === 'bypass' || dec.name === 'junk') {
    if (dec.name === 'junk' && phase === 'commit') {
      ctx.diags.error(dec.pos, '"junk" is not allowed in the commit phase: the message is already complete');
      return undefined;
    }
    decision = { type: dec.name };
  } else {
    const text = dec.args[0]!;
    if ((dec.name === 'reject' || dec.name === 'disconnect') && !REPLY_RE.test(text.value)) {
      ctx.diags.error(text.pos, `"${dec.name}" needs an SMTP reply starting with a 4xx or 5xx code, e.g. "550 go away"`);
      return undefined;
    }
    decision = { type: dec.name as 'reject' | 'disconnect' | 'rewrite' | 'report', text: text.value };
  }
  return { kind: 'builtin', name, phase, condition, decision };
}

/** Check the members of a chain; returns their names or undefined after an error. */
function chainMembers(ctx: BuildContext, names: readonly Str[]): string[] | undefined {
  const out: string[] = [];
  const procs = new Set<string>();
  for (const n of names) {
    const f = ctx.filters.get(n.value);
    if (!f) {
      if (!ctx.broken.has(`filter:${n.value}`)) {
        ctx.diags.error(n.pos, `no filter "${n.value}"${hint(n.value, ctx.filters.keys())}`);
      }
      return undefined;
    }
    if (f.kind === 'chain') {
      ctx.diags.error(n.pos, `filter chain "${n.value}" cannot be used inside another chain`);
      return undefined;
    }
    if (out.includes(n.value)) {
      ctx.diags.error(n.pos, `filter "${n.value}" appears twice in this chain`);
      return undefined;
    }
    const proc = f.kind === 'proc' ? f.proc : f.kind === 'proc-exec' ? f.name : undefined;
    if (proc !== undefined) {
      if (procs.has(proc)) {
        ctx.diags.error(n.pos, `processor "${proc}" appears twice in this chain`);
        return undefined;
      }
      procs.add(proc);
    }
    out.push(n.value);
  }
  return out;
}

/** `filter NAME` or `filter { a, b }` on a listener or relay action: the filter's name. */
export function filterOption(ctx: BuildContext, o: Opt | undefined): string | undefined {
  if (!o) return undefined;
  if (o.names) {
    const filters = chainMembers(ctx, o.names);
    if (!filters) return undefined;
    const name = `<dynchain:${(++ctx.anonChains).toString(16).padStart(8, '0')}>`;
    ctx.filters.set(name, { kind: 'chain', name, anonymous: true, filters });
    return name;
  }
  const n = o.args[0]!;
  ctx.pending.push({ kind: 'filter', name: n, anchor: ctx.diags.anchor });
  return n.value;
}
