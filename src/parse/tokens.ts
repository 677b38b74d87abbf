/**
 * The tokens of smtpd.conf: punctuation, reserved keywords, words, quoted strings.
 *
 * Purpose: Chevrotain token types shared by the lexer and the parser. The keyword list is
 * OpenSMTPD 7.x's reserved words; a keyword used as a value must be quoted. No I/O.
 */
import { createToken, Lexer, type IToken, type TokenType } from './chevrotain';

/** Characters that end a bare word (besides white space): ( ) { } < > ! = # , */
export const WORD_STOP = '(){}<>!=#,';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\f\v]+/, group: 'skipped' });
export const Continuation = createToken({
  name: 'Continuation',
  pattern: /\\\r?\n/,
  group: 'skipped',
  line_breaks: true,
});
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: 'skipped' });
export const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true, label: 'end of line' });

/** A word or a quoted string: whatever the grammar calls STRING. */
export const StringTok = createToken({ name: 'StringTok', pattern: Lexer.NA, label: 'a value' });

export const QuotedString = createToken({
  name: 'QuotedString',
  categories: [StringTok],
  // A backslash escapes the quote, a space, a tab or a newline; any other backslash is literal
  // (so "a\\" does not end: its last backslash escapes the quote, as in OpenSMTPD).
  pattern: /"(?:[^"\\]|\\[" \t\n]|\\(?![" \t\n]))*"|'(?:[^'\\]|\\[' \t\n]|\\(?![' \t\n]))*'/,
  line_breaks: true,
  label: 'a quoted string',
});
/** A quote that never closes: reported as an error by the preprocessor. */
export const UnterminatedString = createToken({
  name: 'UnterminatedString',
  pattern: /["'][\s\S]*/,
  line_breaks: true,
  label: 'an unterminated quoted string',
});
/** `$name` at the start of a word: expanded by the preprocessor. */
export const MacroRef = createToken({ name: 'MacroRef', pattern: /\$[A-Za-z0-9_]*/, label: 'a macro' });

export const Arrow = createToken({ name: 'Arrow', pattern: /=>/, label: '"=>"' });
export const Equals = createToken({ name: 'Equals', pattern: /=/, label: '"="' });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: '"{"' });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, label: '"}"' });
export const LAngle = createToken({ name: 'LAngle', pattern: /</, label: '"<"' });
export const RAngle = createToken({ name: 'RAngle', pattern: />/, label: '">"' });
export const Bang = createToken({ name: 'Bang', pattern: /!/, label: '"!"' });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: '","' });

/** A bare word: anything but white space and ( ) { } < > ! = # , ; a backslash escapes one
 * character; a quote or `$` inside a word is an ordinary character. */
export const Word = createToken({
  name: 'Word',
  pattern: /(?:[^\s(){}<>!=#,"'$\\]|\\[^\n])(?:[^\s(){}<>!=#,\\]|\\[^\n])*/,
  categories: [StringTok],
  label: 'a word',
  // The first character is a complement set, which Chevrotain cannot index by itself: list
  // every character a word may start with (ASCII, Latin-1, and one per block of 256 above, which
  // is how the lexer indexes larger character codes) so that it can pick patterns by first char.
  start_chars_hint: wordStartChars(),
});

function wordStartChars(): string[] {
  const out: string[] = [];
  for (let c = 0x21; c < 0x100; c++) {
    const ch = String.fromCharCode(c);
    if (c === 0x7f || /\s/.test(ch) || `${WORD_STOP}"'$`.includes(ch)) continue;
    out.push(ch);
  }
  for (let c = 0x100; c < 0x10000; c += 0x100) out.push(String.fromCharCode(c));
  return out;
}

/** The reserved words of OpenSMTPD 7.x (parse.y's keyword table). */
export const KEYWORDS = [
  'action', 'admd', 'alias', 'any', 'auth', 'auth-optional', 'backup', 'bounce', 'bypass', 'ca', 'cert',
  'chain', 'chroot', 'ciphers', 'commit', 'compression', 'connect', 'data', 'data-line', 'dhe', 'disconnect',
  'domain', 'ehlo', 'encryption', 'expand-only', 'fcrdns', 'filter', 'for', 'forward-only', 'from', 'group',
  'helo', 'helo-src', 'host', 'hostname', 'hostnames', 'include', 'inet4', 'inet6', 'junk', 'key', 'limit',
  'listen', 'lmtp', 'local', 'mail-from', 'maildir', 'mask-src', 'masquerade', 'match', 'max-deferred',
  'max-message-size', 'mbox', 'mda', 'mta', 'mx', 'no-dsn', 'no-verify', 'noop', 'on', 'phase', 'pki', 'port',
  'proc', 'proc-exec', 'protocols', 'proxy-v2', 'queue', 'quit', 'rcpt-to', 'rdns', 'received-auth',
  'recipient', 'regex', 'reject', 'relay', 'report', 'rewrite', 'rset', 'scheduler', 'senders', 'smtp',
  'smtp-in', 'smtp-out', 'smtps', 'socket', 'src', 'srs', 'sub-addr-delim', 'table', 'tag', 'tagged', 'tls',
  'tls-require', 'ttl', 'user', 'userbase', 'verify', 'virtual', 'warn-interval', 'wrapper',
] as const;

export type Keyword = (typeof KEYWORDS)[number];

/** Keyword token types by keyword. The lexer produces words only; a word that is exactly a
 * keyword is retyped (see `classify`), which keeps the lexer to a dozen patterns. */
export const KW: Readonly<Record<Keyword, TokenType>> = Object.fromEntries(
  KEYWORDS.map((k) => [k, createToken({ name: `KW_${k}`, pattern: Lexer.NA, label: `"${k}"` })]),
) as Record<Keyword, TokenType>;

const KEYWORD_TYPES: ReadonlyMap<string, TokenType> = new Map(KEYWORDS.map((k) => [k, KW[k]]));

/** Give a token another type (the parser matches on tokenTypeIdx). */
export function retype(tok: IToken, tt: TokenType): void {
  tok.tokenType = tt;
  tok.tokenTypeIdx = tt.tokenTypeIdx!;
}

/** A bare word that is exactly a keyword becomes that keyword. */
export function classify(tok: IToken): void {
  if (tok.tokenType !== Word) return;
  const kw = KEYWORD_TYPES.get(tok.image);
  if (kw) retype(tok, kw);
}

/** Keywords that begin a statement. */
export const STATEMENT_KEYWORDS: readonly Keyword[] = [
  'include', 'table', 'pki', 'ca', 'admd', 'bounce', 'mda', 'mta', 'proc', 'queue', 'scheduler', 'smtp',
  'srs', 'listen', 'action', 'match', 'filter',
];

/** What the lexer matches, in priority order. */
export const LEXER_TOKENS: TokenType[] = [
  WhiteSpace,
  Continuation,
  Comment,
  Newline,
  QuotedString,
  UnterminatedString,
  MacroRef,
  Arrow,
  Equals,
  LCurly,
  RCurly,
  LAngle,
  RAngle,
  Bang,
  Comma,
  Word,
];

/** Every token type the parser knows: the lexer's, the keywords and the STRING category. */
export const ALL_TOKENS: TokenType[] = [StringTok, ...LEXER_TOKENS, ...KEYWORDS.map((k) => KW[k])];
