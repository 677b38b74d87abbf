/**
 * The table(5) text format: one entry per line, a list or a key/value mapping.
 *
 * Purpose: parse the content of `file:` tables (and, later, makemap's input) into keys or
 * pairs, reporting malformed lines with their line number. Pure: the caller reads the file.
 * Rules: blank lines and `#` comment lines are skipped; `# @list` before the first entry makes
 * the table a list; the key ends at the first space, tab or `:` (a key starting with `[` ends
 * at `]`); the first entry decides list or mapping; keys are lower-cased; a later duplicate
 * key replaces an earlier one; an empty file is a mapping.
 */

export interface TableFileError {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export interface TableFileContent {
  readonly type: 'list' | 'mapping';
  readonly keys: string[];
  readonly pairs: [string, string][];
  readonly errors: TableFileError[];
}

function splitEntry(line: string): { key: string; value: string } | undefined {
  let keyEnd: number;
  if (line.startsWith('[')) {
    const close = line.indexOf(']');
    if (close < 0) return undefined;
    keyEnd = close + 1;
  } else {
    const m = /[ \t:]/.exec(line);
    keyEnd = m ? m.index : line.length;
  }
  const key = line.slice(0, keyEnd);
  const value = line.slice(keyEnd).replace(/^[ \t]*:?[ \t]*/, '');
  return { key, value };
}

export function parseTableFile(text: string): TableFileContent {
  const errors: TableFileError[] = [];
  let type: 'list' | 'mapping' | undefined;
  const list = new Map<string, true>();
  const map = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (type === undefined && /^#\s*@list\s*$/.test(line)) type = 'list';
      continue;
    }
    const col = raw.length - raw.trimStart().length + 1;
    const entry = splitEntry(line);
    if (!entry) {
      errors.push({ line: i + 1, col, message: 'unterminated "[" in key' });
      continue;
    }
    const key = entry.key.toLowerCase();
    if (type === undefined) type = entry.value === '' ? 'list' : 'mapping';
    if (type === 'list') {
      if (entry.value !== '') {
        errors.push({ line: i + 1, col, message: `list table entry "${entry.key}" has a value; a list has keys only` });
        continue;
      }
      list.set(key, true);
    } else {
      if (entry.value === '') {
        errors.push({ line: i + 1, col, message: `mapping table entry "${entry.key}" has no value` });
        continue;
      }
      map.set(key, entry.value);
    }
  }
  return {
    type: type ?? 'mapping',
    keys: [...list.keys()],
    pairs: [...map.entries()],
    errors,
  };
}
