/**
 * BUS_VERSION: bumped with any change to a message type. smtpctl and the control worker compare
 * it first, so a client of another version gets a clear refusal instead of garbage.
 */
export const BUS_VERSION = 28;

/** The bus version a parent's start message carries, if it is not ours: the process was
 * started from an installed tsmtpd that differs from the running parent's (the files were
 * replaced under a running daemon). Checked before the message is decoded, since its shape may
 * have changed too. */
export function foreignBusVersion(raw: unknown): number | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const v = (raw as { busVersion?: unknown }).busVersion;
  return typeof v === 'number' && v !== BUS_VERSION ? v : undefined;
}

export function versionMismatchText(theirs: number): string {
  return `this process runs tsmtpd code of bus version ${BUS_VERSION}, the running daemon version ${theirs}: tsmtpd was upgraded under a running daemon; restart smtpd`;
}
