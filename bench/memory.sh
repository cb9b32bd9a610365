#!/usr/bin/env bash
# Issue 7's memory figures for corvid-node beside redis-server, in one run:
#   1. strings: VmRSS per key for MEM_KEYS keys with 16-byte values (DEBUG POPULATE),
#      without and then with a TTL on every key (EXPIRE, pipelined);
#   2. cache: maxmemory 100mb, allkeys-lru, a Zipfian GET-or-SET workload over a
#      keyspace about ten times what fits (cache.py zipf): hit rate, peak VmRSS;
#   3. lazy free: GET latency from one connection while another UNLINKs a set of
#      MEMBERS members (cache.py unlink): p50/p99/p99.9/max.
#
#   bench/memory.sh              # builds nothing: run `cargo build --release` first
#
# Environment (defaults in brackets): CORVID_NODE_BIN, REDIS_SERVER_BIN as run.sh;
#   MEM_KEYS [1000000]; KEYS [1000000], REQUESTS [2000000], VALUE [1000], ZIPF_S [0.99]
#   for the cache, SEEDS [1 2 3] its request sequences (a fresh server each);
#   MEMBERS [10000000] for the UNLINK; BENCH_OUT [bench/out].
# Prints a markdown block for bench/RESULTS.md on stdout; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
CORVID_NODE_BIN=${CORVID_NODE_BIN:-$root/target/release/corvid-node}
REDIS_SERVER_BIN=${REDIS_SERVER_BIN:-$(command -v redis-server || echo redis-server)}
MEM_KEYS=${MEM_KEYS:-1000000}
export KEYS=${KEYS:-1000000} REQUESTS=${REQUESTS:-2000000} VALUE=${VALUE:-1000} ZIPF_S=${ZIPF_S:-0.99}
export MEMBERS=${MEMBERS:-10000000}
SEEDS=${SEEDS:-1 2 3}
OUT=${BENCH_OUT:-$root/bench/out}

say() { printf '[memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v redis-cli >/dev/null || die "redis-cli not found (Debian: apt-get install redis-tools)"
command -v python3 >/dev/null || die "python3 not found"
[ -x "$CORVID_NODE_BIN" ] || die "CORVID_NODE_BIN=$CORVID_NODE_BIN is not executable (run \`cargo build --release\` first)"
REDIS_SERVER_BIN=$(command -v "$REDIS_SERVER_BIN") || die "redis-server not found (Debian: apt-get install redis-server)"
mkdir -p "$OUT"
run_id=$(date +%Y%m%d-%H%M%S)

# shellcheck source=bench/servers.sh
. "$here/servers.sh"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (a - b) / n }'; }
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

declare -A PLAIN TTL CACHE UNLINK
for name in corvid redis; do
  say "$name: strings, $MEM_KEYS keys"
  start_server "$name"
  base=$(vmrss_bytes "$name")
  cli "$name" DEBUG POPULATE "$MEM_KEYS" key 16 >/dev/null
  settle_rss "$name"
  plain=$(vmrss_bytes "$name")
  python3 "$here/cache.py" expire "${PORT[$name]}" "$MEM_KEYS" >&2
  settle_rss "$name"
  ttl=$(vmrss_bytes "$name")
  PLAIN[$name]=$(per "$plain" "$base" "$MEM_KEYS")
  TTL[$name]=$(per "$ttl" "$base" "$MEM_KEYS")
  stop_server "$name"

  # One fresh server per seed: eviction samples at random, so the hit rate
  # is the mean over SEEDS request sequences (peak VmRSS: the highest).
  hits=() peak=0 anon=0 used=0
  for seed in $SEEDS; do
    say "$name: cache, maxmemory 100mb allkeys-lru, $REQUESTS requests over $KEYS keys, seed $seed"
    start_server "$name" --maxmemory 100mb --maxmemory-policy allkeys-lru
    line=$(SEED=$seed python3 "$here/cache.py" zipf "${PORT[$name]}" "${PID[$name]}")
    say "$name: $line"
    stop_server "$name"
    hits+=("$(field "$line" hit_rate)")
    peak=$(awk -v a="$peak" -v b="$(field "$line" peak_rss)" 'BEGIN { printf "%d", (b > a ? b : a) }')
    anon=$(awk -v a="$anon" -v b="$(field "$line" peak_anon)" 'BEGIN { printf "%d", (b > a ? b : a) }')
    used=$(field "$line" used_memory)
  done
  CACHE[$name]="hit_rate=$(printf '%s\n' "${hits[@]}" | awk '{ s += $1 } END { printf "%.4f", s / NR }') hit_rates=$(IFS=/; echo "${hits[*]}") peak_rss=$peak peak_anon=$anon used_memory=$used"

  say "$name: UNLINK of a $MEMBERS-member set under GETs"
  start_server "$name"
  UNLINK[$name]=$(python3 "$here/cache.py" unlink "${PORT[$name]}")
  say "$name: ${UNLINK[$name]}"
  stop_server "$name"
done

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
limit=$((100 * 1024 * 1024))
cat <<MD
corvid: \`$CORVID_NODE_BIN\`; redis: \`$REDIS_SERVER_BIN\` ($("$REDIS_SERVER_BIN" --version | awk '{print $3}')).

| metric | corvid | redis | corvid/redis |
|---|---:|---:|---:|
| VmRSS per key, $MEM_KEYS strings of 16 bytes (B) | ${PLAIN[corvid]} | ${PLAIN[redis]} | $(ratio "${PLAIN[corvid]}" "${PLAIN[redis]}")× |
| VmRSS per key, the same with a TTL each (B) | ${TTL[corvid]} | ${TTL[redis]} | $(ratio "${TTL[corvid]}" "${TTL[redis]}")× |
| cache hit rate, mean of seeds $SEEDS (maxmemory 100mb, allkeys-lru, Zipf s=$ZIPF_S over $KEYS keys of $VALUE B) | $(field "${CACHE[corvid]}" hit_rate) | $(field "${CACHE[redis]}" hit_rate) | $(ratio "$(field "${CACHE[corvid]}" hit_rate)" "$(field "${CACHE[redis]}" hit_rate)")× |
| cache hit rate per seed | $(field "${CACHE[corvid]}" hit_rates) | $(field "${CACHE[redis]}" hit_rates) | |
| cache peak VmRSS (MiB; limit 100) | $(mib "$(field "${CACHE[corvid]}" peak_rss)") | $(mib "$(field "${CACHE[redis]}" peak_rss)") | $(ratio "$(field "${CACHE[corvid]}" peak_rss)" "$(field "${CACHE[redis]}" peak_rss)")× |
| cache peak VmRSS / maxmemory | $(ratio "$(field "${CACHE[corvid]}" peak_rss)" $limit) | $(ratio "$(field "${CACHE[redis]}" peak_rss)" $limit) | |
| cache peak RssAnon / maxmemory (without the binary's pages) | $(ratio "$(field "${CACHE[corvid]}" peak_anon)" $limit) | $(ratio "$(field "${CACHE[redis]}" peak_anon)" $limit) | |
| cache used_memory at the end (MiB) | $(mib "$(field "${CACHE[corvid]}" used_memory)") | $(mib "$(field "${CACHE[redis]}" used_memory)") | |
| GET p50 while UNLINK of $MEMBERS members (ms) | $(field "${UNLINK[corvid]}" p50_ms) | $(field "${UNLINK[redis]}" p50_ms) | |
| GET p99 (ms) | $(field "${UNLINK[corvid]}" p99_ms) | $(field "${UNLINK[redis]}" p99_ms) | |
| GET p99.9 (ms) | $(field "${UNLINK[corvid]}" p999_ms) | $(field "${UNLINK[redis]}" p999_ms) | |
| GET max (ms) | $(field "${UNLINK[corvid]}" max_ms) | $(field "${UNLINK[redis]}" max_ms) | |
| UNLINK reply (ms) | $(field "${UNLINK[corvid]}" unlink_reply_ms) | $(field "${UNLINK[redis]}" unlink_reply_ms) | |
MD
