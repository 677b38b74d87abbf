/**
 * Parsing and printing of delays (`4h`) and scaled sizes (`35M`).
 *
 * Purpose: the unit rules of smtpd.conf, kept free of mail knowledge. No I/O.
 */

const DELAY_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `4h` -> 14400 seconds. The unit is mandatory; returns undefined if the text is not a delay. */
export function parseDelay(text: string): number | undefined {
  const m = /^([0-9]{1,9})([smhd])$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (DELAY_UNITS[m[2]!] ?? 1);
}

/** Seconds -> the largest unit that divides them exactly: 14400 -> `4h`. */
export function formatDelay(seconds: number): string {
  for (const [unit, factor] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds > 0 && seconds % factor === 0) return `${seconds / factor}${unit}`;
  }
  return `${seconds}s`;
}

const SIZE_SCALES: Readonly<Record<string, number>> = {
  b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5, e: 1024 ** 6,
};

/** `35M` -> bytes, like scan_scaled(3): a number with an optional B/K/M/G/T/P/E suffix and an
 * optional fraction (`1.5M`). Returns undefined on anything else or beyond 2^53. */
export function parseSize(text: string): number | undefined {
  const m = /^([0-9]+)(?:\.([0-9]+))?([BbKkMmGgTtPpEe])?$/.exec(text);
  if (!m) return undefined;
  if (m[2] !== undefined && m[3] === undefined) return undefined;
  const scale = SIZE_SCALES[(m[3] ?? 'b').toLowerCase()] ?? 1;
  const value = Math.floor(Number(`${m[1]}.${m[2] ?? '0'}`) * scale);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A non-negative decimal integer of at most `max`, or undefined. */
export function parseCount(text: string, max = 2 ** 31 - 1): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** `1d2h3m4s`, as OpenSMTPD writes an uptime or a delay (smtpctl) */
export function humanDuration(seconds: number): string {
  const parts: string[] = [];
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= n) {
      parts.push(`${Math.floor(seconds / n)}${unit}`);
      seconds %= n;
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join('');
}
