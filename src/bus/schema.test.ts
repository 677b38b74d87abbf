// Every message type of every union round-trips through its decoder; garbage is rejected with
// the path of the wrong field; handler tables dispatch by type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FromClient, ToClient } from './msg-control-client';
import { ToParent, ToWorker } from './msg-parent';
import { LkaToSmtp, SmtpToLka } from './msg-smtp-lka';
import { QueueToSmtp, SmtpToQueue } from './msg-smtp-queue';
import { CommonMessage } from './msg-workers';
import { MdaToQueue, QueueToMda } from './msg-queue-mda';
import { MtaToQueue, QueueToMta } from './msg-queue-mta';
import { LkaToMta, MtaToLka } from './msg-mta-lka';
import { ControlToMta, MtaToControl } from './msg-control-mta';
import { LkaToQueue, QueueToLka } from './msg-queue-lka';
import { HelperToMda, MdaToHelper, ToHelper } from './msg-deliver';
import { QueueToScheduler, SchedulerToQueue } from './msg-queue-scheduler';
import { ControlToQueue, QueueToControl } from './msg-control-queue';
import { ControlToScheduler, SchedulerToControl } from './msg-control-scheduler';
import { ControlToWorker, WorkerToControl } from './msg-control-common';
import { ControlToSmtp, SmtpToControl } from './msg-control-smtp';
import { DecodeError, dispatch, type Handlers, type UnionDecoder } from './schema';

const SAMPLES: Record<string, Record<string, unknown>[]> = {
  ToWorker: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 10, name: 'parent' },
    { type: 'WORKER_CONFIG', busVersion: 11, name: 'lka', config: { tables: [] }, spool: '/s', socket: '/r/s.sock', trace: ['imsg'], logFormat: 'json', logFd: 1, verbose: false },
    { type: 'WORKER_CONFIG', busVersion: 11, name: 'queue', config: {}, user: { name: '_smtpq', uid: 101, gid: 102 }, socketGid: 102, spool: '/s', socket: '/x', trace: [], logFormat: 'pretty', logFd: 2, verbose: true },
    { type: 'WORKER_CHANNEL', peer: 'queue' },
    { type: 'WORKER_RELOAD', config: { any: ['thing'] } },
    { type: 'WORKER_SHUTDOWN' },
    { type: 'HELPER_CHANNEL', re: 4, user: 'alice', result: 'ok', text: '' },
    { type: 'HELPER_CHANNEL', re: 4, user: 'ghost', result: 'permfail', text: '550 5.1.1 no such user' },
    { type: 'SYSTEM_AUTH_RESULT', re: 5, result: 'fail' },
    { type: 'TABLE_UPDATE_RESULT', re: 6, ok: false, text: 'aliases:3:1: bad line' },
    { type: 'FORWARD_RESULT', re: 7, result: 'ok', content: 'bob@example.org\n' },
    { type: 'FORWARD_RESULT', re: 7, result: 'tempfail', text: '451 4.2.1 sticky' },
  ],
  ToParent: [
    { type: 'PING', reqid: 7 },
    { type: 'PONG', re: 7, pid: 11, name: 'lka' },
    { type: 'WORKER_READY', pid: 11, uid: 100, gid: 100 },
    { type: 'HELPER_OPEN', reqid: 4, user: 'alice', userbase: '<getpwnam>' },
    { type: 'SYSTEM_AUTH', reqid: 6, user: 'alice', password: 'secret' },
    { type: 'TABLE_UPDATE', reqid: 7, name: 'aliases' },
    { type: 'FORWARD_READ', reqid: 8, user: 'alice', userbase: '<getpwnam>' },
  ],
  FromClient: [
    { type: 'PING', reqid: 2 },
    { type: 'PONG', re: 2, pid: 1, name: 'client' },
    { type: 'HELLO', version: 1 },
    { type: 'PROVE', role: 'group', mac: 'ab12' },
    { type: 'STATUS', reqid: 3 },
    { type: 'MTA_BLOCK', reqid: 9, src: '0.0.0.0', domain: 'example.org', blocked: false },
    { type: 'SHOW_QUEUE', reqid: 4 },
    { type: 'SHOW_QUEUE', reqid: 4, id: '0a1b2c3d' },
    { type: 'SHOW_FILE', reqid: 5, what: 'message', id: '0a1b2c3d' },
    { type: 'SCHEDULE', reqid: 6, id: 'all' },
    { type: 'REMOVE', reqid: 7, id: '0a1b2c3d00000001' },
    { type: 'PAUSE', reqid: 8, what: 'mta', paused: true },
    { type: 'PAUSE', reqid: 8, what: 'envelope', id: 'all', paused: false },
    { type: 'SHOW_STATUS', reqid: 9 },
    { type: 'SHOW_STATS', reqid: 10 },
    { type: 'LOG', reqid: 11, verbose: true },
    { type: 'UPDATE_TABLE', reqid: 12, name: 'aliases' },
    { type: 'DISCOVER', reqid: 13, id: '0a1b2c3d' },
    { type: 'SHOW_MTA', reqid: 14, what: 'routes' },
    { type: 'RESUME_ROUTE', reqid: 15, id: 3 },
    { type: 'TRACE', reqid: 16, subsystem: 'imsg', on: true },
    { type: 'PROFILE', reqid: 17, what: 'queue', on: false },
  ],
  ToClient: [
    { type: 'PING', reqid: 2 },
    { type: 'PONG', re: 2, pid: 1, name: 'control' },
    { type: 'HELLO', version: 1 },
    { type: 'HELLO', version: 1, nonce: '00ff' },
    { type: 'STATUS_REPLY', re: 3, processes: { lka: 'ok pid 4' } },
    { type: 'LINES_REPLY', re: 4, lines: ['a|b'] },
    { type: 'TEXT_REPLY', re: 5, text: 'Subject: x\r\n' },
    { type: 'COUNT_REPLY', re: 6, count: 2 },
    { type: 'STATS_REPLY', re: 7, stats: { 'smtp.session': 1 } },
    { type: 'ERROR', message: 'no' },
    { type: 'ERROR', re: 3, message: 'no' },
  ],
  QueueToScheduler: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'queue' },
    { type: 'SCHED_ADD', envelopes: [{ evpid: '0a1b2c3d00000001', type: 'mda', ctime: 1, ttl: 345600, retry: 0 }] },
    { type: 'SCHED_ADD', envelopes: [{ evpid: '0a1b2c3d00000002', type: 'mta', ctime: 1, ttl: 345600, retry: 3, warned: 1 }] },
    { type: 'SCHED_ADD', envelopes: [], now: true },
    { type: 'SCHED_RESULT', evpid: '0a1b2c3d00000001', result: 'tempfail', error: '451 4.2.0 x' },
    { type: 'SCHED_REMOVE', evpids: ['0a1b2c3d00000001'] },
    { type: 'SCHED_NOW', evpids: ['0a1b2c3d00000002'] },
  ],
  ControlToQueue: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'control' },
    { type: 'CTL_QUEUE_LIST', reqid: 1 },
    { type: 'CTL_QUEUE_LIST', reqid: 1, id: '0a1b2c3d' },
    { type: 'CTL_QUEUE_SHOW', reqid: 2, what: 'envelope', id: '0a1b2c3d00000001' },
    { type: 'CTL_QUEUE_REMOVE', reqid: 3, id: 'all' },
    { type: 'CTL_QUEUE_DISCOVER', reqid: 3, id: '0a1b2c3d00000001' },
    { type: 'STATS', reqid: 4 },
    { type: 'LOG_LEVEL', verbose: false },
    { type: 'TRACE', subsystem: 'expand', on: true },
    { type: 'PROFILE', what: 'imsg', on: false },
  ],
  QueueToControl: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'queue' },
    {
      type: 'CTL_QUEUE_ENTRIES',
      re: 1,
      entries: [{ evpid: '0a1b2c3d00000001', family: 'inet4', type: 'mta', flags: '', sender: 'a@b', rcpt: 'c@d', dest: 'c@d', ctime: 1, expire: 2, lasttry: 0, retry: 0, inflight: false, errorline: '' }],
    },
    { type: 'CTL_QUEUE_TEXT', re: 2, text: '{}' },
    { type: 'CTL_QUEUE_COUNT', re: 3, count: 1 },
    { type: 'CTL_QUEUE_FAIL', re: 3, message: 'no such envelope' },
    { type: 'STATS_REPLY', re: 4, stats: { 'queue.bounce': 0 } },
  ],
  ControlToScheduler: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'control' },
    { type: 'CTL_SCHED_TIMES', reqid: 1 },
    { type: 'CTL_SCHED_NOW', reqid: 2, id: 'all' },
    { type: 'CTL_SCHED_PAUSE', reqid: 3 },
    { type: 'CTL_SCHED_PAUSE', reqid: 3, what: 'mda', paused: true },
    { type: 'CTL_SCHED_SUSPEND', reqid: 4, id: '0a1b2c3d', suspended: true },
    { type: 'STATS', reqid: 5 },
    { type: 'LOG_LEVEL', verbose: true },
    { type: 'TRACE', subsystem: 'expand', on: true },
    { type: 'PROFILE', what: 'imsg', on: false },
  ],
  SchedulerToControl: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'scheduler' },
    { type: 'CTL_SCHED_TIMES_REPLY', re: 1, times: { '0a1b2c3d00000001': 1767225600 }, suspended: [] },
    { type: 'CTL_SCHED_COUNT', re: 2, count: 3 },
    { type: 'CTL_SCHED_STATE', re: 3, mda: true, mta: false },
    { type: 'STATS_REPLY', re: 5, stats: {} },
  ],
  ControlToSmtp: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'control' },
    { type: 'CTL_SMTP_PAUSE', reqid: 2 },
    { type: 'CTL_SMTP_PAUSE', reqid: 2, paused: true },
    { type: 'STATS', reqid: 3 },
    { type: 'LOG_LEVEL', verbose: true },
    { type: 'TRACE', subsystem: 'expand', on: true },
    { type: 'PROFILE', what: 'imsg', on: false },
  ],
  SmtpToControl: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'smtp' },
    { type: 'CTL_SMTP_STATE', re: 2, paused: false },
    { type: 'STATS_REPLY', re: 3, stats: { 'smtp.session': 2 } },
  ],
  ControlToMta: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'control' },
    { type: 'CTL_MTA_SHOW', reqid: 2, what: 'hosts' },
    { type: 'CTL_MTA_RESUME_ROUTE', reqid: 2, id: 1 },
    { type: 'CTL_MTA_BLOCK', reqid: 3, src: '192.0.2.1', domain: 'example.org', blocked: true },
    { type: 'CTL_MTA_SHOW', reqid: 4, what: 'paused' },
    { type: 'STATS', reqid: 3 },
    { type: 'LOG_LEVEL', verbose: true },
    { type: 'TRACE', subsystem: 'expand', on: true },
    { type: 'PROFILE', what: 'imsg', on: false },
  ],
  MtaToControl: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'mta' },
    { type: 'CTL_MTA_LINES', re: 2, lines: ['127.0.0.1 mx.test refcount=1 nconn=0 lastconn=2s'] },
    { type: 'CTL_MTA_RESUMED', re: 2, ok: false, text: 'no route 9' },
    { type: 'STATS_REPLY', re: 3, stats: { 'mta.session': 2 } },
  ],
  ControlToWorker: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'control' },
    { type: 'STATS', reqid: 3 },
    { type: 'LOG_LEVEL', verbose: false },
    { type: 'TRACE', subsystem: 'expand', on: true },
    { type: 'PROFILE', what: 'imsg', on: false },
  ],
  WorkerToControl: [
    { type: 'PING', reqid: 1 },
    { type: 'PONG', re: 1, pid: 2, name: 'lka' },
    { type: 'STATS_REPLY', re: 3, stats: {} },
  ],
  SchedulerToQueue: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'scheduler' },
    { type: 'SCHED_DELIVER', evpids: ['0a1b2c3d00000001'] },
    { type: 'SCHED_EXPIRE', evpids: ['0a1b2c3d00000001'] },
    { type: 'SCHED_WARN', evpid: '0a1b2c3d00000001' },
  ],
  ToHelper: [
    { type: 'HELPER_START', busVersion: 11, user: { name: 'alice', uid: 1001, gid: 1001, home: '/home/alice', system: true }, mailSpool: '/var/mail', mailGid: 8, logFormat: 'json', logFd: 1, verbose: false },
    { type: 'HELPER_START', busVersion: 11, user: { name: 'v1', uid: 5000, gid: 5000, home: '/var/vmail/v1', system: false }, mailSpool: '/var/mail', logFormat: 'pretty', logFd: 2, verbose: true },
  ],
  MdaToHelper: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'mda' },
    { type: 'DELIVER_MAILDIR', reqid: 7, stream: 3, junk: false, sender: '', rcpt: 'a@b', dest: 'a@b', subAddrDelim: '+' },
    { type: 'DELIVER_MAILDIR', reqid: 8, stream: 4, path: '~/Mail/%{rcpt.domain}', junk: true, sender: 'c@d', rcpt: 'a+x@b', dest: 'a@b', subAddrDelim: '+' },
    { type: 'DELIVER_MBOX', reqid: 9, stream: 5, sender: 'a@b' },
    { type: 'DELIVER_COMMAND', reqid: 10, stream: 6, argv: ['/usr/bin/procmail', '-f', '%{sender}'], sender: 'a@b', rcpt: 'c@d', dest: 'c@d', subAddrDelim: '+', timeoutMs: 100000 },
    { type: 'DELIVER_COMMAND', reqid: 10, stream: 6, argv: ['/bin/sh', '-c', 'cat > x'], sender: 'a@b', rcpt: 'c@d', dest: 'c@d', subAddrDelim: '+', timeoutMs: 100000, raw: true },
    { type: 'DELIVER_FILE', reqid: 11, stream: 7, path: '/home/u/saved', sender: 'a@b' },
  ],
  HelperToMda: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'deliver' },
    { type: 'DELIVER_RESULT', re: 7, result: 'tempfail', text: '451 4.2.0 maildir /home/alice/Maildir: EDQUOT' },
  ],
  QueueToLka: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'queue' },
    { type: 'LKA_BOUNCE_ROUTE', reqid: 6, rcpt: 'sender@example.org' },
  ],
  LkaToQueue: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'lka' },
    { type: 'LKA_BOUNCE_ROUTE_OK', re: 6, targets: [{ action: 'local', dest: 'sender@example.org' }] },
    { type: 'LKA_BOUNCE_ROUTE_FAIL', re: 6, text: 'no rule' },
  ],
  QueueToMda: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'queue' },
    { type: 'MDA_DELIVER', envelope: { evpid: '0a1b2c3d00000001', action: 'local', dest: 'a@b', rcpt: 'a@b', sender: '' } },
    { type: 'MDA_DELIVER', envelope: { evpid: '0a1b2c3d00000002', action: 'local', dest: 'a@b', rcpt: 'a@b', sender: 's@x', via: { kind: 'file', value: '/home/a/saved', user: 'a' } } },
    { type: 'MDA_CONTENT', evpid: '0a1b2c3d00000001', stream: 3 },
    { type: 'MDA_NO_CONTENT', evpid: '0a1b2c3d00000001', text: '451 4.3.0 cannot read the message: ENOENT' },
  ],
  MdaToQueue: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'mda' },
    { type: 'MDA_FETCH', evpid: '0a1b2c3d00000001' },
    { type: 'MDA_RESULT', evpid: '0a1b2c3d00000001', result: 'ok', text: 'delivered' },
  ],
  QueueToMta: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'queue' },
    { type: 'MTA_DELIVER', envelope: { evpid: '0a1b2c3d00000001', msgid: '0a1b2c3d', action: 'relay', dest: 'a@remote.test', rcpt: 'b@here.test', sender: 's@x' } },
    { type: 'MTA_CONTENT', evpid: '0a1b2c3d00000001', stream: 4 },
    { type: 'MTA_NO_CONTENT', evpid: '0a1b2c3d00000001', text: '451 4.3.0 this envelope is not out for relaying' },
  ],
  MtaToQueue: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'mta' },
    { type: 'MTA_RESULT', evpid: '0a1b2c3d00000001', result: 'tempfail', text: '421 4.4.2 mx.remote.test: timeout' },
    { type: 'MTA_RESULT', evpid: '0a1b2c3d00000001', result: 'ok', text: '250 ok', dsnPassed: true },
    { type: 'MTA_SCHEDULE', evpids: ['0a1b2c3d00000002', '0a1b2c3d00000003'] },
    { type: 'MTA_FETCH', evpid: '0a1b2c3d00000001' },
  ],
  MtaToLka: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'mta' },
    { type: 'LKA_MX', reqid: 7, domain: 'remote.test' },
  ],
  LkaToMta: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'lka' },
    { type: 'LKA_MX_RESULT', re: 7, hosts: [{ name: 'mx.remote.test', preference: 10, addresses: ['192.0.2.1', '2001:db8::1'] }] },
    { type: 'LKA_MX_RESULT', re: 7, hosts: [], error: 'nullmx', text: 'remote.test has a null MX' },
  ],
  CommonMessage: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'queue' },
  ],
  SmtpToLka: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'smtp' },
    { type: 'LKA_RCPT', reqid: 6, session: { src: '127.0.0.1', socket: false, helo: 'x', tls: true, auth: 'bob', tag: 'T' }, mailFrom: 'a@b', rcpt: 'c@d' },
    { type: 'LKA_RCPT', reqid: 7, session: { src: 'local', socket: true, helo: 'localhost', tls: false }, mailFrom: '', rcpt: 'root' },
    { type: 'LKA_AUTH', reqid: 8, table: 'creds', user: 'alice', password: 'pw' },
    { type: 'LKA_AUTH', reqid: 9, user: 'alice', password: 'pw' },
    { type: 'LKA_SENDER', reqid: 10, table: 'senders', user: 'alice', mailFrom: 'alice@example.org' },
  ],
  LkaToSmtp: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'lka' },
    { type: 'LKA_RCPT_OK', re: 6, targets: [{ action: 'local', dest: 'alice@example.org' }] },
    { type: 'LKA_RCPT_OK', re: 6, targets: [{ action: 'local', dest: 'alice@example.org', via: { kind: 'command', value: '/usr/bin/vacation alice', user: 'alice' } }] },
    { type: 'LKA_RCPT_FAIL', re: 6, code: 550, esc: '5.1.1', text: 'Invalid recipient' },
    { type: 'LKA_AUTH_RESULT', re: 8, result: 'ok' },
    { type: 'LKA_SENDER_RESULT', re: 10, result: 'refused' },
  ],
  SmtpToQueue: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'smtp' },
    { type: 'QUEUE_MSG_CREATE', reqid: 8, count: 16 },
    { type: 'QUEUE_MSG_COMMIT', reqid: 9, msgid: '0a1b2c3d', envelopes: [{ action: 'local', sender: 'a@b', rcpt: 'c@d', dest: 'c@d', helo: 'x', src: '127.0.0.1', tls: false }] },
    { type: 'QUEUE_MSG_COMMIT', reqid: 9, msgid: '0a1b2c3d', envelopes: [{ action: 'local', sender: 'a@b', rcpt: 'c@d', dest: 'c@d', helo: 'x', src: '127.0.0.1', tls: false, via: { kind: 'file', value: '/x', user: 'c' } }] },
    { type: 'QUEUE_MSG_COMMIT', reqid: 9, msgid: '0a1b2c3d', envelopes: [{ action: 'out', sender: 'a@b', rcpt: 'c@d', dest: 'c@d', helo: 'x', src: '127.0.0.1', tls: false, dsn: { notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;c@d', ret: 'HDRS', envid: 'x1' } }] },
    { type: 'QUEUE_MSG_ABORT', msgid: '0a1b2c3d' },
  ],
  QueueToSmtp: [
    { type: 'PING', reqid: 5 },
    { type: 'PONG', re: 5, pid: 12, name: 'queue' },
    { type: 'QUEUE_MSG_CREATED', re: 8, msgids: ['0a1b2c3d', '0a1b2c3e'] },
    { type: 'QUEUE_MSG_COMMITTED', re: 9, msgid: '0a1b2c3d', evpids: ['0a1b2c3d00000001'] },
    { type: 'QUEUE_FAIL', re: 9, code: 452, esc: '4.3.1', text: 'Insufficient system storage' },
    { type: 'QUEUE_SPACE', low: true },
  ],
};

const UNIONS: Record<string, UnionDecoder<{ type: string }>> = { ToWorker, ToParent, FromClient, ToClient, CommonMessage, SmtpToLka, LkaToSmtp, SmtpToQueue, QueueToSmtp, QueueToScheduler, SchedulerToQueue, QueueToMda, MdaToQueue, QueueToMta, MtaToQueue, MtaToLka, LkaToMta, QueueToLka, LkaToQueue, ToHelper, MdaToHelper, HelperToMda, ControlToQueue, QueueToControl, ControlToScheduler, SchedulerToControl, ControlToSmtp, SmtpToControl, ControlToMta, MtaToControl, ControlToWorker, WorkerToControl };

test('every message type of every union has a sample that round-trips through JSON and its decoder', () => {
  for (const [name, decoder] of Object.entries(UNIONS)) {
    const samples = SAMPLES[name]!;
    assert.deepEqual([...new Set(samples.map((s) => s.type))].sort(), [...decoder.types].sort(), `${name}: a sample per type`);
    for (const s of samples) assert.deepEqual(decoder.decode(JSON.parse(JSON.stringify(s)), ''), s, `${name} ${String(s.type)}`);
  }
});

test('garbage is rejected with the path of the first wrong field', () => {
  const bad: [unknown, RegExp][] = [
    [null, /type: expected one of/],
    ['PING', /type: expected one of/],
    [{ type: 'NOPE' }, /type: expected one of PING, PONG/],
    [{ type: 'PING' }, /reqid: expected an integer/],
    [{ type: 'PING', reqid: 1.5 }, /reqid: expected an integer/],
    [{ type: 'PING', reqid: 1, extra: true }, /extra: expected no such field/],
    [{ type: 'WORKER_CONFIG', busVersion: 11, name: 'evil', config: {}, spool: '', socket: '', trace: [], logFormat: 'json', logFd: 2, verbose: false }, /name: expected one of/],
    [{ type: 'WORKER_CONFIG', busVersion: 11, name: 'lka', config: {}, user: { name: 'x', uid: '0', gid: 0 }, spool: '', socket: '', trace: [], logFormat: 'json', logFd: 2, verbose: false }, /user\.uid: expected an integer/],
    [{ type: 'WORKER_CONFIG', busVersion: 11, name: 'lka', config: {}, spool: '', socket: '', trace: [1], logFormat: 'json', logFd: 2, verbose: false }, /trace\[0\]: expected a string/],
  ];
  for (const [value, re] of bad) {
    assert.throws(() => ToWorker.decode(value, ''), (e: unknown) => e instanceof DecodeError && re.test(e.message), JSON.stringify(value));
  }
});

test('handler tables dispatch by type', () => {
  const seen: string[] = [];
  const handlers: Handlers<CommonMessage, void> = {
    PING: (m) => seen.push(`ping ${m.reqid}`),
    PONG: (m) => seen.push(`pong ${m.re} ${m.name}`),
  };
  dispatch(handlers, { type: 'PING', reqid: 1 });
  dispatch(handlers, { type: 'PONG', re: 1, pid: 2, name: 'x' });
  assert.deepEqual(seen, ['ping 1', 'pong 1 x']);
});
