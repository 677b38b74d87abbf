/**
 * An mda command of smtpd.conf split into argv, once, when the configuration is read: words
 * separated by blanks, 'single quotes' taken literally, "double quotes" with \" and \\, a
 * backslash outside quotes escaping one character. Nothing else is special: no variables, no
 * globbing, no shell: the command is run with these words as they are (format specifiers are
 * then expanded per word). Privileges: none. Pure.
 */
export class CommandLineError extends Error {}

export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new CommandLineError('unbalanced single quote in the command');
      cur += command.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < command.length && command[j] !== '"'; j++) {
        if (command[j] === '\\' && (command[j + 1] === '"' || command[j + 1] === '\\')) j++;
        cur += command[j];
      }
      if (j >= command.length) throw new CommandLineError('unbalanced double quote in the command');
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= command.length) throw new CommandLineError('a backslash ends the command');
      cur += command[++i];
    } else cur += c;
  }
  if (inWord) words.push(cur);
  if (words.length === 0) throw new CommandLineError('the command is empty');
  return words;
}

/** the words of a wrapper with its `%{mda}`: a word that is only `%{mda}` becomes the mda
 * command's words; inside a word it stands for the command as written */
export function wrapCommand(wrapper: readonly string[], mda: readonly string[], mdaText: string): string[] {
  return wrapper.flatMap((w) => (w === '%{mda}' ? [...mda] : [w.split('%{mda}').join(mdaText)]));
}
