/**
 * `npm run bench:parse`: how long loading a 20,000-line smtpd.conf takes.
 *
 * The generated configuration has large inline tables (lists and mappings spread over many
 * lines), many actions and match rules, macros and continuation lines. It is written to a
 * temporary file and loaded as `smtpd -n` would (file checks on), five times; the first run
 * includes building the parser. Prints the line count and the times.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/parse/load';

function generate(targetLines: number): string {
  const out: string[] = ['# generated for bench:parse', 'ext = "127.0.0.1"', 'listen on $ext port 2525', 'listen on socket'];
  let t = 0;
  while (out.length < targetLines * 0.6) {
    t++;
    out.push(`table list${t} {`);
    for (let i = 0; i < 200; i++) out.push(`  host${t}-${i}.example.org,`);
    out.push('}');
    out.push(`table map${t} {`);
    for (let i = 0; i < 200; i++) out.push(`  user${i}@d${t}.example = "alice${i}, bob${i}@example.net",`);
    out.push('}');
  }
  let a = 0;
  while (out.length < targetLines) {
    a++;
    out.push(`action "deliver${a}" maildir "~/Maildir/${a}" virtual <map${(a % t) + 1}> \\`);
    out.push(`    ttl ${1 + (a % 5)}d`);
    out.push(`match from src { 10.${a % 256}.0.0/16, 192.168.${a % 256}.0/24 } for domain <list${(a % t) + 1}> action "deliver${a}"`);
    out.push(`match !from local for rcpt-to regex "^user${a}[+].*@example\\.org$" tag "t${a % 100}" reject`);
  }
  return `${out.slice(0, targetLines).join('\n')}\nmatch for any reject\n`;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmtpd-bench-'));
const file = path.join(dir, 'smtpd.conf');
const text = generate(20_000);
fs.writeFileSync(file, text);
const lines = text.split('\n').length - 1;
const times: number[] = [];
for (let run = 0; run < 5; run++) {
  const t0 = performance.now();
  const r = loadConfig(file);
  times.push(performance.now() - t0);
  if (r.errorCount > 0) {
    console.error(r.diagnostics.slice(0, 5));
    process.exit(1);
  }
}
const later = times.slice(1).sort((x, y) => x - y);
console.log(`bench:parse: ${lines} lines, ${(text.length / 1024).toFixed(0)} KiB`);
console.log(`  first load (includes building the parser): ${times[0]!.toFixed(0)} ms`);
console.log(`  later loads: median ${later[Math.floor(later.length / 2)]!.toFixed(0)} ms, best ${later[0]!.toFixed(0)} ms`);
console.log(`  rss after: ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
fs.rmSync(dir, { recursive: true });
