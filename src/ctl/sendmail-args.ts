/**
 * The sendmail command line, as OpenSMTPD's enqueuer reads it: `-t`, `-f`/`-r` sender, `-F`
 * full name, `-i`/`-oi`, `-bi` (newaliases), `-bs` (SMTP on stdin), `-bp` (mailq), `-v`; the
 * other sendmail flags are accepted and ignored (with their argument when they take one).
 * No I/O.
 */

export interface SendmailArgs {
  readonly mode: 'send' | 'newaliases' | 'smtp' | 'mailq';
  readonly fromHeaders: boolean;
  readonly sender?: string;
  readonly fullName?: string;
  /** a line with a single dot does not end the message */
  readonly ignoreDots: boolean;
  readonly verbose: boolean;
  readonly recipients: readonly string[];
}

export class UsageError extends Error {}

/** flags that take an argument (attached, `-fuser`, or the next word) */
const WITH_ARG = new Set(['A', 'B', 'b', 'C', 'd', 'F', 'f', 'h', 'L', 'N', 'O', 'o', 'p', 'q', 'R', 'r', 'V', 'X']);

export function parseSendmailArgs(args: readonly string[]): SendmailArgs {
  let mode: SendmailArgs['mode'] = 'send';
  let fromHeaders = false;
  let ignoreDots = false;
  let verbose = false;
  let sender: string | undefined;
  let fullName: string | undefined;
  const recipients: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      recipients.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      recipients.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const flag = a[j]!;
      if (!WITH_ARG.has(flag)) {
        if (flag === 't') fromHeaders = true;
        else if (flag === 'i') ignoreDots = true;
        else if (flag === 'v') verbose = true;
        continue;
      }
      let value = a.slice(j + 1);
      if (value === '') {
        if (i + 1 >= args.length) throw new UsageError(`option -${flag} needs an argument`);
        value = args[++i]!;
      }
      if (flag === 'f' || flag === 'r') sender = value;
      else if (flag === 'F') fullName = value;
      else if (flag === 'o' && value === 'i') ignoreDots = true;
      else if (flag === 'b') {
        if (value === 'i') mode = 'newaliases';
        else if (value === 's') mode = 'smtp';
        else if (value === 'p') mode = 'mailq';
        else if (value !== 'm') throw new UsageError(`-b${value} is not supported (only -bm, -bi, -bs and -bp)`);
      }
      break;
    }
  }
  return {
    mode,
    fromHeaders,
    ignoreDots,
    verbose,
    recipients,
    ...(sender !== undefined ? { sender } : {}),
    ...(fullName !== undefined ? { fullName } : {}),
  };
}
