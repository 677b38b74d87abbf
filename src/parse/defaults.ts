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

export { MDA_LIMIT_DEFAULTS } from '../mail/mda-limit-defaults';

export { MTA_LIMIT_DEFAULTS } from '../mail/mta-limit-defaults';

export { SCHEDULER_LIMIT_DEFAULTS } from '../mail/scheduler-limit-defaults';

export const SMTP_LIMIT_KEYS = ['max-mails', 'max-rcpt'] as const;
