/**
 * Short, operator-readable text for file-system errors (ENOENT -> "no such file").
 *
 * Purpose: messages that say what is wrong without a stack trace. No I/O.
 */
export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  switch (err?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    default:
      return err?.message ?? String(e);
  }
}

/** rethrow `e` unless the file it is about does not exist (for `.catch` of a removal) */
export function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT') throw e;
}
