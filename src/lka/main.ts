/**
 * lka (lookup agent): tables, the match ruleset and alias/virtual expansion, answering smtp
 * for each recipient, and for its AUTH credentials and allowed senders. Privileges: runs as
 * the daemon user (_smtpd). Peers: control, smtp, queue, mta, mda; the parent checks system
 * passwords and reads users' ~/.forward for it. Never writes the spool.
 */
import { noForward } from './forward-probe';
import { lookupUserCached } from '../util/users';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Action, Config } from '../parse/config';
import type { QueueToLka } from '../bus/msg-queue-lka';
import type { LkaToMta, MtaToLka } from '../bus/msg-mta-lka';
import type { LkaToSmtp, SmtpToLka } from '../bus/msg-smtp-lka';
import { dispatch, type Handlers } from '../bus/schema';
import { perChannel, runWorker, type PeerChannel } from '../bus/worker-runtime';
import { interfaceAddresses, serverName } from '../util/hostname';
import { checkCredentials, senderAllowed } from './auth';
import { forwardValues, resolveRecipient, type ExpandContext, type ForwardContent } from './expand';
import { Tables } from './tables';
import { Users } from './users';
import { Dns } from './dns';

/** The part of the configuration lka receives (see parent/config-parts.ts). */
export type LkaConfig = Pick<Config, 'tables' | 'rules' | 'actions' | 'srs'> & { smtp: { subAddrDelim: string }; resolver?: string };

function contextFor(config: LkaConfig, users: Users, readForward: ExpandContext['readForward'], aliasUser: string): { ctx: ExpandContext; tables: Tables } {
  const tables = new Tables(config.tables, { serverName: serverName(), addresses: interfaceAddresses() });
  const ctx: ExpandContext = {
    rules: config.rules,
    actions: new Map<string, Action>(config.actions.map((a) => [a.name, a])),
    tables,
    subAddrDelim: config.smtp.subAddrDelim,
    ...(config.srs?.key !== undefined ? { srs: { key: config.srs.key, ...(config.srs.keyBackup !== undefined ? { keyBackup: config.srs.keyBackup } : {}), ttlDays: config.srs.ttlDays } } : {}),
    userExists: (u, base) => users.exists(u, base),
    readForward,
    aliasUser,
    readInclude: (file) => {
      const text = fs.readFileSync(file, 'utf8');
      if (text.length > 1024 * 1024) throw new Error('larger than 1 MiB');
      return forwardValues(text);
    },
  };
  return { ctx, tables };
}

export function main(): void {
  runWorker('lka', (worker) => {
    let state: { ctx: ExpandContext; tables: Tables } | undefined;
    const users = new Users(() => state!.tables);
    // only the parent can read a user's ~/.forward (as that user)
    // most users have no .forward: lka sees that itself (forward-probe.ts); the parent reads
    // the others as their users
    const readForward: ExpandContext['readForward'] = (user, userbase) => {
      const system = userbase === '<getpwnam>' ? lookupUserCached(user) : undefined;
      if (system && noForward(system) === 'none') return Promise.resolve({ result: 'none' });
      return askParentForward(user, userbase);
    };
    const askParentForward: ExpandContext['readForward'] = (user, userbase) =>
      worker.requestParent({ type: 'FORWARD_READ', user, userbase }, 10_000).then(
        (r): ForwardContent =>
          r.type !== 'FORWARD_RESULT' ? { result: 'tempfail', text: '451 4.3.0 unexpected answer from the parent' }
          : r.result === 'ok' ? { result: 'ok', content: r.content ?? '' }
          : r.result === 'tempfail' ? { result: 'tempfail', text: r.text ?? '451 4.3.0 .forward lookup failed' }
          : { result: 'none' },
        () => ({ result: 'tempfail', text: '451 4.3.0 .forward lookup failed' }),
      );
    // alias-table commands and files run as the daemon user (this process's user)
    const aliasUser = worker.settings.user?.name ?? os.userInfo().username;
    const load = () => (state = contextFor(worker.config as LkaConfig, users, readForward, aliasUser));
    load();
    const fromSmtp = perChannel((ch: PeerChannel): Handlers<SmtpToLka, void> => ({
      LKA_RCPT: (m) => {
        void resolveRecipient(state!.ctx, m.session, m.mailFrom, m.rcpt).then(
          (r) => {
            const reply: LkaToSmtp = r.ok
              ? { type: 'LKA_RCPT_OK', re: m.reqid, targets: r.targets }
              : { type: 'LKA_RCPT_FAIL', re: m.reqid, code: r.code, esc: r.esc, text: r.text };
            if (!ch.isClosed) ch.send(reply);
          },
          (e: Error) => {
            worker.log.error({ event: 'rcpt-error', rcpt: m.rcpt }, e.message);
            if (!ch.isClosed) ch.send({ type: 'LKA_RCPT_FAIL', re: m.reqid, code: 451, esc: '4.3.0', text: 'Temporary failure' });
          },
        );
      },
      LKA_AUTH: (m) => {
        const system = (user: string, password: string) =>
          worker.requestParent({ type: 'SYSTEM_AUTH', user, password }, 10_000).then(
            (r) => (r.type === 'SYSTEM_AUTH_RESULT' ? r.result : 'tempfail'),
            () => 'tempfail' as const,
          );
        checkCredentials(state!.tables, m.table, m.user, m.password, system).then(
          (result) => ch.send({ type: 'LKA_AUTH_RESULT', re: m.reqid, result }),
          (e: Error) => {
            worker.log.error({ event: 'auth-error' }, e.message);
            ch.send({ type: 'LKA_AUTH_RESULT', re: m.reqid, result: 'tempfail' });
          },
        );
      },
      LKA_SENDER: (m) => {
        ch.send({ type: 'LKA_SENDER_RESULT', re: m.reqid, result: senderAllowed(state!.tables, m.table, m.user, m.mailFrom) });
      },
      PING: () => undefined,
      PONG: () => undefined,
    }));
    const fromQueue = perChannel((ch: PeerChannel): Handlers<QueueToLka, void> => ({
      LKA_BOUNCE_ROUTE: (m) => {
        // a bounce is a local submission from the null sender
        const session = { src: 'local', socket: true, helo: serverName(), tls: false };
        void resolveRecipient(state!.ctx, session, '', m.rcpt).then(
          (r) => {
            if (ch.isClosed) return;
            ch.send(r.ok ? { type: 'LKA_BOUNCE_ROUTE_OK', re: m.reqid, targets: r.targets } : { type: 'LKA_BOUNCE_ROUTE_FAIL', re: m.reqid, text: `${r.code} ${r.esc} ${r.text}` });
          },
          (e: Error) => {
            if (!ch.isClosed) ch.send({ type: 'LKA_BOUNCE_ROUTE_FAIL', re: m.reqid, text: `451 4.3.0 ${e.message}` });
          },
        );
      },
      PING: () => undefined,
      PONG: () => undefined,
    }));
    const dns = new Dns((worker.config as LkaConfig).resolver);
    const fromMta = perChannel((ch: PeerChannel): Handlers<MtaToLka, void> => ({
      LKA_MX: (m) => {
        void dns.mx(m.domain).then((a) => {
          const reply: LkaToMta = 'hosts' in a ? { type: 'LKA_MX_RESULT', re: m.reqid, hosts: a.hosts } : { type: 'LKA_MX_RESULT', re: m.reqid, hosts: [], error: a.error, text: a.text };
          if (!ch.isClosed) ch.send(reply);
        });
      },
      PING: () => undefined,
      PONG: () => undefined,
    }));
    return {
      onReload: load,
      onPeerMessage: (peer, msg, ch) => {
        if (peer === 'smtp') dispatch(fromSmtp(ch), msg as SmtpToLka);
        else if (peer === 'queue') dispatch(fromQueue(ch), msg as QueueToLka);
        else if (peer === 'mta') dispatch(fromMta(ch), msg as MtaToLka);
      },
    };
  });
}
