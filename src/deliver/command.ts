/**
 * An mda command run by the delivery helper, as the recipient user: its words with the format
 * specifiers expanded per word (sanitized: no envelope value can add a word or reach a shell),
 * the message on its standard input, OpenSMTPD's MDA environment, the user's home as working
 * directory, and a time limit. Exit 0: delivered; 71 (EX_OSERR) or 75 (EX_TEMPFAIL), a signal
 * or the time limit: a temporary failure; any other status: a permanent failure. The first
 * line the command printed goes into the envelope's error line.
 * Privileges: the recipient user's (the helper's). Peers: the command it runs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { parseAddress, stripSubaddress } from '../mail/address';
import { expandFormat, type FormatVars } from '../mail/format';

export interface CommandOutcome {
  readonly result: 'ok' | 'tempfail' | 'permfail';
  readonly text: string;
}

/** how much of the command's output is kept (for the error line) */
const OUTPUT_MAX = 4096;

/** OpenSMTPD's MDA environment */
export function mdaEnvironment(vars: FormatVars): Record<string, string> {
  const dest = parseAddress(vars.dest);
  const { tag } = stripSubaddress(dest.user, vars.subAddrDelim);
  return {
    DOMAIN: dest.domain,
    ...(tag !== undefined ? { EXTENSION: tag } : {}),
    HOME: vars.user.home,
    LOCAL: dest.user,
    LOGNAME: vars.user.name,
    ORIGINAL_RECIPIENT: vars.rcpt,
    PATH: '/usr/bin:/bin',
    RECIPIENT: vars.dest,
    SENDER: vars.sender,
    SHELL: '/bin/sh',
    USER: vars.user.name,
  };
}

function firstLine(output: string): string {
  // eslint-disable-next-line no-control-regex
  return (output.split('\n').find((l) => l.trim() !== '') ?? '').replace(/[\x00-\x1f\x7f]/g, ' ').trim().slice(0, 200);
}

/** `raw`: the words are used as they are (a user's own ~/.forward command, run by /bin/sh) */
export function runCommand(argv: readonly string[], vars: FormatVars, content: Buffer, limitMs: number, raw = false): Promise<CommandOutcome> {
  let words: string[];
  try {
    words = raw ? [...argv] : argv.map((w) => expandFormat(w, vars));
  } catch (e) {
    return Promise.resolve({ result: 'tempfail', text: `451 4.3.0 mda command: ${(e as Error).message}` });
  }
  return new Promise((resolve) => {
    // a user without a home (the daemon user's /var/empty may not exist) runs in /
    const cwd = fs.existsSync(vars.user.home) ? vars.user.home : '/';
    const child = spawn(words[0]!, words.slice(1), { cwd, env: mdaEnvironment(vars), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => {
      if (output.length < OUTPUT_MAX) output += b.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // a command that does not read all of its input is its own business: its exit status says
    child.stdin.on('error', () => undefined);
    child.stdin.end(content);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ result: 'tempfail', text: `451 4.3.0 cannot run the mda command ${words[0]}: ${e.code ?? e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const said = firstLine(output);
      const tail = said ? `: ${said}` : '';
      if (timedOut) return resolve({ result: 'tempfail', text: `451 4.3.0 mda command killed after ${Math.round(limitMs / 1000)} s${tail}` });
      if (signal) return resolve({ result: 'tempfail', text: `451 4.3.0 mda command killed by ${signal}${tail}` });
      if (code === 0) return resolve({ result: 'ok', text: `delivered by ${words[0]}` });
      if (code === 71 || code === 75) return resolve({ result: 'tempfail', text: `451 4.3.0 mda command exited with status ${code}${tail}` });
      resolve({ result: 'permfail', text: `554 5.3.0 mda command exited with status ${code}${tail}` });
    });
  });
}
