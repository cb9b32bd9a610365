#!/usr/bin/env python3
"""Generate proto/src/command_table/generated.rs from Redis's command JSON.

Usage: python3 proto/gen/command_table.py <redis>/src/commands [output.rs]

Reads every src/commands/*.json of a Redis 7.0 source tree (the files Redis's
own utils/generate-command-code.py turns into commands.c) and writes one
static Rust table of commands with their subcommands nested. What Redis
computes at startup is computed here, so the table is final data:

- the implicit ACL categories (server.c setImplicitACLCategories);
- the legacy (first, last, step) key range and the MOVABLE_KEYS flag
  (server.c populateCommandLegacyRangeSpec, then addReplyCommandInfo's
  conversion of lastkey to an absolute index);
- a subcommand's group is its container's;
- the normalisations of generate-command-code.py: lowercase command and
  argument names and tips, uppercase tokens, empty strings as absent.

Corvid's additions beyond Redis 7.0 (commands a later Redis added that
Corvid implements, e.g. CLIENT NO-TOUCH from 7.2) are JSON files of the same
format in proto/gen/extra-commands/, read after Redis's own.

Python 3 standard library only.
"""

import glob
import json
import os
import sys

INT_MAX = 2**31 - 1

# JSON flag name -> CmdFlags constant; the names are Redis's CMD_* suffixes.
COMMAND_FLAGS = {
    "WRITE", "READONLY", "DENYOOM", "MODULE", "ADMIN", "PUBSUB", "NOSCRIPT",
    "BLOCKING", "LOADING", "STALE", "SKIP_MONITOR", "SKIP_SLOWLOG", "ASKING",
    "FAST", "NO_AUTH", "MAY_REPLICATE", "SENTINEL", "ONLY_SENTINEL",
    "NO_MANDATORY_KEYS", "PROTECTED", "MODULE_GETKEYS", "MODULE_NO_CLUSTER",
    "NO_ASYNC_LOADING", "NO_MULTI", "MOVABLE_KEYS", "ALLOW_BUSY",
    "MODULE_GETCHANNELS", "TOUCHES_ARBITRARY_KEYS",
}

ACL_CATEGORIES = {
    "KEYSPACE", "READ", "WRITE", "SET", "SORTEDSET", "LIST", "HASH", "STRING",
    "BITMAP", "HYPERLOGLOG", "GEO", "STREAM", "PUBSUB", "ADMIN", "FAST",
    "SLOW", "BLOCKING", "DANGEROUS", "CONNECTION", "TRANSACTION", "SCRIPTING",
}

KEY_SPEC_FLAGS = {
    "RO", "RW", "OW", "RM", "ACCESS", "UPDATE", "INSERT", "DELETE", "NOT_KEY",
    "INCOMPLETE", "VARIABLE_FLAGS",
}

DOC_FLAGS = {"DEPRECATED", "SYSCMD"}

ARG_TYPES = {
    "string": "String",
    "integer": "Integer",
    "double": "Double",
    "key": "Key",
    "pattern": "Pattern",
    "unix-time": "UnixTime",
    "pure-token": "PureToken",
    "oneof": "Oneof",
    "block": "Block",
}

# JSON group -> the name COMMAND DOCS prints (server.c COMMAND_GROUP_STR).
GROUPS = {
    "generic": "generic",
    "string": "string",
    "list": "list",
    "set": "set",
    "sorted_set": "sorted-set",
    "hash": "hash",
    "pubsub": "pubsub",
    "transactions": "transactions",
    "connection": "connection",
    "server": "server",
    "scripting": "scripting",
    "hyperloglog": "hyperloglog",
    "cluster": "cluster",
    "sentinel": "sentinel",
    "geo": "geo",
    "stream": "stream",
    "bitmap": "bitmap",
}

# db.c getkeys functions -> GetKeys variants.
GETKEYS = {
    "bitfieldGetKeys": "Bitfield",
    "blmpopGetKeys": "Blmpop",
    "bzmpopGetKeys": "Bzmpop",
    "evalGetKeys": "Eval",
    "functionGetKeys": "Function",
    "georadiusGetKeys": "Georadius",
    "lmpopGetKeys": "Lmpop",
    "migrateGetKeys": "Migrate",
    "setGetKeys": "Set",
    "sintercardGetKeys": "Sintercard",
    "sortGetKeys": "Sort",
    "sortROGetKeys": "SortRo",
    "xreadGetKeys": "Xread",
    "zmpopGetKeys": "Zmpop",
    "zunionInterDiffGetKeys": "ZunionInterDiff",
    "zunionInterDiffStoreGetKeys": "ZunionInterDiffStore",
}


def fail(msg):
    sys.exit("command_table.py: " + msg)


def checked(names, known, what, where):
    for n in names:
        if n not in known:
            fail("unknown %s %r in %s" % (what, n, where))
    return list(names)


def optional(desc, field):
    """Redis's generator treats a missing or empty string as NULL."""
    v = desc.get(field)
    return v if v else None


# ---------------------------------------------------------------- model


class Command:
    def __init__(self, name, desc, container=None):
        self.name = name.lower()
        self.desc = desc
        self.container = container.lower() if container else None
        self.full_name = "%s|%s" % (self.container, self.name) if container else self.name
        self.group = desc["group"]
        self.subcommands = []
        self.flags = checked(desc.get("command_flags", []), COMMAND_FLAGS, "command flag", self.full_name)
        self.acl = checked(desc.get("acl_categories", []), ACL_CATEGORIES, "ACL category", self.full_name)
        self.key_specs = [KeySpec(ks, self.full_name) for ks in desc.get("key_specs", [])]
        getkeys = desc.get("get_keys_function")
        if getkeys and getkeys not in GETKEYS:
            fail("unknown get_keys_function %r in %s" % (getkeys, self.full_name))
        self.getkeys = GETKEYS[getkeys] if getkeys else None

    def derive(self):
        """What Redis's populateCommandStructure adds at startup."""
        self.acl = implicit_acl_categories(self.flags, self.acl)
        movable, self.legacy_range = legacy_range(self.key_specs)
        if movable and "MOVABLE_KEYS" not in self.flags:
            self.flags.append("MOVABLE_KEYS")
        for sub in self.subcommands:
            sub.derive()


class KeySpec:
    def __init__(self, spec, where):
        self.notes = optional(spec, "notes")
        self.flags = checked(spec.get("flags", []), KEY_SPEC_FLAGS, "key spec flag", where)
        bs = spec["begin_search"]
        if bs.get("index"):
            self.bs = ("index", bs["index"]["pos"])
        elif bs.get("keyword"):
            self.bs = ("keyword", bs["keyword"]["keyword"], bs["keyword"]["startfrom"])
        elif "unknown" in bs:
            self.bs = ("unknown",)
        else:
            fail("invalid begin_search in %s: %r" % (where, bs))
        fk = spec["find_keys"]
        if fk.get("range"):
            r = fk["range"]
            self.fk = ("range", r["lastkey"], r["step"], r["limit"])
        elif fk.get("keynum"):
            k = fk["keynum"]
            self.fk = ("keynum", k["keynumidx"], k["firstkey"], k["step"])
        elif "unknown" in fk:
            self.fk = ("unknown",)
        else:
            fail("invalid find_keys in %s: %r" % (where, fk))

    def is_index_range(self):
        return self.bs[0] == "index" and self.fk[0] == "range"


def implicit_acl_categories(flags, acl):
    """setImplicitACLCategories."""
    acl = list(acl)

    def add(cat):
        if cat not in acl:
            acl.append(cat)

    if "WRITE" in flags:
        add("WRITE")
    # Scripting commands are left out of @read.
    if "READONLY" in flags and "SCRIPTING" not in acl:
        add("READ")
    if "ADMIN" in flags:
        add("ADMIN")
        add("DANGEROUS")
    if "PUBSUB" in flags:
        add("PUBSUB")
    if "FAST" in flags:
        add("FAST")
    if "BLOCKING" in flags:
        add("BLOCKING")
    if "FAST" not in acl:
        add("SLOW")
    return acl


def legacy_range(specs):
    """populateCommandLegacyRangeSpec, returning (movable, (first, last, step))
    with last already absolute, as addReplyCommandInfo prints it."""
    if not specs:
        return False, (0, 0, 0)
    if len(specs) == 1 and specs[0].is_index_range():
        ks = specs[0]
        return "INCOMPLETE" in ks.flags, printed_range(ks.bs[1], ks.fk[1], ks.fk[2])
    movable = False
    first, last, prev_last = INT_MAX, 0, 0
    for ks in specs:
        if not ks.is_index_range():
            movable = True
            continue
        pos, lastkey, step = ks.bs[1], ks.fk[1], ks.fk[2]
        if step != 1 or (prev_last and prev_last != pos - 1):
            movable = True
            continue
        if "INCOMPLETE" in ks.flags:
            movable = True
        first = min(first, pos)
        abs_last = lastkey + pos if lastkey >= 0 else lastkey
        # Redis compares as unsigned so that a negative (from the end)
        # lastkey wins over any positive one.
        last = max(last, abs_last, key=lambda v: v % 2**32)
        prev_last = last
    if first == INT_MAX:
        return True, (0, 0, 0)
    relative_last = last if last < 0 else last - first
    return movable, printed_range(first, relative_last, 1)


def printed_range(first, lastkey, step):
    return (first, lastkey + first if lastkey >= 0 else lastkey, step)


def load(commands_dir, extra_dir):
    commands, subcommands = {}, {}
    files = sorted(glob.glob(os.path.join(commands_dir, "*.json")))
    if not files:
        fail("no JSON files in %s" % commands_dir)
    files += sorted(glob.glob(os.path.join(extra_dir, "*.json")))
    for path in files:
        with open(path, encoding="utf-8") as f:
            for name, desc in json.load(f).items():
                container = desc.get("container")
                if container:
                    subcommands.setdefault(container.lower(), []).append(Command(name, desc, container))
                else:
                    commands[name.lower()] = Command(name, desc)
    for container, subs in subcommands.items():
        if container not in commands:
            fail("subcommands of unknown container %s" % container)
        parent = commands[container]
        for sub in subs:
            sub.group = parent.group
        parent.subcommands = sorted(subs, key=lambda c: c.name)
    table = sorted(commands.values(), key=lambda c: c.name)
    for cmd in table:
        cmd.derive()
    return table, len(files)


# ---------------------------------------------------------------- output


def as_compiled_by_c(s):
    """The text Redis ends up with for a JSON string.

    Redis's generator pastes JSON text between double quotes in commands.c
    without escaping, so the C compiler has the last word: an embedded
    quote splits the text into adjacent literals, which C concatenates.
    MIGRATE's empty-string token, JSON "\"\"", thus becomes "" and COMMAND
    DOCS prints an empty token. Backslashes would be C escapes; none occur,
    so refuse them rather than guess.
    """
    if "\\" in s:
        fail("backslash in %r: C escapes are not emulated" % s)
    pieces = ('"%s"' % s).split('"')
    # pieces: '', literal, between, literal, ..., ''
    literals, between = pieces[1::2], pieces[2:-1:2]
    if any(b.strip() for b in between):
        fail("%r does not compile to a C string literal" % s)
    return "".join(literals)


def rust_str(s):
    s = as_compiled_by_c(s)
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"%s"' % "".join(out)


def rust_opt_str(s):
    return "Some(%s)" % rust_str(s) if s is not None else "None"


def rust_flags(ty, names):
    if not names:
        return "%s::empty()" % ty
    expr = "%s::%s" % (ty, names[0])
    for n in names[1:]:
        expr += ".union(%s::%s)" % (ty, n)
    return expr


def in_bit_order(names, order):
    return [n for n in order if n in names]


# Bit order of each set, so the generated expressions read like replies.
CMD_FLAG_ORDER = [
    "WRITE", "READONLY", "DENYOOM", "MODULE", "ADMIN", "PUBSUB", "NOSCRIPT",
    "BLOCKING", "LOADING", "STALE", "SKIP_MONITOR", "SKIP_SLOWLOG", "ASKING",
    "FAST", "NO_AUTH", "MAY_REPLICATE", "SENTINEL", "ONLY_SENTINEL",
    "NO_MANDATORY_KEYS", "PROTECTED", "MODULE_GETKEYS", "MODULE_NO_CLUSTER",
    "NO_ASYNC_LOADING", "NO_MULTI", "MOVABLE_KEYS", "ALLOW_BUSY",
    "MODULE_GETCHANNELS", "TOUCHES_ARBITRARY_KEYS",
]
ACL_ORDER = [
    "KEYSPACE", "READ", "WRITE", "SET", "SORTEDSET", "LIST", "HASH", "STRING",
    "BITMAP", "HYPERLOGLOG", "GEO", "STREAM", "PUBSUB", "ADMIN", "FAST",
    "SLOW", "BLOCKING", "DANGEROUS", "CONNECTION", "TRANSACTION", "SCRIPTING",
]
KEY_SPEC_ORDER = [
    "RO", "RW", "OW", "RM", "ACCESS", "UPDATE", "INSERT", "DELETE", "NOT_KEY",
    "INCOMPLETE", "VARIABLE_FLAGS",
]


class Writer:
    def __init__(self):
        self.lines = []

    def line(self, depth, text):
        self.lines.append("    " * depth + text)


def write_key_spec(w, d, ks):
    w.line(d, "KeySpec {")
    w.line(d + 1, "notes: %s," % rust_opt_str(ks.notes))
    w.line(d + 1, "flags: %s," % rust_flags("KeySpecFlags", in_bit_order(ks.flags, KEY_SPEC_ORDER)))
    if ks.bs[0] == "index":
        bs = "BeginSearch::Index(%d)" % ks.bs[1]
    elif ks.bs[0] == "keyword":
        bs = "BeginSearch::Keyword { keyword: %s, startfrom: %d }" % (rust_str(ks.bs[1]), ks.bs[2])
    else:
        bs = "BeginSearch::Unknown"
    if ks.fk[0] == "range":
        fk = "FindKeys::Range { lastkey: %d, keystep: %d, limit: %d }" % ks.fk[1:]
    elif ks.fk[0] == "keynum":
        fk = "FindKeys::Keynum { keynumidx: %d, firstkey: %d, keystep: %d }" % ks.fk[1:]
    else:
        fk = "FindKeys::Unknown"
    w.line(d + 1, "begin_search: %s," % bs)
    w.line(d + 1, "find_keys: %s," % fk)
    w.line(d, "},")


def write_arg(w, d, desc):
    """One Arg literal; fields Redis 7.0 never sets come from `..ARG`."""
    fields = [
        "name: %s" % rust_str(desc["name"].lower()),
        "kind: ArgType::%s" % ARG_TYPES[desc["type"]],
    ]
    if "display_text" in desc:
        fields.append("display_text: %s" % rust_opt_str(optional(desc, "display_text")))
    if "key_spec_index" in desc:
        fields.append("key_spec_index: Some(%d)" % desc["key_spec_index"])
    token = optional(desc, "token")
    if token:
        fields.append("token: Some(%s)" % rust_str(token.upper()))
    for field in ("summary", "since"):
        if optional(desc, field):
            fields.append("%s: Some(%s)" % (field, rust_str(desc[field])))
    # Redis's generator keeps deprecated_since even when empty.
    if "deprecated_since" in desc:
        fields.append("deprecated_since: Some(%s)" % rust_str(desc["deprecated_since"]))
    flags = [f for f, key in (("OPTIONAL", "optional"), ("MULTIPLE", "multiple"),
                              ("MULTIPLE_TOKEN", "multiple_token")) if desc.get(key)]
    if flags:
        fields.append("flags: %s" % rust_flags("ArgFlags", flags))
    if "value" in desc:
        fields.append("value: %s" % rust_opt_str(optional(desc, "value")))
    subargs = desc.get("arguments", []) if desc["type"] in ("oneof", "block") else []
    if not subargs:
        w.line(d, "Arg { %s, ..ARG }," % ", ".join(fields))
        return
    w.line(d, "Arg {")
    for f in fields:
        w.line(d + 1, f + ",")
    write_args(w, d + 1, "subargs", subargs)
    w.line(d + 1, "..ARG")
    w.line(d, "},")


def write_args(w, d, field, args):
    if not args:
        w.line(d, "%s: &[]," % field)
        return
    w.line(d, "%s: &[" % field)
    for a in args:
        write_arg(w, d + 1, a)
    w.line(d, "],")


def write_command(w, d, cmd):
    desc = cmd.desc
    first, last, step = cmd.legacy_range
    w.line(d, "CommandSpec {")
    w.line(d + 1, "name: %s," % rust_str(cmd.name))
    w.line(d + 1, "full_name: %s," % rust_str(cmd.full_name))
    w.line(d + 1, "container: %s," % rust_opt_str(cmd.container))
    w.line(d + 1, "arity: %d," % desc["arity"])
    w.line(d + 1, "flags: %s," % rust_flags("CmdFlags", in_bit_order(cmd.flags, CMD_FLAG_ORDER)))
    w.line(d + 1, "acl_categories: %s," % rust_flags("AclCategories", in_bit_order(cmd.acl, ACL_ORDER)))
    if cmd.key_specs:
        w.line(d + 1, "key_specs: &[")
        for ks in cmd.key_specs:
            write_key_spec(w, d + 2, ks)
        w.line(d + 1, "],")
    else:
        w.line(d + 1, "key_specs: &[],")
    w.line(d + 1, "first_key: %d, last_key: %d, key_step: %d," % (first, last, step))
    tips = [t.lower() for t in desc.get("command_tips", [])]
    w.line(d + 1, "tips: &[%s]," % ", ".join(rust_str(t) for t in tips))
    w.line(d + 1, "getkeys: %s," % ("Some(GetKeys::%s)" % cmd.getkeys if cmd.getkeys else "None"))
    w.line(d + 1, "doc: Docs {")
    for field in ("summary", "since"):
        w.line(d + 2, "%s: %s," % (field, rust_opt_str(optional(desc, field))))
    if cmd.group not in GROUPS:
        fail("unknown group %r in %s" % (cmd.group, cmd.full_name))
    w.line(d + 2, "group: %s," % rust_str(GROUPS[cmd.group]))
    for field in ("complexity", "deprecated_since", "replaced_by"):
        w.line(d + 2, "%s: %s," % (field, rust_opt_str(optional(desc, field))))
    doc_flags = checked(desc.get("doc_flags", []), DOC_FLAGS, "doc flag", cmd.full_name)
    w.line(d + 2, "doc_flags: %s," % rust_flags("DocFlags", doc_flags))
    history = desc.get("history") or []
    if history:
        w.line(d + 2, "history: &[")
        for since, change in history:
            w.line(d + 3, "(%s, %s)," % (rust_str(since), rust_str(change)))
        w.line(d + 2, "],")
    else:
        w.line(d + 2, "history: &[],")
    write_args(w, d + 2, "arguments", desc.get("arguments", []))
    w.line(d + 1, "},")
    if cmd.subcommands:
        w.line(d + 1, "subcommands: &[")
        for sub in cmd.subcommands:
            write_command(w, d + 2, sub)
        w.line(d + 1, "],")
    else:
        w.line(d + 1, "subcommands: &[],")
    w.line(d, "},")


HEADER = """\
// @generated by proto/gen/command_table.py from the {files} JSON files of
// Redis {version}'s src/commands: do not edit. To regenerate:
//
//     python3 proto/gen/command_table.py <redis>/src/commands
//
// Flags (with the derived MOVABLE_KEYS), ACL categories (with the implicit
// ones) and the legacy key range are final: the generator applies what
// Redis computes at startup.

use super::{{
    AclCategories, Arg, ArgFlags, ArgType, BeginSearch, CmdFlags, CommandSpec, DocFlags, Docs,
    FindKeys, GetKeys, KeySpec, KeySpecFlags,
}};

/// The defaults of the argument fields most arguments leave unset.
const ARG: Arg = Arg {{
    name: "",
    kind: ArgType::String,
    display_text: None,
    key_spec_index: None,
    token: None,
    summary: None,
    since: None,
    deprecated_since: None,
    flags: ArgFlags::empty(),
    value: None,
    subargs: &[],
}};

/// Every top-level command, sorted by name.
pub(super) static COMMANDS: &[CommandSpec] = &[
"""


def redis_version(commands_dir):
    """The version from the source tree's src/version.h, if there is one."""
    path = os.path.join(commands_dir, os.pardir, "version.h")
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "REDIS_VERSION" in line and '"' in line:
                    return line.split('"')[1]
    except OSError:
        pass
    return "7.0"


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: command_table.py <redis>/src/commands [output.rs]")
    commands_dir = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, os.pardir, "src", "command_table", "generated.rs")
    out_path = sys.argv[2] if len(sys.argv) == 3 else default_out
    table, files = load(commands_dir, os.path.join(here, "extra-commands"))
    w = Writer()
    for cmd in table:
        write_command(w, 1, cmd)
    text = HEADER.format(files=files, version=redis_version(commands_dir))
    text += "\n".join(w.lines) + "\n];\n"
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %d commands (%d JSON files) to %s" % (len(table), files, os.path.normpath(out_path)))


if __name__ == "__main__":
    main()
