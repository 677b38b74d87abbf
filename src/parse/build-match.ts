/**
 * Match rules: the per-recipient ruleset (`match ... action NAME | reject`).
 *
 * Purpose: builder step for `match`: each criterion category at most once (`from auth` also
 * counts as `auth`, `from mail-from` as `mail-from`, `for rcpt-to` as `rcpt-to`, as in parse.y),
 * list tables for every criterion, regex patterns that compile, the action defined above the
 * rule, and the implicit `from local` / `for local`. No I/O.
 */
import type { Opt, StmtAst } from './ast';
import type { ForCriterion, FromCriterion, MatchRule, TableCriterion } from './config';
import { hint } from './diagnostics';
import { where, type BuildContext } from './build-context';
import { useTable } from './build-tables';

type MatchStmt = Extract<StmtAst, { kind: 'match' }>;

/** The categories a criterion occupies. */
function categories(o: Opt): string[] {
  const sub = o.flags.find((f) => f !== '!' && f !== 'regex');
  if (o.name === 'from' && (sub === 'auth' || sub === 'mail-from')) return ['from', sub];
  if (o.name === 'for' && sub === 'rcpt-to') return ['for', 'rcpt-to'];
  return [o.name];
}

function table(ctx: BuildContext, o: Opt, what: string): { ok: boolean; table?: string } {
  if (!o.tables) return { ok: true };
  const regex = o.flags.includes('regex');
  const t = useTable(ctx, o.tables, { need: 'list', what: regex ? `${what} regex` : what, regex });
  return t === undefined ? { ok: false } : { ok: true, table: t };
}

export function buildMatch(ctx: BuildContext, st: MatchStmt): void {
  const taken = new Map<string, Opt>();
  let failed = false;
  const rule: {
    -readonly [K in keyof MatchRule]?: MatchRule[K];
  } = { origin: `${st.pos.file}:${st.pos.line}` };
  for (const o of st.criteria) {
    const cats = categories(o);
    const clash = cats.find((c) => taken.has(c));
    if (clash) {
      ctx.diags.error(o.pos, `"${clash}" already specified for this rule`);
      failed = true;
      continue;
    }
    for (const c of cats) taken.set(c, o);
    const negate = o.flags.includes('!');
    const regex = o.flags.includes('regex');
    const sub = o.flags.find((f) => f !== '!' && f !== 'regex');
    const what = sub ? `${o.name} ${sub}` : o.name;
    const t = table(ctx, o, what);
    if (!t.ok) {
      failed = true;
      continue;
    }
    const withTable = t.table !== undefined ? { table: t.table } : {};
    switch (o.name) {
      case 'from':
        rule.from = { negate, type: sub as FromCriterion['type'], regex, implicit: false, ...withTable };
        break;
      case 'for':
        rule.for = { negate, type: sub as ForCriterion['type'], regex, implicit: false, ...withTable };
        break;
      case 'tls':
        rule.tls = { negate };
        break;
      case 'auth':
        rule.auth = { negate, regex, ...withTable };
        break;
      default: {
        const c: TableCriterion = { negate, regex, table: t.table! };
        if (o.name === 'tag') rule.tag = c;
        else if (o.name === 'helo') rule.helo = c;
        else if (o.name === 'mail-from') rule.mailFrom = c;
        else rule.rcptTo = c;
      }
    }
  }
  const d = st.decision;
  if (d.name === 'reject') {
    rule.decision = { type: 'reject' };
  } else {
    const name = d.args[0]!;
    if (!ctx.actions.has(name.value)) {
      const later = ctx.laterActions.get(name.value);
      const msg = ctx.actionPos.has(name.value)
        ? `action "${name.value}" has errors`
        : later
          ? `action "${name.value}" is used before it is defined (at ${where(later)}): move the action above this match`
          : `no such action "${name.value}"${hint(name.value, ctx.laterActions.keys())}`;
      if (!ctx.actionPos.has(name.value) && !ctx.broken.has(`action:${name.value}`)) ctx.diags.error(name.pos, msg);
      failed = true;
    }
    rule.decision = { type: 'action', action: name.value };
  }
  if (failed) return;
  rule.from ??= { negate: false, type: 'local', regex: false, implicit: true };
  rule.for ??= { negate: false, type: 'local', regex: false, implicit: true };
  ctx.rules.push(rule as MatchRule);
}
