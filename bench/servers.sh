# Shared by run.sh and memory.sh (sourced): start and stop the two servers with the
# same settings on free loopback ports, and read their figures. The caller defines
# say/die, CORVID_NODE_BIN, REDIS_SERVER_BIN, OUT and run_id first.
declare -A PORT PID DIR BIN
BIN[corvid]=$CORVID_NODE_BIN
BIN[redis]=$REDIS_SERVER_BIN

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_server() { # NAME [DIRECTIVE...]: starts it on a free port, fills PORT/PID/DIR
  local name=$1 attempt port dir log pid
  shift
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    port_is_free "$port" || continue
    dir=$(mktemp -d "${TMPDIR:-/tmp}/corvid-bench-$name.XXXXXX")
    # A log per start: a line from an earlier start must not pass for this one.
    log="$OUT/$name-$run_id-$port.log"
    "${BIN[$name]}" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$dir" --enable-debug-command local "$@" >>"$log" 2>&1 &
    pid=$!
    local waited=0
    until grep -q 'Ready to accept connections' "$log" 2>/dev/null; do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      sleep 0.05; waited=$((waited + 1))
      [ $waited -lt 400 ] || { kill "$pid" 2>/dev/null || true; die "$name not ready after 20 s; see $log"; }
    done
    if kill -0 "$pid" 2>/dev/null; then
      PORT[$name]=$port; PID[$name]=$pid; DIR[$name]=$dir
      return
    fi
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
    grep -q 'Address already in use' "$log" || die "$name exited at start-up; see $log"
  done
  die "no free port for $name after 5 attempts"
}

stop_server() { # NAME
  local name=$1
  [ -n "${PID[$name]:-}" ] || return 0
  kill "${PID[$name]}" 2>/dev/null || true
  wait "${PID[$name]}" 2>/dev/null || true
  rm -rf "${DIR[$name]}"
  unset "PID[$name]"
}

cleanup() { stop_server corvid; stop_server redis; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cli() { # NAME ARGS...
  local name=$1; shift
  redis-cli -h 127.0.0.1 -p "${PORT[$name]}" "$@"
}

info_field() { # NAME SECTION FIELD
  cli "$1" INFO "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}

vmrss_bytes() { # NAME
  awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/${PID[$1]}/status"
}

# Wait until the allocator has returned the pages the load freed (jemalloc's
# decay takes up to ~10 s): VmRSS unchanged over a second, at most 20 s.
settle_rss() { # NAME
  local prev=-1 now i
  for i in $(seq 1 20); do
    sleep 1
    now=$(vmrss_bytes "$1")
    [ "$now" = "$prev" ] && return 0
    prev=$now
  done
}
