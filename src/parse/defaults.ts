/**
 * Default values of every global option, as OpenSMTPD 7.x has them.
 *
 * Purpose: one place for defaults, used by the builder (starting values) and by the dump
 * (which prints only what differs from them). No I/O.
 */

export const IMPLICIT_TABLES = ['<localhost>', '<localnames>', '<anyhost>', '<anydestination>', '<getpwnam>'] as const;

export const DEFAULT_WARN_INTERVAL = [4 * 3600];
export const MAX_WARN_INTERVALS = 4;
export const DEFAULT_QUEUE_TTL = 4 * 86400;
export const DEFAULT_MTA_MAX_DEFERRED = 100;
export const DEFAULT_SMTP = {
  maxMails: 100,
  maxRcpt: 1000,
  ciphers: 'HIGH:!aNULL:!MD5',
  maxMessageSize: 35 * 1024 * 1024,
  subAddrDelim: '+',
} as const;
export const DEFAULT_SRS_TTL_DAYS = 4;
export const MAX_PKI_PER_LISTENER = 32;
export const MAX_TAG_LENGTH = 31;

export const MDA_LIMIT_DEFAULTS: Readonly<Record<string, number>> = {
  'max-session': 50,
  'max-session-per-user': 7,
  'task-lowat': 30,
  'task-hiwat': 50,
  'task-release': 10,
};

export const MTA_LIMIT_DEFAULTS: Readonly<Record<string, number>> = {
  'max-conn-per-host': 10,
  'max-conn-per-route': 5,
  'max-conn-per-source': 100,
  'max-conn-per-connector': 20,
  'max-conn-per-relay': 100,
  'max-conn-per-domain': 100,
  'conn-delay-host': 0,
  'conn-delay-route': 5,
  'conn-delay-source': 0,
  'conn-delay-connector': 0,
  'conn-delay-relay': 2,
  'conn-delay-domain': 0,
  'reconn-delay-route': 3,
  'session-mail-max': 100,
  'session-transaction-delay': 0,
  'session-keepalive': 10,
  'max-failures-per-session': 25,
  'task-hiwat': 50,
  'task-lowat': 30,
  'task-release': 10,
};

export const SCHEDULER_LIMIT_DEFAULTS: Readonly<Record<string, number>> = {
  'max-inflight': 5000,
  'max-evp-batch-size': 256,
  'max-msg-batch-size': 1024,
  'max-schedule': 10,
};

export const SMTP_LIMIT_KEYS = ['max-mails', 'max-rcpt'] as const;
