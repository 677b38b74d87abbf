/**
 * Each worker receives only its part of the configuration (and smtp the session limits given
 * as smtpd flags).
 */
import type { Config } from '../parse/config';
import type { WorkerName } from '../bus/topology';
import { localSocketPath } from '../util/local-enqueue';
import type { DaemonOptions } from './options';

export function configFor(name: WorkerName, c: Config, o: Pick<DaemonOptions, 'sessions' | 'socket' | 'resolver' | 'mxPort' | 'mtaTimeoutMs'>): unknown {
  switch (name) {
    case 'control':
      return {};
    case 'lka':
      return { tables: c.tables, rules: c.rules, actions: c.actions, listeners: c.listeners, procs: c.procs, filters: c.filters, smtp: { subAddrDelim: c.smtp.subAddrDelim }, srs: c.srs, admd: c.admd, ...(o.resolver !== undefined ? { resolver: o.resolver } : {}) };
    case 'queue':
      return { queue: c.queue, actions: c.actions.map((a) => ({ name: a.name, kind: a.kind, ...(a.ttl !== undefined ? { ttl: a.ttl } : {}) })) };
    case 'scheduler':
      return { bounceWarnInterval: c.bounceWarnInterval, queueTtl: c.queue.ttl, limits: c.scheduler.limits, actionTtl: c.actions.map((a) => [a.name, a.ttl]) };
    case 'smtp':
      // paths only: smtp reads the certificates and keys itself, before it drops privileges
      return {
        listeners: c.listeners,
        smtp: c.smtp,
        pki: c.pki,
        ca: c.ca,
        admd: c.admd,
        sessions: o.sessions,
        localSocket: localSocketPath(o.socket),
        // the tables of `hostnames`: smtp names itself by them, before any lookup could be made
        tables: c.tables.filter((t) => c.listeners.some((l) => l.kind === 'inet' && l.hostnames === t.name)),
      };
    case 'mta':
      // the relay tables (smarthost URLs, client credentials) go with the actions that name them
      return {
        mta: c.mta,
        actions: c.actions.filter((a) => a.kind === 'relay'),
        // paths only: mta reads the client certificates itself, before it drops privileges
        pki: c.pki.filter((p) => c.actions.some((a) => a.kind === 'relay' && a.pki === p.name)),
        ca: c.ca,
        srs: c.srs,
        mxPort: o.mxPort,
        timeoutMs: o.mtaTimeoutMs,
        listenPorts: c.listeners.flatMap((l) => (l.kind === 'inet' ? [l.port] : [])),
        tables: c.tables.filter((t) => c.actions.some((a) => a.kind === 'relay' && [a.host, a.auth, a.domain, a.src, a.heloSrc].includes(t.name))),
      };
    case 'mda':
      return { mda: c.mda, actions: c.actions.filter((a) => a.kind === 'local'), subAddrDelim: c.smtp.subAddrDelim };
  }
}
