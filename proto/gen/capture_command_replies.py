#!/usr/bin/env python3
"""Capture a real Redis's COMMAND INFO / COMMAND DOCS bytes as test fixtures
for proto/src/command_table/reply.rs.

Usage:
    redis-server --port 23456 --save '' --appendonly no &
    python3 proto/gen/capture_command_replies.py 23456

Writes, under proto/src/command_table/fixtures/:
- info.resp2, info.resp3, docs.resp2, docs.resp3: the whole replies to
  `COMMAND INFO|DOCS <SAMPLE>` in each protocol;
- digests.txt: for every command and subcommand the server knows, the
  64-bit FNV-1a of its COMMAND INFO entry and of its COMMAND DOCS map, in
  RESP2 and RESP3. A container's subcommands come in the order of a randomly
  seeded dict, so its digests cover its entry up to and including the
  subcommand count only; each subcommand has its own line.

Python 3 standard library only.
"""

import os
import socket
import sys

SAMPLE = ["get", "set", "config", "config|get", "xread", "zadd"]


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def line_end(buf, pos):
    return buf.index(b"\r\n", pos) + 2


def value_end(buf, pos):
    """End of the RESP2/RESP3 value starting at pos (IndexError/ValueError
    when incomplete)."""
    kind = buf[pos:pos + 1]
    end = line_end(buf, pos)
    if kind in (b"$", b"=", b"!"):
        n = int(buf[pos + 1:end - 2])
        if n < 0:
            return end
        if len(buf) < end + n + 2:
            raise IndexError("incomplete")
        return end + n + 2
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(buf[pos + 1:end - 2])
        n = n * 2 if kind in (b"%", b"|") else n
        for _ in range(max(n, 0)):
            end = value_end(buf, end)
        return end
    return end


def children(buf, pos):
    """Start offsets of the elements of the aggregate at pos (map pairs
    flattened)."""
    kind = buf[pos:pos + 1]
    n = int(buf[pos + 1:line_end(buf, pos) - 2])
    n = n * 2 if kind in (b"%", b"|") else n
    starts, p = [], line_end(buf, pos)
    for _ in range(n):
        starts.append(p)
        p = value_end(buf, p)
    return starts


class Connection:
    def __init__(self, port, protocol):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        if protocol == 3:
            self.call("HELLO", "3")

    def call(self, *args):
        self.sock.sendall(encode(args))
        while True:
            try:
                end = value_end(self.buf, 0)
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            except (IndexError, ValueError):
                data = self.sock.recv(1 << 20)
                if not data:
                    raise EOFError("connection closed")
                self.buf += data


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def stable_info(entry):
    """A COMMAND INFO entry cut after the subcommand count of a container."""
    subs = children(entry, 0)[9]
    if children(entry, subs):
        return entry[:line_end(entry, subs)]
    return entry


def stable_docs(doc_map):
    """A COMMAND DOCS map cut after the subcommand count of a container."""
    fields = children(doc_map, 0)
    for key, value in zip(fields[0::2], fields[1::2]):
        if doc_map[key:value] == b"$11\r\nsubcommands\r\n":
            return doc_map[:line_end(doc_map, value)]
    return doc_map


def names(conn):
    """Full names of every command and subcommand, from COMMAND."""
    reply = conn.call("COMMAND")
    out = []
    for entry in children(reply, 0):
        fields = children(reply, entry)
        out.append(bulk(reply, fields[0]))
        for sub in children(reply, fields[9]):
            out.append(bulk(reply, children(reply, sub)[0]))
    return sorted(out)


def bulk(buf, pos):
    start = line_end(buf, pos)
    return buf[start:value_end(buf, pos) - 2].decode()


def digests(conns, name):
    info, docs = [], []
    for conn in conns:
        reply = conn.call("COMMAND", "INFO", name)
        info.append(fnv1a64(stable_info(reply[children(reply, 0)[0]:])))
        reply = conn.call("COMMAND", "DOCS", name)
        docs.append(fnv1a64(stable_docs(reply[children(reply, 0)[1]:])))
    return info + docs


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: capture_command_replies.py <redis port>")
    port = int(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.join(here, os.pardir, "src", "command_table", "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    conns = [Connection(port, 2), Connection(port, 3)]
    version = conns[0].call("INFO", "server").split(b"redis_version:")[1].split(b"\r\n")[0].decode()
    for protocol, conn in zip((2, 3), conns):
        for kind in ("info", "docs"):
            with open(os.path.join(out_dir, "%s.resp%d" % (kind, protocol)), "wb") as f:
                f.write(conn.call("COMMAND", kind.upper(), *SAMPLE))
    lines = ["# COMMAND INFO/DOCS digests of Redis %s, written by" % version,
             "# proto/gen/capture_command_replies.py: full name, FNV-1a 64 of",
             "# INFO RESP2, INFO RESP3, DOCS RESP2, DOCS RESP3."]
    all_names = names(conns[0])
    for name in all_names:
        lines.append("%s %s" % (name, " ".join("%016x" % d for d in digests(conns, name))))
    with open(os.path.join(out_dir, "digests.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("captured %d commands and subcommands from Redis %s" % (len(all_names), version))


if __name__ == "__main__":
    main()
