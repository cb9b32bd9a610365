#!/usr/bin/env bash
# Issue 8's full-sync figures for corvid-node beside redis-server, in one run:
# a master holding KEYS keys (DEBUG POPULATE, VALUE_SIZE bytes each) takes
# writes without pause (redis-benchmark SET on random keys of the keyspace)
# while a fresh replica of the same server does a full sync. Measured:
#   - sync time: REPLICAOF until the replica reports master_link_status:up;
#   - the master's memory before and at its peak during the sync, as PSS
#     (/proc/PID/smaps_rollup) summed over the server and its children, so
#     Redis's fork child counts with the pages it does not share;
#   - once the writes stop and the offsets meet: whether DEBUG DIGEST agrees.
# Both servers run with their defaults but repl-diskless-sync-delay 0 (so
# Redis, diskless by default, does not wait 5 s for more replicas). Corvid
# writes its snapshot to dbfilename without forking, then sends the file.
#
#   bench/replication.sh       # builds nothing: run `cargo build --release` first
#
# Environment: CORVID_NODE_BIN, REDIS_SERVER_BIN (as run.sh); KEYS [1000000],
# VALUE_SIZE [100], WRITERS [10] (redis-benchmark -c), BENCH_OUT [bench/out].
# Prints a markdown block for bench/RESULTS.md on stdout; progress on stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
CORVID_NODE_BIN=${CORVID_NODE_BIN:-$root/target/release/corvid-node}
REDIS_SERVER_BIN=${REDIS_SERVER_BIN:-$(command -v redis-server || echo redis-server)}
KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
WRITERS=${WRITERS:-10}
OUT=${BENCH_OUT:-$root/bench/out}

say() { printf '[replication %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v redis-benchmark >/dev/null || die "redis-benchmark not found (Debian: apt-get install redis-tools)"
[ -x "$CORVID_NODE_BIN" ] || die "CORVID_NODE_BIN=$CORVID_NODE_BIN is not executable (run \`cargo build --release\` first)"
REDIS_SERVER_BIN=$(command -v "$REDIS_SERVER_BIN") || die "redis-server not found (Debian: apt-get install redis-server)"
mkdir -p "$OUT"
run_id=$(date +%Y%m%d-%H%M%S)

# shellcheck source=bench/servers.sh
. "$here/servers.sh"
BIN[corvid_replica]=$CORVID_NODE_BIN
BIN[redis_replica]=$REDIS_SERVER_BIN
LOAD_PID=""
cleanup() {
  [ -n "$LOAD_PID" ] && { kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; }
  for n in corvid redis corvid_replica redis_replica; do stop_server "$n"; done
}
trap cleanup EXIT

pss_bytes() { # NAME: PSS of the server and its children
  local total=0 p kb
  for p in "${PID[$1]}" $(pgrep -P "${PID[$1]}" 2>/dev/null || true); do
    kb=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0} * 1024))
  done
  echo "$total"
}

elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }

declare -A R
for name in corvid redis; do
  replica=${name}_replica
  say "$name: master with $KEYS keys of $VALUE_SIZE bytes"
  start_server "$name" --repl-diskless-sync-delay 0
  cli "$name" DEBUG POPULATE "$KEYS" key "$VALUE_SIZE" >/dev/null
  settle_rss "$name"
  before=$(pss_bytes "$name")
  start_server "$replica" --repl-diskless-sync-delay 0
  redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$WRITERS" -r "$KEYS" -d "$VALUE_SIZE" \
    -n 1000000000 -t set >/dev/null 2>&1 &
  LOAD_PID=$!
  sleep 1
  say "$name: full sync under writes (master PSS before: $before)"
  peak=$before
  t0=$(date +%s.%N)
  cli "$replica" REPLICAOF 127.0.0.1 "${PORT[$name]}" >/dev/null
  until [ "$(info_field "$replica" replication master_link_status)" = up ]; do
    now=$(pss_bytes "$name"); [ "$now" -gt "$peak" ] && peak=$now
    [ "$(elapsed "$t0" | cut -d. -f1)" -lt 600 ] || die "$name: no sync after 600 s"
    sleep 0.02
  done
  secs=$(elapsed "$t0")
  # The held writes reach the replica just after the link is up.
  for _ in $(seq 1 50); do
    now=$(pss_bytes "$name"); [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.02
  done
  kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; LOAD_PID=""
  for _ in $(seq 1 500); do
    [ "$(info_field "$name" replication master_repl_offset)" = "$(info_field "$replica" replication master_repl_offset)" ] && break
    sleep 0.02
  done
  same=no
  [ "$(cli "$name" DEBUG DIGEST)" = "$(cli "$replica" DEBUG DIGEST)" ] && same=yes
  say "$name: synced in $secs s, master PSS peak $peak, digests equal: $same"
  stop_server "$replica"
  stop_server "$name"
  R[$name,before]=$before; R[$name,peak]=$peak; R[$name,secs]=$secs; R[$name,same]=$same
done

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
cat <<MD
### $(date -u +%Y-%m-%d) — commit $commit — replication.sh — full sync under writes

corvid: \`$CORVID_NODE_BIN\`; redis: \`$REDIS_SERVER_BIN\` ($("$REDIS_SERVER_BIN" --version | awk '{print $3}')).
$KEYS keys of $VALUE_SIZE bytes (DEBUG POPULATE); redis-benchmark SET -c $WRITERS -d $VALUE_SIZE on random
keys throughout; repl-diskless-sync-delay 0, other settings default. PSS of the master and its
children, sampled every 20 ms.

| metric | corvid | redis | corvid/redis |
|---|---:|---:|---:|
| full sync time (s) | ${R[corvid,secs]} | ${R[redis,secs]} | $(ratio "${R[corvid,secs]}" "${R[redis,secs]}")× |
| master PSS before (MiB) | $(mib "${R[corvid,before]}") | $(mib "${R[redis,before]}") | $(ratio "${R[corvid,before]}" "${R[redis,before]}")× |
| master PSS peak during the sync (MiB) | $(mib "${R[corvid,peak]}") | $(mib "${R[redis,peak]}") | $(ratio "${R[corvid,peak]}" "${R[redis,peak]}")× |
| peak / before | $(ratio "${R[corvid,peak]}" "${R[corvid,before]}") | $(ratio "${R[redis,peak]}" "${R[redis,before]}") | |
| DEBUG DIGEST equal once the writes stopped | ${R[corvid,same]} | ${R[redis,same]} | |
MD
