#!/usr/bin/env bash
# Throughput and memory of corvid-node beside redis-server, measured in one run so that
# only ratios are compared (absolute numbers drift 20-30% between runs on this machine).
#
#   bench/run.sh                       # builds nothing: run `cargo build --release` first
#
# Environment (defaults in brackets):
#   CORVID_NODE_BIN   the node under test          [<repo>/target/release/corvid-node]
#   REDIS_SERVER_BIN  the reference                [redis-server from PATH]
#   ROUNDS            throughput rounds, A B A B   [3]
#   N_P1, N_P16       requests per test at -P 1 / -P 16   [200000 / 2000000]
#   TESTS             redis-benchmark -t list      [set,get,incr,mset]
#   CLIENTS           redis-benchmark -c           [50]
#   MEM_KEYS          keys loaded for the memory test (DEBUG POPULATE, 16-byte values) [1000000]
#   MEM_CASES         collection memory cases to run (empty: none) [hash,set,zset,stream]: 1M hashes of 10
#                     small fields, 100k sets of 100 integers, 100k sorted sets of 100 members,
#                     one stream of 1M two-field entries (per entry)
#   BENCH_OUT         logs and results             [<repo>/bench/out]
#
# Both servers get the same settings: --save "" --appendonly no (and
# --enable-debug-command local for DEBUG POPULATE), each on a free loopback port.
# Throughput: `redis-benchmark -q -c 50 -n N -r 1000000 -P {1,16} -t TESTS`, servers
# alternating within every round (FLUSHALL before each run), median ops/s per
# server/test/pipeline. Memory: fresh servers, INFO memory and /proc/PID/status VmRSS
# before and after `DEBUG POPULATE MEM_KEYS key 16`, per key. Prints a markdown block
# for bench/RESULTS.md on stdout; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
CORVID_NODE_BIN=${CORVID_NODE_BIN:-$root/target/release/corvid-node}
REDIS_SERVER_BIN=${REDIS_SERVER_BIN:-$(command -v redis-server || echo redis-server)}
ROUNDS=${ROUNDS:-3}
N_P1=${N_P1:-200000}
N_P16=${N_P16:-2000000}
TESTS=${TESTS:-set,get,incr,mset,lpush,lpop,sadd,hset,zadd,lrange_100}
MEM_CASES=${MEM_CASES-hash,set,zset,stream}
# Cases redis-benchmark's -t cannot express: EVALSHA of a three-command
# script, PUBLISH to a channel with 50 subscribers, PFADD of random elements
# to random HyperLogLogs, XADD to one stream, XREAD of 100 entries, SETBIT on
# 100k small bitmaps, GEOADD of random points into one sorted set.
EXTRA=${EXTRA-evalsha,publish_50,pfadd,xadd,xread_100,setbit,geoadd}
CLIENTS=${CLIENTS:-50}
MEM_KEYS=${MEM_KEYS:-1000000}
OUT=${BENCH_OUT:-$root/bench/out}

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install redis-tools)"
done
[ -x "$CORVID_NODE_BIN" ] || die "CORVID_NODE_BIN=$CORVID_NODE_BIN is not executable (run \`cargo build --release\` first)"
[ -x "$(command -v "$REDIS_SERVER_BIN" || true)" ] || die "REDIS_SERVER_BIN=$REDIS_SERVER_BIN not found (Debian: apt-get install redis-server)"
REDIS_SERVER_BIN=$(command -v "$REDIS_SERVER_BIN")
[ "$ROUNDS" -ge 1 ] || die "ROUNDS must be at least 1"
[ "$ROUNDS" -ge 3 ] || say "warning: ROUNDS=$ROUNDS; medians of fewer than 3 rounds are noisy"

mkdir -p "$OUT"
run_id=$(date +%Y%m%d-%H%M%S)
raw="$OUT/throughput-$run_id.tsv"          # server, pipeline, test, ops/s, round
: > "$raw"

# --- servers ---------------------------------------------------------------------------
# shellcheck source=bench/servers.sh
. "$here/servers.sh"

# --- throughput --------------------------------------------------------------------------
# The three-command script EVALSHA runs.
SCRIPT3="redis.call('incr', KEYS[1]); redis.call('set', KEYS[2], ARGV[1]); return redis.call('get', KEYS[2])"

extra_case() { # NAME PIPELINE N CASE: prints ops/s
  local name=$1 pipeline=$2 n=$3 case=$4 sha pids=() i out
  cli "$name" FLUSHALL >/dev/null
  case $case in
    evalsha)
      sha=$(cli "$name" SCRIPT LOAD "$SCRIPT3")
      out=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$CLIENTS" -n "$n" \
              -r 1000000 -P "$pipeline" --csv evalsha "$sha" 2 "counter:__rand_int__" "value:__rand_int__" payload) ;;
    publish_50)
      for i in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p "${PORT[$name]}" subscribe bench-channel >/dev/null &
        pids+=($!)
      done
      for i in $(seq 1 200); do
        [ "$(cli "$name" PUBSUB NUMSUB bench-channel | tail -1)" = 50 ] && break
        sleep 0.05
      done
      out=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$CLIENTS" -n "$((n / 10))" \
              -P "$pipeline" --csv publish bench-channel hello-subscribers) || true
      kill "${pids[@]}" 2>/dev/null || true
      wait "${pids[@]}" 2>/dev/null || true ;;
    xadd)
      out=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$CLIENTS" -n "$n" \
              -r 1000000 -P "$pipeline" --csv xadd bench-stream "*" sensor __rand_int__ reading 19.75) ;;
    xread_100)
      # One stream of 100 entries, read whole by every request.
      for i in $(seq 1 100); do printf 'XADD bench-stream * sensor %d reading 19.75\n' "$i"; done | cli "$name" >/dev/null
      out=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$CLIENTS" -n "$((n / 10))" \
              -P "$pipeline" --csv xread COUNT 100 STREAMS bench-stream 0) ;;
    pfadd)
      # Two random elements into one of up to a million HyperLogLogs: each is
      # created by its first PFADD and stays sparse (the common many-counters case).
      out=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$CLIENTS" -n "$n" \
              -r 1000000 -P "$pipeline" --csv pfadd "hll:__rand_int__" "__rand_int__" "__rand_int__") ;;
    setbit)
      # Offsets cannot be random: __rand_int__ is zero-padded, and a bit
      # offset with leading zeros is not an integer to Redis.
      out=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$CLIENTS" -n "$n" \
              -r 100000 -P "$pipeline" --csv setbit "bits:__rand_int__" 1000 1) ;;
    geoadd)
      # Each placeholder is drawn on its own; as 0..999999e-5 the first two
      # spread the points over a 10° square.
      out=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$CLIENTS" -n "$n" \
              -r 1000000 -P "$pipeline" --csv geoadd geo "__rand_int__e-5" "__rand_int__e-5" "m:__rand_int__") ;;
    *) die "unknown EXTRA case $case" ;;
  esac
  tr -d '"' <<<"$out" | awk -F, 'NR > 1 && NF > 1 { print $2; exit }'
}

start_server corvid
start_server redis
corvid_version=$(info_field corvid server redis_version)
redis_version=$(info_field redis server redis_version)
say "corvid: ${BIN[corvid]} (redis_version $corvid_version) on port ${PORT[corvid]}"
say "redis:  ${BIN[redis]} (redis_version $redis_version) on port ${PORT[redis]}"
say "throughput: $ROUNDS rounds x {-P 1: $N_P1, -P 16: $N_P16} requests x {$TESTS}, -c $CLIENTS"

for round in $(seq 1 "$ROUNDS"); do
  for pipeline in 1 16; do
    n=$N_P1; [ "$pipeline" = 16 ] && n=$N_P16
    for name in corvid redis; do
      cli "$name" FLUSHALL >/dev/null
      say "round $round/$ROUNDS -P $pipeline: $name"
      csv=$(timeout 600 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -c "$CLIENTS" -n "$n" \
              -r 1000000 -P "$pipeline" -t "$TESTS" --csv) \
        || die "redis-benchmark against $name failed (round $round, -P $pipeline)"
      # "MSET (10 keys)","54794.52",... -> MSET 54794.52; the LPUSH that only fills the
      # list for LRANGE ("LPUSH (needed to benchmark LRANGE)") is not a result.
      tr -d '"' <<<"$csv" | awk -F, -v s="$name" -v p="$pipeline" -v r="$round" \
        'NR > 1 && NF > 1 && $1 !~ /needed/ { split($1, w, " "); print s "\t" p "\t" w[1] "\t" $2 "\t" r }' >> "$raw"
      for case in ${EXTRA//,/ }; do
        ops=$(extra_case "$name" "$pipeline" "$n" "$case") || die "$case against $name failed (round $round, -P $pipeline)"
        printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$pipeline" "${case^^}" "$ops" "$round" >> "$raw"
      done
    done
  done
done
kill -0 "${PID[corvid]}" 2>/dev/null || die "corvid died during the throughput runs"
stop_server corvid
stop_server redis

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
values() { # SERVER PIPELINE TEST
  awk -F'\t' -v s="$1" -v p="$2" -v t="$3" '$1 == s && $2 == p && $3 == t { print $4 }' "$raw"
}

throughput_table=$(
  echo "| test | pipeline | corvid ops/s | redis ops/s | corvid/redis | corvid runs | redis runs |"
  echo "|---|---|---:|---:|---:|---|---|"
  for pipeline in 1 16; do
    for test in $(cut -f3 "$raw" | awk '!seen[$0]++'); do
      c=$(values corvid "$pipeline" "$test" | median)
      r=$(values redis "$pipeline" "$test" | median)
      c_runs=$(values corvid "$pipeline" "$test" | awk '{ printf "%s%.0f", (NR > 1 ? " " : ""), $1 }')
      r_runs=$(values redis "$pipeline" "$test" | awk '{ printf "%s%.0f", (NR > 1 ? " " : ""), $1 }')
      awk -v t="$test" -v p="$pipeline" -v c="$c" -v r="$r" -v cr="$c_runs" -v rr="$r_runs" \
        'BEGIN { printf "| %s | -P %s | %.0f | %.0f | %.2f× | %s | %s |\n", t, p, c, r, (r > 0 ? c / r : 0), cr, rr }'
    done
  done
)

# --- memory ------------------------------------------------------------------------------
say "memory: DEBUG POPULATE $MEM_KEYS key 16 into fresh servers"
declare -A MEM
for name in corvid redis; do
  start_server "$name"
  sleep 1   # let INFO's RSS sample (updated by the server's cron) settle
  MEM[$name,used0]=$(info_field "$name" memory used_memory)
  MEM[$name,rss0]=$(info_field "$name" memory used_memory_rss)
  MEM[$name,vm0]=$(vmrss_bytes "$name")
  start=$(date +%s.%N)
  reply=$(cli "$name" DEBUG POPULATE "$MEM_KEYS" key 16)
  [ "$reply" = OK ] || die "$name: DEBUG POPULATE replied: $reply"
  MEM[$name,secs]=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  keys=$(cli "$name" DBSIZE)
  [ "$keys" = "$MEM_KEYS" ] || die "$name: DBSIZE is $keys after populating $MEM_KEYS keys"
  sleep 1
  MEM[$name,used1]=$(info_field "$name" memory used_memory)
  MEM[$name,rss1]=$(info_field "$name" memory used_memory_rss)
  MEM[$name,vm1]=$(vmrss_bytes "$name")
  stop_server "$name"
done

per_key() { # NAME METRIC
  awk -v a="${MEM[$1,${2}0]}" -v b="${MEM[$1,${2}1]}" -v n="$MEM_KEYS" 'BEGIN { printf "%.1f", (b - a) / n }'
}
memory_table=$(
  echo "| metric (bytes per key, empty-server baseline subtracted) | corvid | redis | corvid/redis |"
  echo "|---|---:|---:|---:|"
  for metric in used:used_memory rss:used_memory_rss vm:"VmRSS (/proc)"; do
    key=${metric%%:*}; label=${metric#*:}
    c=$(per_key corvid "$key"); r=$(per_key redis "$key")
    awk -v l="$label" -v c="$c" -v r="$r" 'BEGIN { printf "| %s | %s | %s | %.2f× |\n", l, c, r, (r > 0 ? c / r : 0) }'
  done
  awk -v c="${MEM[corvid,secs]}" -v r="${MEM[redis,secs]}" \
    'BEGIN { printf "| DEBUG POPULATE time (s) | %s | %s | %.2f× |\n", c, r, (r > 0 ? c / r : 0) }'
)

# --- collection memory -------------------------------------------------------------------
# RESP for one case's load, the same bytes for both servers (redis-cli --pipe).
case_keys() { case $1 in hash) echo 1000000 ;; set|zset) echo 100000 ;; stream) echo 1 ;; esac; }
# What the memory figures are divided by: keys, or a stream's entries.
case_units() { case $1 in stream) echo 1000000 ;; *) case_keys "$1" ;; esac; }
case_commands() { # CASE
  awk -v c="$1" -v n="$(case_keys "$1")" 'BEGIN {
    for (i = 0; i < n; i++) {
      k = 0
      if (c == "hash") {
        a[k++] = "HSET"; a[k++] = "hash:" i
        for (j = 0; j < 10; j++) { a[k++] = "field" j; a[k++] = sprintf("val-%04d", (i * 10 + j) % 10000) }
      } else if (c == "stream") {
        for (e = 0; e < 1000000; e++) {
          printf "*7\r\n$4\r\nXADD\r\n$8\r\nstream:0\r\n$1\r\n*\r\n$6\r\nsensor\r\n"
          v = sprintf("%d", e % 1000); printf "$%d\r\n%s\r\n", length(v), v
          v = sprintf("%.2f", (e % 4000) / 100); printf "$7\r\nreading\r\n$%d\r\n%s\r\n", length(v), v
        }
        continue
      } else if (c == "set") {
        a[k++] = "SADD"; a[k++] = "set:" i
        for (j = 0; j < 100; j++) a[k++] = (i + 37 * j) % 30000
      } else {
        a[k++] = "ZADD"; a[k++] = "zset:" i
        for (j = 0; j < 100; j++) { a[k++] = j; a[k++] = "member:" j }
      }
      printf "*%d\r\n", k
      for (x = 0; x < k; x++) printf "$%d\r\n%s\r\n", length(a[x]), a[x]
    }
  }'
}

collection_rows=""
for mem_case in ${MEM_CASES//,/ }; do
  file="$OUT/load-$mem_case.resp"
  [ -s "$file" ] || case_commands "$mem_case" > "$file"
  n=$(case_keys "$mem_case")
  units=$(case_units "$mem_case")
  say "memory: $n $mem_case keys ($units units) into fresh servers"
  for name in corvid redis; do
    start_server "$name"
    sleep 1
    used0=$(info_field "$name" memory used_memory); rss0=$(vmrss_bytes "$name")
    cli "$name" --pipe < "$file" > "$OUT/pipe-$name-$mem_case.log" 2>&1 \
      || die "$name: loading the $mem_case case failed; see $OUT/pipe-$name-$mem_case.log"
    keys=$(cli "$name" DBSIZE)
    [ "$keys" = "$n" ] || die "$name: DBSIZE is $keys after loading $n keys ($mem_case)"
    MEM[$name,$mem_case,enc]=$(cli "$name" OBJECT ENCODING "$mem_case:0")
    settle_rss "$name"
    MEM[$name,$mem_case,used]=$(awk -v a="$used0" -v b="$(info_field "$name" memory used_memory)" -v n="$units" 'BEGIN { printf "%.1f", (b - a) / n }')
    MEM[$name,$mem_case,vm]=$(awk -v a="$rss0" -v b="$(vmrss_bytes "$name")" -v n="$units" 'BEGIN { printf "%.1f", (b - a) / n }')
    stop_server "$name"
  done
  for metric in used:used_memory vm:"VmRSS (/proc)"; do
    key=${metric%%:*}; label=${metric#*:}
    c=${MEM[corvid,$mem_case,$key]}; r=${MEM[redis,$mem_case,$key]}
    collection_rows+=$(awk -v m="$mem_case" -v n="$n" -v l="$label" -v c="$c" -v r="$r" \
      -v ce="${MEM[corvid,$mem_case,enc]}" -v re="${MEM[redis,$mem_case,enc]}" \
      -v u="$units" 'BEGIN { printf "| %s (%d keys, per %s; %s / %s) | %s | %s | %s | %.2f× |", m, n, (u == n ? "key" : "entry of " u), ce, re, l, c, r, (r > 0 ? c / r : 0) }')$'\n'
  done
done

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo " (uncommitted changes)" || true)
result="$OUT/result-$run_id.md"
{
  echo "### $(date -u +%Y-%m-%d) — commit $commit$dirty"
  echo
  echo "corvid: \`${BIN[corvid]}\` (reports redis_version $corvid_version); redis: \`${BIN[redis]}\` ($redis_version)."
  echo "$(nproc) cores; redis-benchmark -q -c $CLIENTS -r 1000000, -n $N_P1 at -P 1 and $N_P16 at -P 16;"
  echo "$ROUNDS rounds, servers alternating within each round; medians."
  echo
  echo "$throughput_table"
  echo
  echo "Memory: $MEM_KEYS keys, \`DEBUG POPULATE $MEM_KEYS key 16\` (16-byte values), fresh servers."
  echo
  echo "$memory_table"
  if [ -n "$collection_rows" ]; then
    echo
    echo "Collections: hashes of 10 fields (8-byte values), sets of 100 small integers,"
    echo "sorted sets of 100 members with integer scores, loaded by \`redis-cli --pipe\`."
    echo
    echo "| case (encodings corvid / redis) | metric | corvid bytes/key | redis bytes/key | corvid/redis |"
    echo "|---|---|---:|---:|---:|"
    printf '%s' "$collection_rows"
  fi
} > "$result"
say "raw throughput samples: $raw; result: $result"
cat "$result"
