/**
 * Where a command-line program writes: an interface so that tests can capture the output of
 * an entry point's main() without spawning it.
 */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const stdio: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};
