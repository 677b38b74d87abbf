/**
 * Lexing of smtpd.conf text into tokens that remember their file, line and column.
 *
 * Purpose: turn one file's text (or a macro's value) into tokens; report characters that no
 * token accepts. Also turns a word or quoted-string token into its string value. No I/O.
 */
import { Lexer, type IToken } from './chevrotain';
import { classify, LEXER_TOKENS, QuotedString, UnterminatedString } from './tokens';
import type { Diagnostics, Position } from './diagnostics';

/** A token with the name of the file it came from. */
export interface Tok extends IToken {
  file: string;
}

const lexer = new Lexer(LEXER_TOKENS, { positionTracking: 'onlyStart', ensureOptimizations: true });

export function positionOf(tok: Tok): Position {
  return { file: tok.file, line: tok.startLine ?? 0, col: tok.startColumn ?? 0 };
}

/** Lex `text`; every token is tagged with `file`. Unknown characters are reported and skipped. */
export function lex(text: string, file: string, diags: Diagnostics): Tok[] {
  const result = lexer.tokenize(text);
  for (const e of result.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    const shown = ch.length > 20 ? `${ch.slice(0, 20)}...` : ch;
    diags.error(
      { file, line: e.line ?? 0, col: e.column ?? 0 },
      `unexpected character ${JSON.stringify(shown)}: quote the value if it is meant as text`,
    );
  }
  const tokens = result.tokens as Tok[];
  for (const t of tokens) {
    t.file = file;
    classify(t);
    if (t.tokenType === UnterminatedString) {
      diags.error(positionOf(t), 'unterminated quoted string: the closing quote is missing');
    }
  }
  // The unterminated string stays in the stream: its statement is dropped by the preprocessor.
  return tokens;
}

/** The string value of a word or quoted-string token, with OpenSMTPD's escape rules:
 * in a bare word `\x` is `x`; in quotes `\` before the quote, a space or a tab is dropped,
 * a backslash-newline or raw newline is removed, any other backslash is kept. */
export function tokenValue(tok: IToken): string {
  const img = tok.image;
  if (tok.tokenType === QuotedString) {
    const q = img[0]!;
    const body = img.slice(1, -1);
    let out = '';
    for (let i = 0; i < body.length; i++) {
      const c = body[i]!;
      if (c === '\n') continue;
      if (c === '\\' && i + 1 < body.length) {
        const n = body[i + 1]!;
        if (n === q || n === ' ' || n === '\t') {
          out += n;
          i++;
          continue;
        }
        if (n === '\n') {
          i++;
          continue;
        }
      }
      out += c;
    }
    return out;
  }
  return img.includes('\\') ? img.replace(/\\(.)/g, '$1') : img;
}
