#!/usr/bin/env bash
# Relay throughput: smtp-source -> MTA -> smtp-sink, tsmtpd and Postfix in the same run, each
# relaying to one smarthost (smtp-sink on 127.0.0.1:10045, every message dumped to a file).
# accepted msgs/s = N / time until smtp-source is done; relayed msgs/s = N / time until the
# sink holds N messages. Postfix is an instance of its own in $BENCH_DIR/relay/postfix
# (defaults, relayhost = the sink); tsmtpd uses `relay host "smtp+notls://127.0.0.1:10045"`.
#
# Usage (root): bench/relay-bench.sh     Env: N (5000), S (20 sessions), SIZE (10240), REPS (1),
#               WARM (1000 messages to each peer first, not counted: Node's compiler warms up),
#               PEERS ("tsmtpd postfix"), BENCH_DIR (/tmp/tsmtpd-bench)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
N="${N:-5000}" S="${S:-20}" SIZE="${SIZE:-10240}" REPS="${REPS:-1}" WARM="${WARM:-1000}"
peers="${PEERS:-tsmtpd postfix}"
B="${BENCH_DIR:-/tmp/tsmtpd-bench}/relay"
sink_port=10045 postfix_port=10046 tsmtpd_port=10047
[ "$(id -u)" -eq 0 ] || { echo "relay-bench: run as root" >&2; exit 1; }
[ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/smtp-source ] || { echo "relay-bench: needs postfix (smtp-sink, smtp-source)" >&2; exit 1; }
node "$root/scripts/ensure-built.js"
for u in _smtpd _smtpq; do
  getent passwd "$u" >/dev/null || useradd --system --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin --user-group "$u"
done

rm -rf "$B"
mkdir -p "$B/sink" "$B/tsmtpd/run" "$B/postfix" "$B/logs"
chmod 0755 "$(dirname "$B")" "$B" "$B/tsmtpd" "$B/tsmtpd/run"
chmod 0777 "$B/sink"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$B/postfix/main.cf" ] && postfix -c "$B/postfix" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "relay-bench: nothing on port $1" >&2; exit 1; }

/usr/sbin/smtp-sink -u nobody -d "$B/sink/m." 127.0.0.1:$sink_port 1000 &
pids+=($!)
wait_port $sink_port

start_postfix() {
  cat > "$B/postfix/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $B/postfix-queue
data_directory = $B/postfix-data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$sink_port
alias_maps =
alias_database =
smtpd_banner = \$myhostname ESMTP
biff = no
smtputf8_enable = no
maillog_file = $B/logs/postfix.log
maillog_file_prefixes = /var, /dev/stdout, $B
CONF
  sed "s/^127\.0\.0\.1:10025 /127.0.0.1:$postfix_port /" "$(dirname "$B")/postfix/master.cf" > "$B/postfix/master.cf"
  install -d -m 755 -o root -g root "$B/postfix-queue"
  install -d -m 700 -o postfix -g postfix "$B/postfix-data"
  postfix -c "$B/postfix" check >/dev/null 2>&1 || true
  script -eqc "postfix -c $B/postfix start" /dev/null >/dev/null
  wait_port $postfix_port
}

start_tsmtpd() {
  cat > "$B/tsmtpd/smtpd.conf" <<CONF
listen on 127.0.0.1 port $tsmtpd_port
action "out" relay host "smtp+notls://127.0.0.1:$sink_port"
match from src 127.0.0.1 for domain "relay.test" action "out"
CONF
  node "$root/dist/src/smtpd.js" -F -f "$B/tsmtpd/smtpd.conf" --spool "$B/tsmtpd/spool" \
    --socket "$B/tsmtpd/run/smtpd.sock" --pidfile "$B/tsmtpd/run/smtpd.pid" --max-sessions-per-ip 1000 > "$B/logs/tsmtpd.log" 2>&1 &
  pids+=($!)
  wait_port $tsmtpd_port
  sleep 1
}

send() { # port count: send and wait until the sink holds them all
  rm -f "$B/sink/"m.* 2>/dev/null || true
  sync
  t0=$(date +%s.%N)
  /usr/sbin/smtp-source -l "$SIZE" -m "$2" -s "$S" -f bench@bench.test -t rcpt@relay.test "127.0.0.1:$1" >/dev/null
  t1=$(date +%s.%N)
  for _ in $(seq 12000); do
    [ "$(find "$B/sink" -name 'm.*' | wc -l)" -ge "$2" ] && break
    sleep 0.05
  done
  t2=$(date +%s.%N)
}

run() { # name port
  send "$2" "$N"
  awk -v p="$1" -v n="$N" -v a="$(echo "$t1 - $t0" | bc -l)" -v r="$(echo "$t2 - $t0" | bc -l)" \
    'BEGIN { printf "%-8s %6d %9.0f %9.0f\n", p, n, n / a, n / r }'
}

for p in $peers; do
  "start_$p"
  if [ "$WARM" -gt 0 ]; then
    case $p in tsmtpd) send $tsmtpd_port "$WARM" ;; postfix) send $postfix_port "$WARM" ;; esac
  fi
done
printf '%-8s %6s %9s %9s\n' peer msgs accepted relayed
for _ in $(seq "$REPS"); do
  for p in $peers; do
    case $p in tsmtpd) run tsmtpd $tsmtpd_port ;; postfix) run postfix $postfix_port ;; esac
    sleep 1
  done
done
