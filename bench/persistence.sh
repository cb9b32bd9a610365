#!/usr/bin/env bash
# Snapshot cost of corvid-node beside redis-server, measured in one run:
#
#   bench/persistence.sh               # builds nothing: run `cargo build --release` first
#
# For each server, fresh, with the same settings (--save "" --appendonly no
# --rdbcompression no, so the file is as large as the values):
# 1. KEYS keys key:%012d (redis-benchmark's names) of VALUE_SIZE bytes (1M of
#    1000: about 1 GB of values) through redis-cli --pipe, then memory once
#    it settles: the "before" figure.
# 2. BGSAVE while redis-benchmark overwrites random keys of the same size
#    without pause (-P 16); memory is sampled every 20 ms until the save
#    ends. Each figure is the sum over the server and its child: Redis's
#    fork, Corvid's writer process (src/child.rs).
#    Memory is PSS (/proc/PID/smaps_rollup), which counts a page shared by
#    parent and child once, split between them; for one process it is its
#    RSS. Peak / before is the figure DESIGN.md cares about.
# 3. SHUTDOWN NOSAVE, a start in the same dir, and the time until PING
#    answers PONG (not -LOADING): the time to load the file the server
#    wrote.
# Prints a markdown block for bench/RESULTS.md on stdout; progress on stderr.
#
# Environment: CORVID_NODE_BIN, REDIS_SERVER_BIN (as run.sh), KEYS [1000000],
# VALUE_SIZE [1000], BENCH_OUT [<repo>/bench/out].
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
CORVID_NODE_BIN=${CORVID_NODE_BIN:-$root/target/release/corvid-node}
REDIS_SERVER_BIN=$(command -v "${REDIS_SERVER_BIN:-redis-server}") || { echo "redis-server not found" >&2; exit 1; }
KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-1000}
OUT=${BENCH_OUT:-$root/bench/out}
mkdir -p "$OUT"
run_id=$(date +%Y%m%d-%H%M%S)

say() { printf '[persistence %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
[ -x "$CORVID_NODE_BIN" ] || die "CORVID_NODE_BIN=$CORVID_NODE_BIN is not executable"

declare -A BIN=([corvid]=$CORVID_NODE_BIN [redis]=$REDIS_SERVER_BIN)
PID=""; PORT=""; DIR=""; BENCH_PID=""

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() { # NAME DIR: starts the server in DIR on a free port
  local name=$1 log="$OUT/persistence-$1-$run_id.log"
  DIR=$2
  for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 30000))
    port_is_free "$PORT" && break
  done
  "${BIN[$name]}" --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --rdbcompression no \
    --dir "$DIR" --enable-debug-command local >>"$log" 2>&1 &
  PID=$!
}

stop() {
  [ -n "$BENCH_PID" ] && { kill "$BENCH_PID" 2>/dev/null || true; wait "$BENCH_PID" 2>/dev/null || true; BENCH_PID=""; }
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }
  # As the EXIT trap, the last status is the script's: a run that got here is a success.
  return 0
}
trap stop EXIT

cli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

# Seconds until PING answers PONG (a loading server answers -LOADING).
wait_pong() {
  local start; start=$(date +%s.%N)
  until [ "$(cli PING 2>/dev/null)" = PONG ]; do
    kill -0 "$PID" 2>/dev/null || die "server exited; see $OUT"
    sleep 0.01
  done
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'
}

# PSS in bytes of PID and its children (Redis's fork child).
pss() {
  local total=0 p kb
  for p in "$PID" $(pgrep -P "$PID" 2>/dev/null || true); do
    kb=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0} * 1024))
  done
  echo "$total"
}

settle() { # until PSS stops moving for a second, at most 20 s
  local prev=-1 now
  for _ in $(seq 1 20); do
    sleep 1; now=$(pss)
    [ "$now" = "$prev" ] && return 0
    prev=$now
  done
}

declare -A R
for name in corvid redis; do
  dir=$(mktemp -d "${TMPDIR:-/tmp}/corvid-persistence-$name.XXXXXX")
  start "$name" "$dir"
  wait_pong >/dev/null
  say "$name: SET of $KEYS keys of $VALUE_SIZE bytes"
  awk -v n="$KEYS" -v size="$VALUE_SIZE" 'BEGIN {
    v = sprintf("%" size "s", ""); gsub(/ /, "v", v)
    for (i = 0; i < n; i++) {
      k = sprintf("key:%012d", i)
      printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
    }
  }' | cli --pipe >/dev/null
  [ "$(cli DBSIZE)" = "$KEYS" ] || die "$name: DBSIZE is not $KEYS after loading"
  settle
  before=$(pss)
  say "$name: BGSAVE under writes (pss before $before)"
  redis-benchmark -h 127.0.0.1 -p "$PORT" -q -c 20 -P 16 -r "$KEYS" -d "$VALUE_SIZE" -n 1000000000 -t set >/dev/null 2>&1 &
  BENCH_PID=$!
  sleep 1
  peak=$before
  t0=$(date +%s.%N)
  cli BGSAVE >/dev/null
  while :; do
    now=$(pss); [ "$now" -gt "$peak" ] && peak=$now
    [ "$(cli INFO persistence | tr -d '\r' | awk -F: '$1 == "rdb_bgsave_in_progress" { print $2 }')" = 0 ] && break
    sleep 0.02
  done
  secs=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  kill "$BENCH_PID" 2>/dev/null || true; wait "$BENCH_PID" 2>/dev/null || true; BENCH_PID=""
  status=$(cli INFO persistence | tr -d '\r' | awk -F: '$1 == "rdb_last_bgsave_status" { print $2 }')
  [ "$status" = ok ] || die "$name: BGSAVE failed"
  size=$(stat -c %s "$dir/dump.rdb")
  cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  wait "$PID" 2>/dev/null || true
  say "$name: loading the $size-byte file"
  start "$name" "$dir"
  load=$(wait_pong)
  keys=$(cli DBSIZE)
  [ "$keys" = "$KEYS" ] || die "$name: $keys keys after loading, expected $KEYS"
  stop
  rm -rf "$dir"
  R[$name,before]=$before; R[$name,peak]=$peak; R[$name,secs]=$secs; R[$name,load]=$load; R[$name,size]=$size
done

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
{
  echo "### $(date -u +%Y-%m-%d) — commit $commit — snapshots"
  echo
  echo "$KEYS keys of $VALUE_SIZE bytes (SET through redis-cli --pipe), rdbcompression no; BGSAVE while"
  echo "redis-benchmark overwrites random keys (-c 20 -P 16 -d $VALUE_SIZE); memory is PSS summed over"
  echo "the server and its children, sampled every 20 ms; load time is a restart until PING answers PONG."
  echo
  echo "| metric | corvid | redis |"
  echo "|---|---:|---:|"
  echo "| memory before BGSAVE (MiB) | $(mib "${R[corvid,before]}") | $(mib "${R[redis,before]}") |"
  echo "| peak during BGSAVE (MiB) | $(mib "${R[corvid,peak]}") | $(mib "${R[redis,peak]}") |"
  echo "| peak / before | $(ratio "${R[corvid,peak]}" "${R[corvid,before]}")× | $(ratio "${R[redis,peak]}" "${R[redis,before]}")× |"
  echo "| BGSAVE time (s) | ${R[corvid,secs]} | ${R[redis,secs]} |"
  echo "| file size (MiB) | $(mib "${R[corvid,size]}") | $(mib "${R[redis,size]}") |"
  echo "| load time (s) | ${R[corvid,load]} | ${R[redis,load]} |"
  echo "| load time corvid / redis | $(ratio "${R[corvid,load]}" "${R[redis,load]}")× | |"
}
