/**
 * The `scheduler limit` keys and their defaults, OpenSMTPD's: the parser checks the keys
 * against it, the scheduler uses the values the configuration does not set. No I/O.
 */
export const SCHEDULER_LIMIT_DEFAULTS: Readonly<Record<string, number>> = {
  'max-inflight': 5000,
  'max-evp-batch-size': 256,
  'max-msg-batch-size': 1024,
  'max-schedule': 10,
};
