/**
 * Configuration errors and warnings with their location, and "did you mean" hints.
 *
 * Purpose: every problem found while loading smtpd.conf becomes a Diagnostic printed as
 * `file:line:col: message` (warnings: `file:line:col: warning: message`). No I/O.
 */

export interface Position {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly pos: Position;
  readonly message: string;
  /** the statement of the main file that led to it (an include, a table): orders the report */
  readonly anchor?: Position;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.pos.file}:${d.pos.line}:${d.pos.col}`;
  return d.severity === 'warning' ? `${where}: warning: ${d.message}` : `${where}: ${d.message}`;
}

/** Collects diagnostics in the order they are found. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  /** set while working on a statement that came from another file (see Diagnostic.anchor) */
  anchor?: Position;

  error(pos: Position, message: string): void {
    this.list.push({ severity: 'error', pos, message, anchor: this.anchor ?? pos });
  }

  warning(pos: Position, message: string): void {
    this.list.push({ severity: 'warning', pos, message, anchor: this.anchor ?? pos });
  }

  get errorCount(): number {
    return this.list.filter((d) => d.severity === 'error').length;
  }
}

/** Text from the file as shown in a message: quoted, control characters escaped, long text
 * shortened, so that a message stays on one line whatever the input. */
export function shown(text: string, max = 40): string {
  const short = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(short);
}

/** Levenshtein distance, bounded: returns max+1 as soon as the distance exceeds max. */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate to `word` (distance at most 2, or 1 for short words), if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length <= 2) return undefined; // anything is close to a one- or two-letter word
  const limit = word.length <= 3 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c, limit);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** `, did you mean "x"?` or the empty string. */
export function hint(word: string, candidates: Iterable<string>): string {
  const best = closest(word, candidates);
  return best === undefined ? '' : `, did you mean "${best}"?`;
}
