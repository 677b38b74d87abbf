/**
 * The `mda limit` keys and their defaults, OpenSMTPD's: the parser checks the keys against
 * it, the mda uses the values the configuration does not set. No I/O.
 */
export const MDA_LIMIT_DEFAULTS: Readonly<Record<string, number>> = {
  'max-session': 50,
  'max-session-per-user': 7,
  'task-lowat': 30,
  'task-hiwat': 50,
  'task-release': 10,
};
