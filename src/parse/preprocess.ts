/**
 * From files to statements: comments, continuation lines, macros, `include` and `-D`.
 *
 * Purpose: lex the main file, split the tokens into statements (one per line; newlines inside
 * `{ }` do not end a statement), record macro definitions (`name = value`) in file order,
 * expand `$name` references, and splice included files in place. The parser then sees one
 * statement at a time. I/O: reads included files through the `readFile` callback only.
 */
import * as path from 'node:path';
import { describeError } from '../util/errno';
import { hint, type Diagnostics, type Position } from './diagnostics';
import { lex, positionOf, tokenValue, type Tok } from './lexer';
import {
  Equals,
  KW,
  LCurly,
  MacroRef,
  Newline,
  QuotedString,
  RCurly,
  retype,
  STATEMENT_KEYWORDS,
  UnterminatedString,
  Word,
} from './tokens';

export const MAX_INCLUDE_DEPTH = 10;

export interface Statement {
  readonly tokens: Tok[];
  readonly pos: Position;
  /** the main-file statement it comes from: itself, or the top-level include */
  readonly anchor: Position;
}

export interface PreprocessOptions {
  /** `-D name=value` macros: they override definitions in the file. */
  readonly macros: Readonly<Record<string, string>>;
  readonly readFile: (file: string) => string;
  readonly diags: Diagnostics;
  /** warn about macros that are defined but never used (smtpd -v). */
  readonly warnUnusedMacros: boolean;
}

interface Macro {
  value: string;
  used: boolean;
  pos?: Position;
}

const statementStart = new Set(STATEMENT_KEYWORDS.map((k) => KW[k]));

/** Split a token list into statements. */
function splitStatements(tokens: Tok[]): Tok[][] {
  const out: Tok[][] = [];
  let cur: Tok[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType === Newline) {
      let j = i + 1;
      while (j < tokens.length && tokens[j]!.tokenType === Newline) j++;
      const next = tokens[j];
      // Inside braces a newline separates list items, unless the next line starts a new
      // statement: then the brace was never closed, and the parser will say so.
      if (depth > 0 && !(next && statementStart.has(next.tokenType))) continue;
      if (cur.length > 0) out.push(cur);
      cur = [];
      depth = 0;
      continue;
    }
    if (t.tokenType === LCurly) depth++;
    if (t.tokenType === RCurly && depth > 0) depth--;
    cur.push(t);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class Preprocessor {
  private readonly macros = new Map<string, Macro>();
  readonly statements: Statement[] = [];
  /** every file read, the main one first */
  readonly files: string[] = [];

  constructor(private readonly opts: PreprocessOptions) {
    for (const [name, value] of Object.entries(opts.macros)) {
      this.macros.set(name, { value, used: false });
    }
  }

  /** Process one file's text. `stack` is the chain of including files. */
  run(file: string, text: string, stack: readonly string[] = []): void {
    this.files.push(file);
    stack = stack.concat(path.resolve(file));
    const tokens = lex(text, file, this.opts.diags);
    for (const raw of splitStatements(tokens)) {
      // an unterminated string was reported by the lexer: nothing more to say about its statement
      if (raw.some((t) => t.tokenType === UnterminatedString)) continue;
      const toks = this.expand(raw);
      if (toks.length === 0) continue;
      if (this.defineMacro(toks)) continue;
      if (toks[0]!.tokenType === KW.include) {
        this.include(toks, stack);
        continue;
      }
      const pos = positionOf(toks[0]!);
      this.statements.push({ tokens: toks, pos, anchor: this.opts.diags.anchor ?? pos });
    }
  }

  /** Warnings for macros never used (only those defined in files, not -D). */
  reportUnused(): void {
    if (!this.opts.warnUnusedMacros) return;
    for (const [name, m] of this.macros) {
      if (!m.used && m.pos) this.opts.diags.warning(m.pos, `macro "${name}" is defined but never used`);
    }
  }

  /** Replace each `$name` (plus a word glued to it) by the tokens of its value. */
  private expand(tokens: Tok[]): Tok[] {
    if (!tokens.some((t) => t.tokenType === MacroRef)) return tokens;
    const out: Tok[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.tokenType !== MacroRef) {
        out.push(t);
        continue;
      }
      const name = t.image.slice(1);
      const macro = this.macros.get(name);
      if (!macro) {
        const msg = name === '' ? 'a macro name must follow "$"' : `macro "${name}" is not defined`;
        this.opts.diags.error(positionOf(t), msg + hint(name, this.macros.keys()));
        return [];
      }
      macro.used = true;
      let text = macro.value;
      const next = tokens[i + 1];
      if (next && next.tokenType === Word && next.startOffset === t.startOffset + t.image.length) {
        text += next.image;
        i++;
      }
      for (const e of lex(text, t.file, this.opts.diags)) {
        if (e.tokenType === Newline) continue;
        // Copy the location of the macro reference onto each token of its value.
        e.file = t.file;
        e.startLine = t.startLine;
        e.startColumn = t.startColumn;
        if (e.tokenType === MacroRef) retype(e, Word); // no nested expansion, as OpenSMTPD
        out.push(e);
      }
    }
    return out;
  }

  /** `name = value`: record the macro and return true. */
  private defineMacro(toks: Tok[]): boolean {
    if (toks.length < 2 || toks[1]!.tokenType !== Equals) return false;
    const first = toks[0]!;
    const pos = positionOf(first);
    if (first.tokenType !== Word) {
      const what = first.tokenType === QuotedString ? 'a quoted string' : `the keyword "${first.image}"`;
      this.opts.diags.error(pos, `a macro name must be a plain word, not ${what}`);
      return true;
    }
    const value = toks[2];
    if (toks.length !== 3 || !value || (value.tokenType !== Word && value.tokenType !== QuotedString)) {
      const where = toks.length >= 3 ? positionOf(toks[toks.length > 3 ? 3 : 2]!) : pos;
      this.opts.diags.error(where, `macro "${first.image}" needs one value; quote a value that has spaces`);
      return true;
    }
    const name = first.image;
    if (!/^[A-Za-z0-9_]+$/.test(name)) {
      this.opts.diags.error(pos, `invalid macro name "${name}": use letters, digits and "_"`);
      return true;
    }
    const old = this.macros.get(name);
    // A -D definition (no pos) wins over the file's.
    if (old && !old.pos) return true;
    this.macros.set(name, { value: tokenValue(value), used: false, pos });
    return true;
  }

  private include(toks: Tok[], stack: readonly string[]): void {
    const kw = toks[0]!;
    const arg = toks[1];
    if (!arg || (arg.tokenType !== Word && arg.tokenType !== QuotedString)) {
      this.opts.diags.error(positionOf(arg ?? kw), 'include needs a file name');
      return;
    }
    if (toks.length > 2) {
      this.opts.diags.error(positionOf(toks[2]!), `unexpected "${toks[2]!.image}" after the include file name`);
      return;
    }
    const name = tokenValue(arg);
    const shown = path.isAbsolute(name) ? name : path.join(path.dirname(kw.file), name);
    const resolved = path.resolve(shown);
    if (stack.includes(resolved) || stack.length >= MAX_INCLUDE_DEPTH) {
      const why = stack.includes(resolved) ? 'include loop' : `more than ${MAX_INCLUDE_DEPTH} levels`;
      this.opts.diags.error(positionOf(arg), `cannot include "${name}": ${why}`);
      return;
    }
    let text: string;
    try {
      text = this.opts.readFile(shown);
    } catch (e) {
      this.opts.diags.error(positionOf(arg), `cannot read included file "${name}": ${describeError(e)}`);
      return;
    }
    const outer = this.opts.diags.anchor;
    this.opts.diags.anchor = outer ?? positionOf(kw);
    this.run(shown, text, stack);
    this.opts.diags.anchor = outer;
  }
}
