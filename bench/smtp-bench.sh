#!/usr/bin/env bash
# SMTP throughput of tsmtpd next to Postfix and OpenSMTPD, measured in the same run with the
# shared peer harness (../shared/bench, see its README): smtp-source into each server, delivery
# to a Maildir, accepted and delivered msgs/s and the peak sum of PSS.
#
# Usage (root): bench/smtp-bench.sh [run-matrix.sh options]   e.g. -n 1000 -r 1 -s 20 -z 10240
# Default: the full matrix: N=5000, sessions 1 20 100, sizes 1/10/100 KiB, 1 repetition.
# Env: SHARED_BENCH (default ../shared/bench), BENCH_DIR (default /tmp/tsmtpd-bench),
#      PEERS (default "postfix opensmtpd-shim"), WARM (default 3000: messages sent to every
#      server before the measured runs, 0 for none), INTERLEAVE=1 (cell by cell, every server
#      in turn, REPS rounds; the cells come from N, SESSIONS and SIZES, not from arguments;
#      each run's whole-machine CPU time per message is reported too).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SHARED_BENCH:-$root/../shared/bench}"
export BENCH_DIR="${BENCH_DIR:-/tmp/tsmtpd-bench}"
peers="${PEERS:-postfix opensmtpd-shim}"
[ "$(id -u)" -eq 0 ] || { echo "smtp-bench: run as root (the peers and tsmtpd start as root)" >&2; exit 1; }
[ -d "$shared" ] || { echo "smtp-bench: no peer harness at $shared (set SHARED_BENCH)" >&2; exit 1; }

[ -f "$BENCH_DIR/bench.env" ] || "$shared/setup-peers.sh"
node "$root/scripts/ensure-built.js"

home="$(getent passwd benchuser | cut -d: -f6)"
maildir="$home/Maildir.tsmtpd"
for d in "" new cur tmp; do install -d -o benchuser -g benchuser -m 0700 "$maildir/$d"; done
state="$BENCH_DIR/tsmtpd"
rm -rf "$state/spool"
mkdir -p "$state/run"
chmod 0755 "$state" "$state/run"
for u in _smtpd _smtpq; do
  getent passwd "$u" >/dev/null || useradd --system --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin --user-group "$u"
done

cleanup() {
  [ -f "$state/run/smtpd.pid" ] && kill "$(cat "$state/run/smtpd.pid")" 2>/dev/null || true
  for p in $peers; do "$shared/daemons.sh" stop "$p" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

for p in $peers; do "$shared/daemons.sh" start "$p" >/dev/null; done
# every session comes from 127.0.0.1: the per-address cap (100 by default) is lifted, as
# Postfix exempts its own networks from its connection count limit
node "$root/dist/src/smtpd.js" -F -f "$root/bench/smtpd-bench.conf" --spool "$state/spool" \
  --socket "$state/run/smtpd.sock" --pidfile "$state/run/smtpd.pid" --max-sessions-per-ip 1000 > "$state/smtpd.log" 2>&1 &
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/10029) 2>/dev/null && break
  sleep 0.1
done
pid="$(cat "$state/run/smtpd.pid")"

# Warm-up, not measured, the same for every server: WARM messages (default 3000; 0 for none)
# of 10 KiB with 20 sessions to each, so that no cell measures a server's first minutes (the
# JIT of tsmtpd's workers takes a few thousand messages: the first 3000 cost ~40 % more CPU).
warm="${WARM:-3000}"
if [ "$warm" -gt 0 ]; then
  source_bin="${SMTP_SOURCE:-/usr/sbin/smtp-source}"
  # shellcheck disable=SC1091
  . "$BENCH_DIR/bench.env"
  homes="$(dirname "$maildir")"
  settled() { # the Maildir's new/ stops growing (the warm-up mail is all delivered)
    local last=-1 n
    for _ in $(seq 120); do
      n=$(find "$1/new" -type f 2>/dev/null | wc -l)
      [ "$n" -eq "$last" ] && return 0
      last=$n
      sleep 2
    done
  }
  for p in $peers tsmtpd; do
    case $p in
      postfix) target="127.0.0.1:$POSTFIX_PORT" box="$homes/Maildir" ;;
      opensmtpd*) target="127.0.0.1:$OPENSMTPD_PORT" box="$homes/Maildir.opensmtpd" ;;
      tsmtpd) target=127.0.0.1:10029 box="$maildir" ;;
      *) continue ;;
    esac
    "$source_bin" -l 10240 -m "$warm" -s 20 -f bench@bench.test -t "${BENCH_USER:-benchuser}@bench.test" "$target" >/dev/null 2>&1 || echo "smtp-bench: warm-up of $p failed" >&2
    settled "$box"
  done
fi

csv="$BENCH_DIR/results/tsmtpd-$(date +%Y%m%d-%H%M%S).csv"
mkdir -p "$BENCH_DIR/results"
export CUSTOM_TARGET=127.0.0.1:10029 CUSTOM_MAILDIR="$maildir" CUSTOM_PID="$pid" CUSTOM_NAME=tsmtpd
# busy CPU ticks of the whole machine (user, nice, system, irq, softirq; /proc/stat), to give
# each interleaved run its CPU time per message, the client's included
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
cpu_csv="${csv%.csv}-cpu.csv"
if [ "${INTERLEAVE:-0}" = 1 ]; then
  # one cell at a time, every server in turn, REPS rounds: on a machine whose speed drifts
  # from minute to minute, each cell's servers are measured minutes apart at most
  for _ in $(seq "${REPS:-1}"); do
    for s in ${SESSIONS:-1 20 100}; do
      for z in ${SIZES:-1024 10240 102400}; do
        for p in $peers custom; do
          before="$(busy_ticks)"
          REPS=1 SESSIONS="$s" SIZES="$z" RESULTS_CSV="$csv" "$shared/run-matrix.sh" "$p"
          echo "$([ "$p" = custom ] && echo tsmtpd || echo "$p"),$s,$z,$(($(busy_ticks) - before))" >> "$cpu_csv"
        done
      done
    done
  done
else
  REPS="${REPS:-1}" RESULTS_CSV="$csv" "$shared/run-matrix.sh" "$@" $peers custom
fi
"$shared/summarize.py" --pivot "$csv"
echo "raw figures: $csv"
if [ -s "$cpu_csv" ]; then
  # ticks are 1/100 s (USER_HZ); a run's time includes its Maildir polling and the 1 s pause
  hz="$(getconf CLK_TCK)"
  echo
  echo "whole-machine CPU ms per message (client included; mean over the rounds):"
  awk -F, -v n="${N:-5000}" -v hz="$hz" '{k = $1 " " $2 " sessions " $3 " bytes"; t[k] += $4; c[k]++; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
    END { for (i = 1; i <= m; i++) printf "  %-40s %.2f\n", order[i], t[order[i]] * 1000 / hz / c[order[i]] / n }' "$cpu_csv"
  echo "raw CPU ticks: $cpu_csv"
fi

