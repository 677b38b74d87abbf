/**
 * The grammar of smtpd.conf (OpenSMTPD 7.x), one statement at a time.
 *
 * Purpose: a Chevrotain parser whose rules mirror parse.y; it only recognizes shapes and builds
 * the syntax tree of ast.ts. Meaning (units, repetitions, references, files) is checked by the
 * builder. No I/O.
 */
import { EmbeddedActionsParser, type IToken, type TokenType } from './chevrotain';
import type { Opt, StmtAst, Str, TableItem, TablesAst } from './ast';
import type { Position } from './diagnostics';
import { positionOf, tokenValue, type Tok } from './lexer';
import { errorMessages } from './parser-messages';
import {
  ALL_TOKENS,
  Arrow,
  Bang,
  Comma,
  Equals,
  KW,
  LAngle,
  LCurly,
  QuotedString,
  RAngle,
  RCurly,
  StringTok,
  type Keyword,
} from './tokens';

function pos(tok: IToken): Position {
  return positionOf(tok as Tok);
}

function str(tok: IToken): Str {
  return { value: tokenValue(tok), pos: pos(tok), quoted: tok.tokenType === QuotedString };
}

function opt(tok: IToken, extra: Partial<Opt> = {}): Opt {
  return { name: tok.image, pos: pos(tok), args: [], flags: [], ...extra };
}

export class ConfigParser extends EmbeddedActionsParser {
  constructor() {
    super(ALL_TOKENS, { maxLookahead: 3, errorMessageProvider: errorMessages });
    this.performSelfAnalysis();
  }

  // ---- small pieces -------------------------------------------------------------------

  private value = this.RULE('value', (): Str => str(this.CONSUME(StringTok)));

  private kw(k: Keyword, idx = 0): IToken {
    return this.consume(idx, KW[k]);
  }

  /** `! ` before a criterion: returns ['!'] or []. */
  private negation = this.RULE('negation', (): string[] => {
    let flags: string[] = [];
    this.OPTION(() => {
      this.CONSUME(Bang);
      flags = ['!'];
    });
    return flags;
  });

  private tableItem = this.RULE('tableItem', (): TableItem => {
    const key = this.SUBRULE(this.value);
    let value: Str | undefined;
    this.OPTION(() => {
      this.OR([{ ALT: () => this.CONSUME(Equals) }, { ALT: () => this.CONSUME(Arrow) }]);
      value = this.SUBRULE1(this.value);
    });
    return value ? { key, value } : { key };
  });

  /** `{ a, b }` or `{ k = v, ... }`; commas are optional, as in parse.y. */
  private inlineTable = this.RULE('inlineTable', (): TablesAst => {
    const open = this.CONSUME(LCurly);
    const items: TableItem[] = [];
    this.AT_LEAST_ONE(() => {
      items.push(this.SUBRULE(this.tableItem));
      this.OPTION(() => this.CONSUME(Comma));
    });
    this.CONSUME(RCurly);
    return { kind: 'inline', items, pos: pos(open) };
  });

  private tables = this.RULE('tables', (): TablesAst =>
    this.OR([
      {
        ALT: () => {
          const open = this.CONSUME(LAngle);
          const name = this.SUBRULE(this.value);
          this.CONSUME(RAngle);
          return { kind: 'ref' as const, name, pos: pos(open) };
        },
      },
      { ALT: () => this.SUBRULE(this.inlineTable) },
      {
        ALT: () => {
          const v = this.SUBRULE1(this.value);
          return { kind: 'single' as const, value: v, pos: v.pos };
        },
      },
    ]),
  );

  /** `name` or `{ a, b }` after `filter` */
  private filterRef = this.RULE('filterRef', (): Partial<Opt> =>
    this.OR([
      { ALT: () => ({ args: [this.SUBRULE(this.value)] }) },
      {
        ALT: () => {
          this.CONSUME(LCurly);
          const names: Str[] = [];
          this.AT_LEAST_ONE(() => {
            names.push(this.SUBRULE1(this.value));
            this.OPTION(() => this.CONSUME(Comma));
          });
          this.CONSUME(RCurly);
          return { names };
        },
      },
    ]),
  );

  /** keyword followed by one value: `tag foo`, `port 25`, `cert /path` */
  private keyValue(k: Keyword, idx: number): Opt {
    const t = this.kw(k, idx);
    const v = this.subrule(200 + idx, this.value);
    return opt(t, { args: [v] });
  }

  /** `[regex] tables` where `regex` is optional: returns the flags and the table. */
  private regexTables = this.RULE('regexTables', (): Partial<Opt> => {
    const flags: string[] = [];
    this.OPTION(() => {
      this.CONSUME(KW.regex);
      flags.push('regex');
    });
    const tables = this.SUBRULE(this.tables);
    return { flags, tables };
  });

  // ---- statements ---------------------------------------------------------------------

  statement = this.RULE('statement', (): StmtAst =>
    this.OR([
      { ALT: () => this.SUBRULE(this.table) },
      { ALT: () => this.SUBRULE(this.pki) },
      { ALT: () => this.SUBRULE(this.ca) },
      { ALT: () => this.SUBRULE(this.admd) },
      { ALT: () => this.SUBRULE(this.bounce) },
      { ALT: () => this.SUBRULE(this.mda) },
      { ALT: () => this.SUBRULE(this.mta) },
      { ALT: () => this.SUBRULE(this.proc) },
      { ALT: () => this.SUBRULE(this.queue) },
      { ALT: () => this.SUBRULE(this.scheduler) },
      { ALT: () => this.SUBRULE(this.smtp) },
      { ALT: () => this.SUBRULE(this.srs) },
      { ALT: () => this.SUBRULE(this.listen) },
      { ALT: () => this.SUBRULE(this.action) },
      { ALT: () => this.SUBRULE(this.match) },
      { ALT: () => this.SUBRULE(this.filter) },
    ]),
  );

  private table = this.RULE('table', (): StmtAst => {
    const t = this.kw('table');
    const name = this.SUBRULE(this.value);
    return this.OR([
      { ALT: () => ({ kind: 'table' as const, pos: pos(t), name, spec: this.SUBRULE1(this.value) }) },
      { ALT: () => ({ kind: 'table' as const, pos: pos(t), name, inline: this.SUBRULE(this.inlineTable) }) },
    ]);
  });

  private pki = this.RULE('pki', (): StmtAst => {
    const t = this.kw('pki');
    const name = this.SUBRULE(this.value);
    const opts: Opt[] = [];
    this.MANY(() => {
      opts.push(
        this.OR([
          { ALT: () => this.keyValue('cert', 0) },
          { ALT: () => this.keyValue('key', 1) },
          { ALT: () => this.keyValue('dhe', 2) },
        ]),
      );
    });
    return { kind: 'pki', pos: pos(t), name, opts };
  });

  private ca = this.RULE('ca', (): StmtAst => {
    const t = this.kw('ca');
    const name = this.SUBRULE(this.value);
    this.kw('cert', 1);
    const cert = this.SUBRULE1(this.value);
    return { kind: 'ca', pos: pos(t), name, cert };
  });

  private admd = this.RULE('admd', (): StmtAst => {
    const t = this.kw('admd');
    return { kind: 'admd', pos: pos(t), value: this.SUBRULE(this.value) };
  });

  private bounce = this.RULE('bounce', (): StmtAst => {
    const t = this.kw('bounce');
    this.kw('warn-interval', 1);
    const delays = [this.SUBRULE(this.value)];
    this.MANY(() => {
      this.CONSUME(Comma);
      delays.push(this.SUBRULE1(this.value));
    });
    return { kind: 'bounce', pos: pos(t), delays };
  });

  /** `KEY NUMBER` pairs of a `limit` statement */
  private limitPairs = this.RULE('limitPairs', (): Opt[] => {
    const opts: Opt[] = [];
    this.MANY(() => {
      opts.push(
        this.OR([
          { ALT: () => opt(this.CONSUME(KW.inet4), { flags: ['family'] }) },
          { ALT: () => opt(this.CONSUME(KW.inet6), { flags: ['family'] }) },
          {
            ALT: () => {
              const k = this.SUBRULE(this.value);
              const v = this.SUBRULE1(this.value);
              return { name: k.value, pos: k.pos, args: [v], flags: [] };
            },
          },
        ]),
      );
    });
    return opts;
  });

  private mda = this.RULE('mda', (): StmtAst => {
    const t = this.kw('mda');
    return this.OR([
      {
        ALT: () => {
          this.kw('wrapper', 1);
          const name = this.SUBRULE(this.value);
          const command = this.SUBRULE1(this.value);
          return { kind: 'mda-wrapper' as const, pos: pos(t), name, command };
        },
      },
      {
        ALT: () => {
          this.kw('limit', 2);
          return { kind: 'limits' as const, pos: pos(t), scope: 'mda' as const, opts: this.SUBRULE(this.limitPairs) };
        },
      },
    ]);
  });

  private mta = this.RULE('mta', (): StmtAst => {
    const t = this.kw('mta');
    return this.OR([
      {
        ALT: () => {
          this.kw('max-deferred', 1);
          return { kind: 'mta-max-deferred' as const, pos: pos(t), value: this.SUBRULE(this.value) };
        },
      },
      {
        ALT: () => {
          this.kw('limit', 2);
          let domain: Str | undefined;
          this.OPTION(() => {
            this.kw('for', 3);
            this.CONSUME(KW.domain);
            domain = this.SUBRULE1(this.value);
          });
          const opts = this.SUBRULE(this.limitPairs);
          return { kind: 'limits' as const, pos: pos(t), scope: 'mta' as const, opts, ...(domain ? { domain } : {}) };
        },
      },
    ]);
  });

  private procOpts = this.RULE('procOpts', (): Opt[] => {
    const opts: Opt[] = [];
    this.MANY(() => {
      opts.push(
        this.OR([
          { ALT: () => this.keyValue('user', 0) },
          { ALT: () => this.keyValue('group', 1) },
          { ALT: () => this.keyValue('chroot', 2) },
        ]),
      );
    });
    return opts;
  });

  private proc = this.RULE('proc', (): StmtAst => {
    const t = this.kw('proc');
    const name = this.SUBRULE(this.value);
    const command = this.SUBRULE1(this.value);
    return { kind: 'proc', pos: pos(t), name, command, opts: this.SUBRULE(this.procOpts) };
  });

  private queue = this.RULE('queue', (): StmtAst => {
    const t = this.kw('queue');
    const o = this.OR([
      { ALT: () => opt(this.CONSUME(KW.compression)) },
      {
        ALT: () => {
          const e = this.CONSUME(KW.encryption);
          const args: Str[] = [];
          this.OPTION(() => args.push(this.SUBRULE(this.value)));
          return opt(e, { args });
        },
      },
      { ALT: () => this.keyValue('ttl', 1) },
    ]);
    return { kind: 'global', pos: pos(t), scope: 'queue', opt: o };
  });

  private scheduler = this.RULE('scheduler', (): StmtAst => {
    const t = this.kw('scheduler');
    this.kw('limit', 1);
    return { kind: 'limits', pos: pos(t), scope: 'scheduler', opts: this.SUBRULE(this.limitPairs) };
  });

  private smtp = this.RULE('smtp', (): StmtAst => {
    const t = this.kw('smtp');
    return this.OR([
      {
        ALT: () => {
          this.kw('limit', 1);
          return { kind: 'limits' as const, pos: pos(t), scope: 'smtp' as const, opts: this.SUBRULE(this.limitPairs) };
        },
      },
      {
        ALT: () => {
          const o = this.OR1([
            { ALT: () => this.keyValue('ciphers', 0) },
            { ALT: () => this.keyValue('max-message-size', 1) },
            { ALT: () => this.keyValue('sub-addr-delim', 2) },
          ]);
          return { kind: 'global' as const, pos: pos(t), scope: 'smtp' as const, opt: o };
        },
      },
    ]);
  });

  private srs = this.RULE('srs', (): StmtAst => {
    const t = this.kw('srs');
    const o = this.OR([
      {
        ALT: () => {
          const k = this.CONSUME(KW.key);
          const flags: string[] = [];
          this.OPTION(() => {
            this.CONSUME(KW.backup);
            flags.push('backup');
          });
          return opt(k, { flags, args: [this.SUBRULE(this.value)] });
        },
      },
      { ALT: () => this.keyValue('ttl', 1) },
    ]);
    return { kind: 'global', pos: pos(t), scope: 'srs', opt: o };
  });

  // ---- listen -------------------------------------------------------------------------

  private listenOpt = this.RULE('listenOpt', (): Opt =>
    this.OR([
      { ALT: () => opt(this.CONSUME(KW.inet4)) },
      { ALT: () => opt(this.CONSUME(KW.inet6)) },
      {
        ALT: () => {
          const t = this.CONSUME(KW.port);
          const v = this.OR1([
            { ALT: () => this.SUBRULE(this.value) },
            { ALT: () => str(this.CONSUME(KW.smtp)) },
            { ALT: () => str(this.CONSUME(KW.smtps)) },
          ]);
          return opt(t, { args: [v] });
        },
      },
      { ALT: () => opt(this.CONSUME(KW.tls)) },
      { ALT: () => this.withVerify(KW['tls-require'], 0) },
      { ALT: () => this.withVerify(KW.smtps, 1) },
      { ALT: () => this.keyValue('pki', 0) },
      { ALT: () => this.keyValue('ca', 1) },
      { ALT: () => this.keyValue('ciphers', 2) },
      { ALT: () => this.keyValue('protocols', 3) },
      { ALT: () => this.optionalTables(KW.auth, 0) },
      { ALT: () => this.optionalTables(KW['auth-optional'], 1) },
      { ALT: () => this.keyValue('tag', 4) },
      { ALT: () => this.keyValue('hostname', 5) },
      { ALT: () => opt(this.CONSUME(KW.hostnames), { tables: this.SUBRULE(this.tables) }) },
      { ALT: () => opt(this.CONSUME(KW['mask-src'])) },
      { ALT: () => opt(this.CONSUME(KW['received-auth'])) },
      { ALT: () => opt(this.CONSUME(KW['no-dsn'])) },
      { ALT: () => opt(this.CONSUME(KW['proxy-v2'])) },
      {
        ALT: () => {
          const t = this.CONSUME(KW.senders);
          const tables = this.SUBRULE1(this.tables);
          const flags: string[] = [];
          this.OPTION(() => {
            this.CONSUME(KW.masquerade);
            flags.push('masquerade');
          });
          return opt(t, { tables, flags });
        },
      },
      { ALT: () => opt(this.CONSUME(KW.filter), this.SUBRULE(this.filterRef)) },
    ]),
  );

  private withVerify(tt: TokenType, idx: number): Opt {
    const t = idx === 0 ? this.CONSUME1(tt) : this.CONSUME2(tt);
    const flags: string[] = [];
    const verify = () => {
      this.consume(5 + idx, KW.verify);
      flags.push('verify');
    };
    if (idx === 0) this.OPTION2(verify);
    else this.OPTION3(verify);
    return opt(t, { flags });
  }

  private optionalTables(tt: TokenType, idx: number): Opt {
    const t = idx === 0 ? this.CONSUME3(tt) : this.CONSUME4(tt);
    let tables: TablesAst | undefined;
    const take = () => {
      tables = this.subrule(10 + idx, this.tables);
    };
    if (idx === 0) this.OPTION4(take);
    else this.OPTION5(take);
    return opt(t, tables ? { tables } : {});
  }

  private listen = this.RULE('listen', (): StmtAst => {
    const t = this.kw('listen');
    this.kw('on', 1);
    let on: Str | undefined;
    this.OR([{ ALT: () => this.CONSUME(KW.socket) }, { ALT: () => (on = this.SUBRULE(this.value)) }]);
    const opts: Opt[] = [];
    this.MANY(() => opts.push(this.SUBRULE(this.listenOpt)));
    return { kind: 'listen', pos: pos(t), opts, ...(on ? { on } : {}) };
  });

  // ---- action -------------------------------------------------------------------------

  private localMethod = this.RULE('localMethod', (): Opt =>
    this.OR([
      { ALT: () => opt(this.CONSUME(KW.mbox)) },
      {
        ALT: () => {
          const t = this.CONSUME(KW.maildir);
          const args: Str[] = [];
          const flags: string[] = [];
          this.OPTION(() => args.push(this.SUBRULE(this.value)));
          this.OPTION1(() => {
            this.CONSUME(KW.junk);
            flags.push('junk');
          });
          return opt(t, { args, flags });
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(KW.lmtp);
          const dest = this.SUBRULE1(this.value);
          const flags: string[] = [];
          this.OPTION2(() => {
            this.CONSUME(KW['rcpt-to']);
            flags.push('rcpt-to');
          });
          return opt(t, { args: [dest], flags });
        },
      },
      { ALT: () => this.keyValue('mda', 0) },
      { ALT: () => opt(this.CONSUME(KW['forward-only'])) },
      { ALT: () => opt(this.CONSUME(KW['expand-only'])) },
      { ALT: () => opt(this.CONSUME(KW.relay)) },
    ]),
  );

  private actionOpt = this.RULE('actionOpt', (): Opt =>
    this.OR([
      // local options
      { ALT: () => opt(this.CONSUME(KW.alias), { tables: this.SUBRULE(this.tables) }) },
      { ALT: () => opt(this.CONSUME(KW.virtual), { tables: this.SUBRULE1(this.tables) }) },
      { ALT: () => opt(this.CONSUME(KW.userbase), { tables: this.SUBRULE2(this.tables) }) },
      { ALT: () => this.keyValue('user', 0) },
      { ALT: () => this.keyValue('wrapper', 1) },
      { ALT: () => this.keyValue('ttl', 2) },
      // relay options
      {
        ALT: () => {
          const t = this.CONSUME(KW.backup);
          const args: Str[] = [];
          this.OPTION(() => {
            this.CONSUME(KW.mx);
            args.push(this.SUBRULE(this.value));
          });
          return opt(t, { args });
        },
      },
      { ALT: () => opt(this.CONSUME(KW.host), { tables: this.SUBRULE3(this.tables) }) },
      { ALT: () => opt(this.CONSUME(KW.domain), { tables: this.SUBRULE4(this.tables) }) },
      { ALT: () => this.keyValue('helo', 3) },
      { ALT: () => opt(this.CONSUME(KW['helo-src']), { tables: this.SUBRULE5(this.tables) }) },
      { ALT: () => this.keyValue('pki', 4) },
      { ALT: () => this.keyValue('ca', 5) },
      { ALT: () => this.keyValue('ciphers', 6) },
      { ALT: () => this.keyValue('protocols', 7) },
      {
        ALT: () => {
          const t = this.CONSUME(KW.tls);
          const flags: string[] = [];
          this.OPTION1(() => {
            this.CONSUME(KW['no-verify']);
            flags.push('no-verify');
          });
          return opt(t, { flags });
        },
      },
      { ALT: () => opt(this.CONSUME(KW.auth), { tables: this.SUBRULE6(this.tables) }) },
      { ALT: () => this.keyValue('mail-from', 8) },
      { ALT: () => opt(this.CONSUME(KW.src), { tables: this.SUBRULE7(this.tables) }) },
      { ALT: () => opt(this.CONSUME(KW.srs)) },
      { ALT: () => opt(this.CONSUME(KW.filter), this.SUBRULE(this.filterRef)) },
    ]),
  );

  private action = this.RULE('action', (): StmtAst => {
    const t = this.kw('action');
    const name = this.SUBRULE(this.value);
    const method = this.SUBRULE(this.localMethod);
    const opts: Opt[] = [];
    this.MANY(() => opts.push(this.SUBRULE(this.actionOpt)));
    return { kind: 'action', pos: pos(t), name, method, opts };
  });

  // ---- match --------------------------------------------------------------------------

  /** `[[regex] tables]`: both optional */
  private optRegexTables = this.RULE('optRegexTables', (): Partial<Opt> => {
    let r: Partial<Opt> = {};
    this.OPTION(() => {
      r = this.SUBRULE(this.regexTables);
    });
    return r;
  });

  private fromWhat = this.RULE('fromWhat', (): Partial<Opt> =>
    this.OR([
      { ALT: () => ({ flags: [this.CONSUME(KW.any).image] }) },
      { ALT: () => ({ flags: [this.CONSUME(KW.local).image] }) },
      { ALT: () => ({ flags: [this.CONSUME(KW.socket).image] }) },
      { ALT: () => this.sub(this.CONSUME(KW.src), this.SUBRULE(this.regexTables)) },
      { ALT: () => this.sub(this.CONSUME(KW.rdns), this.SUBRULE(this.optRegexTables)) },
      { ALT: () => this.sub(this.CONSUME(KW.auth), this.SUBRULE1(this.optRegexTables)) },
      { ALT: () => this.sub(this.CONSUME(KW['mail-from']), this.SUBRULE1(this.regexTables)) },
    ]),
  );

  private forWhat = this.RULE('forWhat', (): Partial<Opt> =>
    this.OR([
      { ALT: () => ({ flags: [this.CONSUME(KW.any).image] }) },
      { ALT: () => ({ flags: [this.CONSUME(KW.local).image] }) },
      { ALT: () => this.sub(this.CONSUME(KW.domain), this.SUBRULE(this.regexTables)) },
      { ALT: () => this.sub(this.CONSUME(KW['rcpt-to']), this.SUBRULE1(this.regexTables)) },
    ]),
  );

  private sub(t: IToken, r: Partial<Opt>): Partial<Opt> {
    return { ...r, flags: [t.image, ...(r.flags ?? [])] };
  }

  private criterion = this.RULE('criterion', (): Opt => {
    const neg = this.SUBRULE(this.negation);
    const c = this.OR([
      { ALT: () => ({ t: this.CONSUME(KW.from), r: this.SUBRULE(this.fromWhat) }) },
      { ALT: () => ({ t: this.CONSUME(KW.for), r: this.SUBRULE(this.forWhat) }) },
      { ALT: () => ({ t: this.CONSUME(KW.tag), r: this.SUBRULE(this.regexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW.helo), r: this.SUBRULE1(this.regexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW.auth), r: this.SUBRULE(this.optRegexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW['mail-from']), r: this.SUBRULE2(this.regexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW['rcpt-to']), r: this.SUBRULE3(this.regexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW.tls), r: {} as Partial<Opt> }) },
    ]);
    return this.ACTION(() => opt(c.t, { ...c.r, flags: [...neg, ...(c.r.flags ?? [])] }));
  });

  private match = this.RULE('match', (): StmtAst => {
    const t = this.kw('match');
    const criteria: Opt[] = [];
    this.MANY(() => criteria.push(this.SUBRULE(this.criterion)));
    const decision = this.OR([
      { ALT: () => opt(this.CONSUME(KW.action), { args: [this.SUBRULE(this.value)] }) },
      { ALT: () => opt(this.CONSUME(KW.reject)) },
    ]);
    return { kind: 'match', pos: pos(t), criteria, decision };
  });

  // ---- filter -------------------------------------------------------------------------

  private filterCondition = this.RULE('filterCondition', (): Opt => {
    const neg = this.SUBRULE(this.negation);
    const c = this.OR([
      { ALT: () => ({ t: this.CONSUME(KW.fcrdns), r: {} as Partial<Opt> }) },
      { ALT: () => ({ t: this.CONSUME(KW.rdns), r: this.SUBRULE(this.optRegexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW.src), r: this.SUBRULE(this.regexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW.helo), r: this.SUBRULE1(this.regexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW.auth), r: this.SUBRULE1(this.optRegexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW['mail-from']), r: this.SUBRULE2(this.regexTables) }) },
      { ALT: () => ({ t: this.CONSUME(KW['rcpt-to']), r: this.SUBRULE3(this.regexTables) }) },
    ]);
    return this.ACTION(() => opt(c.t, { ...c.r, flags: [...neg, ...(c.r.flags ?? [])] }));
  });

  private filterDecision = this.RULE('filterDecision', (): Opt =>
    this.OR([
      { ALT: () => opt(this.CONSUME(KW.bypass)) },
      { ALT: () => opt(this.CONSUME(KW.junk)) },
      { ALT: () => this.keyValue('reject', 0) },
      { ALT: () => this.keyValue('disconnect', 1) },
      { ALT: () => this.keyValue('rewrite', 2) },
      { ALT: () => this.keyValue('report', 3) },
    ]),
  );

  private phaseName = this.RULE('phaseName', (): IToken =>
    this.OR(
      (['connect', 'helo', 'ehlo', 'auth', 'mail-from', 'rcpt-to', 'data', 'commit'] as const).map((k) => ({
        ALT: () => this.CONSUME(KW[k]),
      })),
    ),
  );

  private filter = this.RULE('filter', (): StmtAst => {
    const t = this.kw('filter');
    const name = this.SUBRULE(this.value);
    const r = this.OR([
      { ALT: () => ({ body: this.keyValue('proc', 0), opts: [] as Opt[] }) },
      {
        ALT: () => {
          const body = this.keyValue('proc-exec', 1);
          return { body, opts: this.SUBRULE(this.procOpts) };
        },
      },
      {
        ALT: () => {
          const p = this.CONSUME(KW.phase);
          const ph = this.SUBRULE(this.phaseName);
          this.CONSUME(KW.match);
          const cond = this.SUBRULE(this.filterCondition);
          const decision = this.SUBRULE(this.filterDecision);
          return { body: opt(p, { flags: [ph.image] }), opts: [cond, decision] };
        },
      },
      {
        ALT: () => {
          const c = this.CONSUME(KW.chain);
          return { body: opt(c, this.SUBRULE(this.filterRef)), opts: [] as Opt[] };
        },
      },
    ]);
    return { kind: 'filter', pos: pos(t), name, body: r.body, opts: r.opts };
  });
}

let shared: ConfigParser | undefined;

/** The parser is costly to build (grammar analysis): build it once per process. */
export function getParser(): ConfigParser {
  shared ??= new ConfigParser();
  return shared;
}
