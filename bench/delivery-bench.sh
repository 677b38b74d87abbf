#!/usr/bin/env bash
# Delivered msgs/s of tsmtpd for each local delivery method: maildir, mbox, LMTP to a Dovecot
# this script starts on loopback, and an mda command. smtp-source sends N messages (20
# sessions, 10 KiB by default) to benchuser; a run ends when the spool's queue is empty (every
# envelope delivered). One daemon per method, started with its own configuration.
#
# Usage (root): bench/delivery-bench.sh [methods...]   default: maildir mbox lmtp mda
# Env: N (2000), S (20 sessions), SIZE (10240), WARM (500 messages first, not counted),
#      BENCH_DIR (/tmp/tsmtpd-bench). Needs smtp-source (postfix) and, for lmtp, dovecot-lmtpd.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
N="${N:-2000}" S="${S:-20}" SIZE="${SIZE:-10240}" WARM="${WARM:-500}"
BENCH_DIR="${BENCH_DIR:-/tmp/tsmtpd-bench}"
methods=("$@")
[ ${#methods[@]} -gt 0 ] || methods=(maildir mbox lmtp mda)
[ "$(id -u)" -eq 0 ] || { echo "delivery-bench: run as root" >&2; exit 1; }
command -v smtp-source >/dev/null || [ -x /usr/sbin/smtp-source ] || { echo "delivery-bench: needs smtp-source (apt-get install postfix)" >&2; exit 1; }
node "$root/scripts/ensure-built.js"

for u in _smtpd _smtpq; do
  getent passwd "$u" >/dev/null || useradd --system --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin --user-group "$u"
done
getent passwd benchuser >/dev/null || useradd --create-home --shell /usr/sbin/nologin benchuser
home="$(getent passwd benchuser | cut -d: -f6)"
uid="$(id -u benchuser)" gid="$(id -g benchuser)"
state="$BENCH_DIR/delivery"
rm -rf "$state"
mkdir -p "$state/run" "$state/dovecot/run" "$state/dovecot/state"
chmod 0755 "$BENCH_DIR" "$state" "$state/run" "$state/dovecot" "$state/dovecot/run" "$state/dovecot/state"
port=10039 lmtp_port=10040
daemon=""
dovecot=""
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
  [ -n "$dovecot" ] && kill "$dovecot" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

action_for() {
  case "$1" in
    maildir) echo 'maildir "~/Maildir.bench"' ;;
    mbox) echo 'mbox' ;;
    lmtp) echo "lmtp \"127.0.0.1:$lmtp_port\"" ;;
    mda) echo 'mda "/bin/dd of=/dev/null status=none"' ;;
  esac
}

start_dovecot() {
  printf 'benchuser::%s:%s::%s::\n' "$uid" "$gid" "$home" > "$state/dovecot/users"
  cat > "$state/dovecot/dovecot.conf" <<CONF
base_dir = $state/dovecot/run
state_dir = $state/dovecot/state
log_path = $state/dovecot/dovecot.log
protocols = lmtp
auth_username_format = %Ln
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir.dovecot
mail_fsync = always
passdb {
  driver = passwd-file
  args = $state/dovecot/users
}
userdb {
  driver = passwd-file
  args = $state/dovecot/users
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp_port
  }
}
CONF
  dovecot -F -c "$state/dovecot/dovecot.conf" &
  dovecot=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$lmtp_port") 2>/dev/null && return; sleep 0.1; done
  echo "delivery-bench: dovecot did not start: $(cat "$state/dovecot/dovecot.log" 2>/dev/null)" >&2
  exit 1
}

# wait until no envelope is left in the spool
drained() {
  for _ in $(seq 12000); do
    [ -z "$(find "$state/spool/queue" -mindepth 2 -maxdepth 2 -print -quit 2>/dev/null)" ] && return 0
    sleep 0.02
  done
  echo "delivery-bench: the queue did not drain" >&2
  return 1
}

send() {
  /usr/sbin/smtp-source -l "$SIZE" -m "$1" -s "$S" -f bench@bench.test -t benchuser@bench.test "127.0.0.1:$port" >/dev/null
}

printf '%-8s %8s %8s %10s\n' method msgs msgs/s 'ms/msg'
for m in "${methods[@]}"; do
  [ "$m" = lmtp ] && [ -z "$dovecot" ] && start_dovecot
  rm -rf "$state/spool" "$home/Maildir.bench" "$home/Maildir.dovecot" "/var/mail/benchuser"
  cat > "$state/smtpd.conf" <<CONF
# delivery-bench: $m
table domains { bench.test }
listen on 127.0.0.1 port $port
action "bench" $(action_for "$m")
match from any for domain <domains> action "bench"
CONF
  node "$root/dist/src/smtpd.js" -F -f "$state/smtpd.conf" --spool "$state/spool" \
    --socket "$state/run/smtpd.sock" --pidfile "$state/run/smtpd.pid" --max-sessions-per-ip 1000 > "$state/smtpd-$m.log" 2>&1 &
  daemon=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  sleep 1 # the workers connect to each other after smtp listens
  [ "$WARM" -gt 0 ] && { send "$WARM"; drained; }
  t0=$(date +%s.%N)
  send "$N"
  drained
  t1=$(date +%s.%N)
  awk -v m="$m" -v n="$N" -v t="$(echo "$t1 - $t0" | bc -l)" 'BEGIN { printf "%-8s %8d %8.0f %10.2f\n", m, n, n / t, 1000 * t / n }'
  kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=""
done
