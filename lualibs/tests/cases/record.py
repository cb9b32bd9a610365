#!/usr/bin/env python3
"""Records what a real Redis 7.0 answers for each case of a case file.

Usage: record.py PORT FILE...  Each FILE holds one Lua expression list per
line (blank lines and lines starting with '--' are kept as they are); the
file is rewritten with a '=> result' line under each case, as Redis
rendered it through prelude.lua. Cases run in order in one Redis, so a case
changing a library setting affects the following ones, as on Redis.
"""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
prelude = open(os.path.join(here, "prelude.lua")).read()
port = sys.argv[1]
for path in sys.argv[2:]:
    out = []
    for line in open(path).read().split("\n"):
        if line.startswith("=> "):
            continue
        out.append(line)
        if not line.strip() or line.startswith("--"):
            continue
        script = prelude.replace("CASE", line)
        res = subprocess.run(["redis-cli", "-p", port, "--raw", "eval", script, "0"],
                             capture_output=True, text=True)
        answer = res.stdout.rstrip("\n")
        if "\n" in answer or not answer.startswith(("ok: ", "err: ")):
            answer = "redis-error: " + answer.replace("\n", " ")
        out.append("=> " + answer)
    while out and out[-1] == "":
        out.pop()
    open(path, "w").write("\n".join(out) + "\n")
