/**
 * Messages every pair of processes understands: the liveness check.
 * PING carries a reqid; PONG answers it (`re`) with the pid and the worker's name.
 */
import { int, str, type Fields } from './schema';

export const COMMON_MESSAGES = {
  PING: { reqid: int },
  PONG: { re: int, pid: int, name: str },
} satisfies Record<string, Fields>;
