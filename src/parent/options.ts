/**
 * How the daemon was asked to run (smtpd's flags), as the parent uses them.
 */
import type { LogFormat } from '../log/logger';

export interface DaemonOptions {
  readonly configFile: string;
  readonly macros: Readonly<Record<string, string>>;
  readonly logFormat: LogFormat;
  /** where logs go: 2 (stderr, -d) or 1 (stdout, -F and detached) */
  readonly logFd: number;
  readonly verbose: boolean;
  /** -T subsystems (imsg, ...) */
  readonly trace: readonly string[];
  readonly spool: string;
  readonly socket: string;
  readonly user: string;
  readonly queueUser: string;
  readonly pidfile: string;
  /** how long SIGTERM waits for workers to finish before killing them */
  readonly stopTimeoutMs: number;
}
