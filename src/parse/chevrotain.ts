/**
 * Chevrotain, loaded from its single-file bundle.
 *
 * The package's entry point is ESM spread over hundreds of small modules (lodash-es): loading
 * it costs about 550 ms here, while the bundle it ships (lib/chevrotain.min.mjs, same code,
 * same version) loads in about 30 ms. Every start of `smtpd` pays this, so the parser takes the
 * bundle; the types still come from the package.
 */
import * as path from 'node:path';
import type * as Chevrotain from 'chevrotain';

const bundle = path.join(path.dirname(require.resolve('chevrotain')), '..', 'chevrotain.min.mjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(bundle) as typeof Chevrotain;

export const createToken = lib.createToken;
export const Lexer = lib.Lexer;
export const EmbeddedActionsParser = lib.EmbeddedActionsParser;
export type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
