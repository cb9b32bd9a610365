#!/usr/bin/env python3
"""Cache workloads for bench/memory.sh, with nothing but the standard library.

  cache.py zipf PORT PID      a Zipfian GET-or-SET cache workload: hit rate, peak RSS
  cache.py unlink PORT        GET latency while a large set is UNLINKed
  cache.py expire PORT KEYS   EXPIRE key:0..KEYS-1 (DEBUG POPULATE's names), pipelined

Each prints one line of `name=value` pairs on stdout. The request sequence is
seeded, so both servers see the same one.
"""
import bisect
import itertools
import os
import random
import socket
import sys
import time


class Conn:
    """A RESP2 client: pipelined writes, replies read one by one."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rf = self.sock.makefile("rb", buffering=1 << 16)

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send(self, payload):
        self.sock.sendall(payload)

    def reply(self):
        line = self.rf.readline()
        if not line:
            raise ConnectionError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.rf.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("unexpected reply %r" % line)

    def call(self, *args):
        self.send(self.encode(*args))
        return self.reply()


def status_bytes(pid, field):
    """A /proc/PID/status figure in bytes: VmRSS (all resident pages, the
    binary's own included) or RssAnon (the process's anonymous memory)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def vmrss(pid):
    return status_bytes(pid, "VmRSS")


def zipf(port, pid):
    """GET a Zipf-distributed key; on a miss, SET it. The keyspace is
    KEYS keys of VALUE bytes, far more than maxmemory holds; the hit rate
    is counted after the first WARMUP requests."""
    keys = int(os.environ.get("KEYS", 1_000_000))
    requests = int(os.environ.get("REQUESTS", 2_000_000))
    warmup = int(os.environ.get("WARMUP", requests // 5))
    exponent = float(os.environ.get("ZIPF_S", 0.99))
    value = b"v" * int(os.environ.get("VALUE", 1000))
    batch = 100
    rng = random.Random(int(os.environ.get("SEED", 42)))
    cumulative = list(itertools.accumulate(1.0 / (r ** exponent) for r in range(1, keys + 1)))
    total = cumulative[-1]
    c = Conn(port)
    hits = misses = 0
    peak_rss = peak_anon = 0
    started = time.time()
    for done in range(0, requests, batch):
        names = [b"key:%d" % bisect.bisect_left(cumulative, rng.random() * total) for _ in range(batch)]
        c.send(b"".join(Conn.encode(b"GET", k) for k in names))
        missed = [k for k in names if c.reply() is None]
        if missed:
            c.send(b"".join(Conn.encode(b"SET", k, value) for k in missed))
            for _ in missed:
                c.reply()
        if done >= warmup:
            misses += len(missed)
            hits += batch - len(missed)
        if (done // batch) % 50 == 0:
            peak_rss = max(peak_rss, vmrss(pid))
            peak_anon = max(peak_anon, status_bytes(pid, "RssAnon"))
    peak_rss = max(peak_rss, vmrss(pid))
    peak_anon = max(peak_anon, status_bytes(pid, "RssAnon"))
    info = c.call("INFO", "memory").decode()
    used = next(int(l.split(":")[1]) for l in info.split("\r\n") if l.startswith("used_memory:"))
    evicted = next(
        int(l.split(":")[1]) for l in c.call("INFO", "stats").decode().split("\r\n") if l.startswith("evicted_keys:")
    )
    print(
        "hit_rate=%.4f peak_rss=%d peak_anon=%d end_rss=%d used_memory=%d evicted_keys=%d seconds=%.1f"
        % (hits / max(1, hits + misses), peak_rss, peak_anon, vmrss(pid), used, evicted, time.time() - started)
    )


def unlink(port):
    """Load a set of MEMBERS members, then send GETs one at a time from one
    connection while another UNLINKs the set; latency percentiles of the
    GETs from the UNLINK on, for WINDOW seconds."""
    members = int(os.environ.get("MEMBERS", 10_000_000))
    window = float(os.environ.get("WINDOW", 2.0))
    loader = Conn(port)
    per_cmd = 1000
    inflight = 0
    for start in range(0, members, per_cmd):
        loader.send(Conn.encode(b"SADD", b"bigset", *(b"m:%d" % i for i in range(start, min(members, start + per_cmd)))))
        inflight += 1
        if inflight == 50:
            for _ in range(inflight):
                loader.reply()
            inflight = 0
    for _ in range(inflight):
        loader.reply()
    card = int(loader.call("SCARD", "bigset"))
    probe = Conn(port)
    probe.call("SET", "foo", "bar")
    for _ in range(2000):  # warm the path
        probe.call("GET", "foo")
    loader.send(Conn.encode(b"UNLINK", b"bigset"))
    t0 = time.perf_counter()
    lat = []
    unlink_reply = None
    loader.sock.setblocking(False)
    while time.perf_counter() - t0 < window:
        s = time.perf_counter()
        probe.call("GET", "foo")
        lat.append(time.perf_counter() - s)
        if unlink_reply is None:
            try:
                if loader.sock.recv(64):
                    unlink_reply = time.perf_counter() - t0
            except BlockingIOError:
                pass
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] * 1000

    print(
        "members=%d gets=%d p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f unlink_reply_ms=%.3f"
        % (card, len(lat), pct(50), pct(99), pct(99.9), lat[-1] * 1000, (unlink_reply or float("nan")) * 1000)
    )


def expire(port, keys):
    c = Conn(port)
    batch = 1000
    for start in range(0, keys, batch):
        c.send(b"".join(Conn.encode(b"EXPIRE", b"key:%d" % i, b"100000") for i in range(start, min(keys, start + batch))))
        for _ in range(start, min(keys, start + batch)):
            c.reply()
    info = c.call("INFO", "keyspace").decode()
    print(info.strip().split("\r\n")[-1])


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "zipf":
        zipf(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "unlink":
        unlink(int(sys.argv[2]))
    elif mode == "expire":
        expire(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(__doc__)
