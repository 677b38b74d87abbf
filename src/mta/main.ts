/**
 * mta: outbound SMTP. The queue hands it relay envelopes; those of one message for one domain
 * and one action that arrive together go in one transaction (relay.ts delivers them, asking
 * the queue for the message once it has a connection for it: bus/content-fetch.ts, so a
 * backlog of outbound mail holds envelopes, not messages); each recipient's outcome goes back
 * to the queue, and the envelopes of a domain's holdq when the domain works again.
 * smtpctl's view of outbound delivery (show hosts, hoststats, relays, routes, mta paused) and
 * its commands (resume route, pause/resume mta from/for) are answered here.
 * Privileges: runs as the daemon user (_smtpd); CA files and client certificates are read
 * before the drop. Peers: queue (envelopes and results), lka (MX lookups), control.
 * Never reads the spool.
 */
import type { QueueToMta } from '../bus/msg-queue-mta';
import type { ControlToMta } from '../bus/msg-control-mta';
import { ContentFetcher, QueueFetchers } from '../bus/content-fetch';
import { runWorker, type PeerChannel } from '../bus/worker-runtime';
import type { Outcome } from './smtp-client';
import { Relay, domainOf, type Job } from './relay';

export function main(): void {
  runWorker('mta', (worker) => {
    const relay = new Relay(worker);
    /** the messages asked of the queue, one fetcher per queue channel, none ahead of time */
    const fetchers = new QueueFetchers<PeerChannel>((ch) => new ContentFetcher((evpid) => ch.send({ type: 'MTA_FETCH', evpid }), () => 0));
    /** jobs handed over in this turn of the event loop, grouped before they are sent */
    let batch: Job[] = [];
    const flush = () => {
      const groups = new Map<string, Job[]>();
      for (const j of batch) {
        const key = `${j.envelope.msgid} ${j.envelope.action} ${domainOf(j.envelope.dest)}`;
        const group = groups.get(key);
        if (group) group.push(j);
        else groups.set(key, [j]);
      }
      batch = [];
      for (const jobs of groups.values()) {
        void relay.deliver(jobs).then(
          ({ outcomes, release }) => {
            report(jobs, outcomes);
            reschedule(release, domainOf(jobs[0]!.envelope.dest));
          },
          (e: Error) => report(jobs, jobs.map(() => ({ result: 'tempfail', text: `451 4.3.0 ${e.message}` }))),
        );
      }
    };
    /** the envelopes of a domain's holdq go back to the scheduler, to be tried now */
    const reschedule = (evpids: string[], domain: string) => {
      const queue = worker.peers.get('queue');
      if (evpids.length === 0 || !queue || queue.isClosed) return;
      worker.log.info({ event: 'holdq-release', domain, count: evpids.length });
      queue.send({ type: 'MTA_SCHEDULE', evpids });
    };
    const report = (jobs: readonly Job[], outcomes: readonly Outcome[]) => {
      jobs.forEach((j, i) => {
        const o = outcomes[i] ?? { result: 'tempfail', text: '451 4.3.0 no outcome' };
        const ev = o.result === 'ok' ? 'relayed' : o.result === 'tempfail' ? 'deferred' : 'failed';
        worker.log.info({ event: ev, evpid: j.envelope.evpid, rcpt: j.envelope.dest, result: o.text });
        if (!j.ch.isClosed) j.ch.send({ type: 'MTA_RESULT', evpid: j.envelope.evpid, result: o.result, text: o.text, ...(o.dsnPassed ? { dsnPassed: true } : {}) });
      });
    };
    return {
      beforeDrop: () => relay.loadCas(),
      onShutdown: () => relay.pool.closeAll(),
      onPeer: (peer, ch) => {
        if (peer === 'lka') relay.lkaConnected();
        if (peer === 'queue') fetchers.connected(ch);
      },
      onPeerBytes: (peer, id, bytes) => {
        if (peer === 'queue') fetchers.current?.bytes(id, bytes);
      },
      onPeerMessage: (peer, msg, ch) => {
        if (peer === 'control') {
          const c = msg as ControlToMta;
          if (c.type === 'CTL_MTA_SHOW') {
            const b = relay.book;
            const lines = c.what === 'hosts' ? b.showHosts() : c.what === 'hoststats' ? b.showHoststats() : c.what === 'routes' ? b.showRoutes() : c.what === 'paused' ? [...relay.blocks].sort() : b.showRelays();
            ch.send({ type: 'CTL_MTA_LINES', re: c.reqid, lines });
          } else if (c.type === 'CTL_MTA_BLOCK') {
            const r = relay.block(c.src, c.domain, c.blocked);
            if (r.error === undefined) worker.log.info({ event: c.blocked ? 'mta-paused' : 'mta-resumed', from: c.src, for: c.domain.toLowerCase() });
            reschedule(r.release, c.domain.toLowerCase());
            ch.send({ type: 'CTL_MTA_RESUMED', re: c.reqid, ok: r.error === undefined, text: r.error ?? 'command succeeded' });
          } else if (c.type === 'CTL_MTA_RESUME_ROUTE') {
            const ok = relay.book.resume(c.id);
            if (ok) worker.log.info({ event: 'route-resumed', route: c.id });
            ch.send({ type: 'CTL_MTA_RESUMED', re: c.reqid, ok, text: ok ? 'route resumed' : `no route ${c.id} (smtpctl show routes lists them)` });
          }
          return;
        }
        if (peer !== 'queue') return;
        const m = msg as QueueToMta;
        if (m.type === 'MTA_CONTENT') return fetchers.of(ch).content(m.evpid, m.stream);
        if (m.type === 'MTA_NO_CONTENT') return fetchers.of(ch).noContent(m.evpid, m.text);
        if (m.type !== 'MTA_DELIVER') return;
        if (batch.length === 0) setImmediate(flush);
        const fetcher = fetchers.of(ch);
        batch.push({ ch, envelope: m.envelope, message: () => fetcher.take(m.envelope.evpid) });
      },
    };
  });
}
