/**
 * The typed, immutable configuration that `smtpd.conf` parses into.
 *
 * Purpose: the one data structure the parent hands to every worker (each worker gets only its part).
 * It is plain JSON (no Maps, no classes, no functions) so it crosses the message bus unchanged,
 * and it is deep-frozen by the loader. Nothing here does I/O.
 * Peers: built by src/parse/build.ts, printed by src/parse/dump.ts, read by every worker.
 */

/** Name of a table in `Config.tables`; implicit tables are `<localhost>`, `<localnames>`,
 * `<anyhost>`, `<anydestination>` and `<getpwnam>`; anonymous inline tables are `<inline:N>`. */
export type TableName = string;

export type TableType = 'list' | 'mapping';

export interface StaticTable {
  readonly kind: 'static';
  readonly name: TableName;
  /** true for tables written inline in an option (`{ a, b }` or a single string). */
  readonly anonymous: boolean;
  /** set for `file:` and bare-path tables; the content below was read from it at load. */
  readonly path?: string;
  readonly type: TableType;
  /** list tables: keys in order, without duplicates (lower-cased when read from a file). */
  readonly keys: readonly string[];
  /** mapping tables: [key, value] pairs (keys lower-cased when read from a file); a later
   * duplicate key replaces an earlier one. */
  readonly pairs: readonly (readonly [string, string])[];
}

export interface ProcTable {
  readonly kind: 'proc';
  readonly name: TableName;
  /** runs `table-<backend>` from the libexec directory. */
  readonly backend: string;
  readonly arg?: string;
}

export type Table = StaticTable | ProcTable;

export interface Pki {
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  readonly dhe: 'none' | 'auto' | 'legacy';
}

export interface Ca {
  readonly name: string;
  readonly cert: string;
}

export interface Proc {
  readonly name: string;
  readonly command: string;
  readonly user?: string;
  readonly group?: string;
  readonly chroot?: string;
}

export type FilterPhase = 'connect' | 'helo' | 'ehlo' | 'auth' | 'mail-from' | 'rcpt-to' | 'data' | 'commit';

export interface FilterCondition {
  readonly negate: boolean;
  readonly type: 'fcrdns' | 'rdns' | 'src' | 'helo' | 'auth' | 'mail-from' | 'rcpt-to';
  readonly regex: boolean;
  readonly table?: TableName;
}

export type FilterDecision =
  | { readonly type: 'bypass' | 'junk' }
  | { readonly type: 'reject' | 'disconnect' | 'rewrite' | 'report'; readonly text: string };

export type Filter =
  | { readonly kind: 'proc'; readonly name: string; readonly proc: string }
  | {
      readonly kind: 'proc-exec';
      readonly name: string;
      readonly command: string;
      readonly user?: string;
      readonly group?: string;
      readonly chroot?: string;
    }
  | {
      readonly kind: 'builtin';
      readonly name: string;
      readonly phase: FilterPhase;
      readonly condition: FilterCondition;
      readonly decision: FilterDecision;
    }
  | {
      readonly kind: 'chain';
      readonly name: string;
      /** true for chains written inline on a listener or relay action (`filter { a, b }`). */
      readonly anonymous: boolean;
      readonly filters: readonly string[];
    };

export type TlsMode = 'none' | 'starttls' | 'require' | 'smtps';

export interface SocketListener {
  readonly kind: 'socket';
  /** true when no `listen on socket` statement exists: it is always created. */
  readonly implicit: boolean;
  readonly filter?: string;
  readonly maskSrc: boolean;
  readonly dsn: boolean;
  readonly tag?: string;
}

export interface InetListener {
  readonly kind: 'inet';
  /** interface, interface group, address or host name as written. */
  readonly on: string;
  readonly family?: 'inet4' | 'inet6';
  readonly port: number;
  readonly tls: TlsMode;
  /** client certificate verification (`tls-require verify`, `smtps verify`). */
  readonly verify: boolean;
  readonly pki: readonly string[];
  readonly ca?: string;
  readonly ciphers?: string;
  readonly protocols?: string;
  readonly auth: 'none' | 'required' | 'optional';
  /** credentials table; absent with auth means system passwords. */
  readonly authTable?: TableName;
  readonly tag?: string;
  readonly hostname?: string;
  readonly hostnames?: TableName;
  readonly maskSrc: boolean;
  readonly receivedAuth: boolean;
  readonly dsn: boolean;
  readonly proxyV2: boolean;
  readonly senders?: { readonly table: TableName; readonly masquerade: boolean };
  readonly filter?: string;
}

export type Listener = SocketListener | InetListener;

export type LocalMethod =
  | { readonly type: 'mbox' }
  | { readonly type: 'maildir'; readonly path?: string; readonly junk: boolean }
  | { readonly type: 'lmtp'; readonly dest: string; readonly rcptTo: boolean }
  | { readonly type: 'mda'; readonly command: string }
  | { readonly type: 'forward-only' }
  | { readonly type: 'expand-only' };

export interface LocalAction {
  readonly kind: 'local';
  readonly name: string;
  readonly method: LocalMethod;
  readonly alias?: TableName;
  readonly virtual?: TableName;
  /** `<getpwnam>` unless the action names a userbase. */
  readonly userbase: TableName;
  readonly user?: string;
  readonly wrapper?: string;
  /** seconds; absent means `queue ttl`. */
  readonly ttl?: number;
}

export interface RelayAction {
  readonly kind: 'relay';
  readonly name: string;
  readonly backup?: { readonly mx?: string };
  /** list table of relay URLs (smarthosts). */
  readonly host?: TableName;
  /** mapping table: recipient domain -> relay URL. */
  readonly domain?: TableName;
  readonly helo?: string;
  readonly heloSrc?: TableName;
  readonly pki?: string;
  readonly ca?: string;
  readonly ciphers?: string;
  readonly protocols?: string;
  /** `tls` (mandatory, verified) or `tls no-verify`; absent = opportunistic. */
  readonly tls?: 'verify' | 'no-verify';
  readonly auth?: TableName;
  readonly mailFrom?: string;
  readonly src?: TableName;
  readonly srs: boolean;
  readonly filter?: string;
  readonly ttl?: number;
}

export type Action = LocalAction | RelayAction;

export interface TableCriterion {
  readonly negate: boolean;
  readonly regex: boolean;
  readonly table: TableName;
}

export interface FromCriterion {
  readonly negate: boolean;
  readonly type: 'any' | 'local' | 'socket' | 'src' | 'rdns' | 'auth' | 'mail-from';
  readonly regex: boolean;
  readonly table?: TableName;
  /** true when the rule had no `from`: the default `from local`. */
  readonly implicit: boolean;
}

export interface ForCriterion {
  readonly negate: boolean;
  readonly type: 'any' | 'local' | 'domain' | 'rcpt-to';
  readonly regex: boolean;
  readonly table?: TableName;
  /** true when the rule had no `for`: the default `for local`. */
  readonly implicit: boolean;
}

export interface MatchRule {
  /** where the rule was written, `file:line`, for logs. */
  readonly origin: string;
  readonly from: FromCriterion;
  readonly for: ForCriterion;
  readonly tag?: TableCriterion;
  readonly helo?: TableCriterion;
  readonly auth?: { readonly negate: boolean; readonly regex: boolean; readonly table?: TableName };
  readonly tls?: { readonly negate: boolean };
  readonly mailFrom?: TableCriterion;
  readonly rcptTo?: TableCriterion;
  readonly decision: { readonly type: 'action'; readonly action: string } | { readonly type: 'reject' };
}

export interface MtaLimits {
  readonly family?: 'inet4' | 'inet6';
  /** key -> value, only the keys set in the config (see MTA_LIMIT_DEFAULTS for the rest). */
  readonly values: Readonly<Record<string, number>>;
}

export interface Config {
  readonly admd?: string;
  /** seconds, at most 4 entries. */
  readonly bounceWarnInterval: readonly number[];
  readonly mda: {
    readonly wrappers: Readonly<Record<string, string>>;
    readonly limits: Readonly<Record<string, number>>;
  };
  readonly mta: {
    readonly maxDeferred: number;
    readonly limits: MtaLimits;
    readonly domainLimits: Readonly<Record<string, MtaLimits>>;
  };
  readonly queue: {
    readonly compression: boolean;
    /** absent: no encryption; `key` absent with encryption: ask for it at start. */
    readonly encryption?: { readonly key?: string; readonly fromStdin: boolean };
    /** seconds */
    readonly ttl: number;
  };
  readonly scheduler: { readonly limits: Readonly<Record<string, number>> };
  readonly smtp: {
    readonly maxMails: number;
    readonly maxRcpt: number;
    readonly ciphers: string;
    /** bytes */
    readonly maxMessageSize: number;
    readonly subAddrDelim: string;
  };
  readonly srs: { readonly key?: string; readonly keyBackup?: string; /** days */ readonly ttlDays: number };
  readonly tables: readonly Table[];
  readonly pki: readonly Pki[];
  readonly ca: readonly Ca[];
  readonly procs: readonly Proc[];
  readonly filters: readonly Filter[];
  readonly listeners: readonly Listener[];
  readonly actions: readonly Action[];
  readonly rules: readonly MatchRule[];
}
