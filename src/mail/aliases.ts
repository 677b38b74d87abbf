/**
 * aliases(5) values: how a list is split (commas outside quotes, backslash escapes, trimmed)
 * and what each value is (error:, :include:, |command, /file, address, user), for lka's
 * expansion and makemap's checks. Privileges: none. Pure.
 */

/** Split an aliases(5) value list: commas outside quotes, backslash escapes, trimmed. */
export function splitAliasValues(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      cur += value[++i];
    } else if (quote) {
      if (c === quote) quote = '';
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.filter((v) => v !== '');
}

export type AliasValue =
  | { readonly kind: 'error'; readonly code: number }
  | { readonly kind: 'include' | 'command' | 'file' | 'address' | 'user'; readonly value: string };

/** what an alias value is, or why it is none */
export function classifyAliasValue(v: string): AliasValue | { readonly kind: 'invalid'; readonly why: string } {
  const err = /^:?error:([45]\d\d) [A-Za-z0-9]/i.exec(v);
  if (err) return { kind: 'error', code: Number(err[1]) };
  if (/^:?error:/i.test(v)) return { kind: 'invalid', why: 'error: needs a 4xx or 5xx code and a text' };
  const inc = /^:?include:(.*)$/i.exec(v);
  if (inc) return inc[1]!.trim().startsWith('/') ? { kind: 'include', value: inc[1]!.trim() } : { kind: 'invalid', why: ':include: needs an absolute path' };
  if (v.startsWith('|')) return v.length > 1 ? { kind: 'command', value: v.slice(1).trim() } : { kind: 'invalid', why: 'an empty command' };
  if (v.startsWith('/')) return { kind: 'file', value: v };
  if (v.includes('@')) return { kind: 'address', value: v };
  if (/^\\?[A-Za-z0-9_.+-]+$/.test(v)) return { kind: 'user', value: v };
  return { kind: 'invalid', why: `not a user, an address, a command or a file: ${JSON.stringify(v)}` };
}
