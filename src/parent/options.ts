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
  /** the system mail spool, where mbox delivery appends (/var/mail) */
  readonly mailSpool: string;
  /** inbound session limits (smtpd flags; smtpd.conf has no words for them) */
  readonly sessions: SessionLimits;
  /** --resolver: the DNS server (host:port) for every lookup instead of the system's */
  readonly resolver?: string;
  /** --mx-port: the port of MX hosts (25 unless a test says otherwise) */
  readonly mxPort: number;
  /** --mta-timeout: how long each reply of a remote server may take */
  readonly mtaTimeoutMs: number;
}

export interface SessionLimits {
  readonly commandTimeoutMs: number;
  readonly dataTimeoutMs: number;
  /** sessions at once per listening socket */
  readonly max: number;
  /** sessions at once from one client address */
  readonly perIp: number;
}
