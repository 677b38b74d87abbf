/**
 * The syntax tree of one smtpd.conf statement, as the parser produces it.
 *
 * Purpose: a thin, position-carrying shape between the grammar (parser.ts) and the semantic
 * builder (build*.ts). Options are kept generic (a name, its values, its flags) so that the
 * builder can check repetitions and combinations in one way. No I/O.
 */
import type { Position } from './diagnostics';

/** A value written in the file: a bare word or a quoted string (or a keyword where allowed). */
export interface Str {
  readonly value: string;
  readonly pos: Position;
  readonly quoted: boolean;
}

export interface TableItem {
  readonly key: Str;
  readonly value?: Str;
}

export type TablesAst =
  | { readonly kind: 'ref'; readonly name: Str; readonly pos: Position }
  | { readonly kind: 'inline'; readonly items: readonly TableItem[]; readonly pos: Position }
  | { readonly kind: 'single'; readonly value: Str; readonly pos: Position };

/** One option: `port 25`, `tls-require verify`, `auth <creds>`, `filter { a, b }`, `! from src <t>`. */
export interface Opt {
  readonly name: string;
  readonly pos: Position;
  readonly args: readonly Str[];
  /** sub-keywords and modifiers: `verify`, `no-verify`, `junk`, `masquerade`, `regex`, `!`,
   * `any`, `local`, `socket`, `src`, `rdns`, `auth`, `mail-from`, `domain`, `rcpt-to`, ... */
  readonly flags: readonly string[];
  readonly tables?: TablesAst;
  /** filter names of an inline chain `filter { a, b }` */
  readonly names?: readonly Str[];
}

export type StmtAst =
  | { readonly kind: 'table'; readonly pos: Position; readonly name: Str; readonly spec?: Str; readonly inline?: TablesAst }
  | { readonly kind: 'pki'; readonly pos: Position; readonly name: Str; readonly opts: readonly Opt[] }
  | { readonly kind: 'ca'; readonly pos: Position; readonly name: Str; readonly cert: Str }
  | { readonly kind: 'admd'; readonly pos: Position; readonly value: Str }
  | { readonly kind: 'bounce'; readonly pos: Position; readonly delays: readonly Str[] }
  | { readonly kind: 'mda-wrapper'; readonly pos: Position; readonly name: Str; readonly command: Str }
  | { readonly kind: 'limits'; readonly pos: Position; readonly scope: 'mda' | 'mta' | 'scheduler' | 'smtp';
      readonly domain?: Str; readonly opts: readonly Opt[] }
  | { readonly kind: 'mta-max-deferred'; readonly pos: Position; readonly value: Str }
  | { readonly kind: 'proc'; readonly pos: Position; readonly name: Str; readonly command: Str; readonly opts: readonly Opt[] }
  | { readonly kind: 'global'; readonly pos: Position; readonly scope: 'queue' | 'smtp' | 'srs'; readonly opt: Opt }
  | { readonly kind: 'listen'; readonly pos: Position; readonly on?: Str; readonly opts: readonly Opt[] }
  | { readonly kind: 'action'; readonly pos: Position; readonly name: Str; readonly method: Opt; readonly opts: readonly Opt[] }
  | { readonly kind: 'match'; readonly pos: Position; readonly criteria: readonly Opt[]; readonly decision: Opt }
  | { readonly kind: 'filter'; readonly pos: Position; readonly name: Str; readonly body: Opt; readonly opts: readonly Opt[] };
