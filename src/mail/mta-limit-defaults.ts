/**
 * The `mta limit` keys (OpenSMTPD's) and tsmtpd's defaults: the parser checks the keys against
 * it, the mta uses the values the configuration does not set. The defaults are OpenSMTPD's but
 * for the connection delays per route and relay (OpenSMTPD: 5 s and 2 s): tsmtpd keeps sessions
 * open for the next message instead of pacing new ones. No I/O.
 */
export const MTA_LIMIT_DEFAULTS: Readonly<Record<string, number>> = {
  'max-conn-per-host': 10,
  'max-conn-per-route': 5,
  'max-conn-per-source': 100,
  'max-conn-per-connector': 20,
  'max-conn-per-relay': 100,
  'max-conn-per-domain': 100,
  'conn-delay-host': 0,
  'conn-delay-route': 0,
  'conn-delay-source': 0,
  'conn-delay-connector': 0,
  'conn-delay-relay': 0,
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
