/**
 * Parser error messages an operator can act on: what was found, what was expected, and a
 * "did you mean" hint when a misspelt keyword is close to an expected one.
 *
 * Purpose: Chevrotain's IParserErrorMessageProvider for the smtpd.conf grammar. No I/O.
 */
import type { IParserErrorMessageProvider, IToken, TokenType } from './chevrotain';
import { hint, shown } from './diagnostics';
import { StringTok } from './tokens';

const MAX_LISTED = 10;

function describe(tok: IToken): string {
  if (tok.tokenType.name === 'EOF') return 'end of line';
  return shown(tok.image);
}

function label(tt: TokenType): string {
  return tt.LABEL ?? tt.name;
}

/** The distinct first tokens of a set of paths. */
function firstTokens(paths: TokenType[][]): TokenType[] {
  const seen = new Set<TokenType>();
  for (const p of paths) if (p[0]) seen.add(p[0]);
  return [...seen];
}

function expectedText(expected: TokenType[]): string {
  const names = expected.map(label);
  const shown = names.length > MAX_LISTED ? [...names.slice(0, MAX_LISTED), '...'] : names;
  return shown.length === 1 ? shown[0]! : `one of ${shown.join(', ')}`;
}

/** `unexpected "x", did you mean "y"?` or `unexpected "x", expected ...` */
export function unexpected(actual: IToken, expected: TokenType[]): string {
  const keywords = expected.filter((t) => t.name.startsWith('KW_')).map((t) => t.name.slice(3));
  const isWord = actual.tokenType.name === 'Word';
  const h = isWord ? hint(actual.image, keywords) : '';
  if (h) return `unknown keyword ${describe(actual)}${h}`;
  if (expected.length === 0) return `unexpected ${describe(actual)}`;
  let msg = `unexpected ${describe(actual)}, expected ${expectedText(expected)}`;
  if (actual.tokenType.name.startsWith('KW_') && expected.includes(StringTok)) {
    msg += '; a keyword used as a value must be double-quoted';
  }
  return msg;
}

export const errorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return unexpected(actual, [expected]);
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return unexpected(firstRedundant, []);
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual }) {
    return unexpected(actual[0]!, firstTokens(expectedPathsPerAlt.flat()));
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual }) {
    return unexpected(actual[0]!, firstTokens(expectedIterationPaths));
  },
};
