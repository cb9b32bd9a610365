//! The entries of `COMMAND`, `COMMAND INFO` and `COMMAND DOCS`, byte for
//! byte as Redis 7.0.15's `addReplyCommandInfo` and `addReplyCommandDocs`
//! write them, in RESP2 and RESP3.
//!
//! Redis's choice of reply types is irregular, and clients see it in RESP3,
//! so it is kept exactly: command flags, ACL categories, key-spec flags, doc
//! flags and argument flags are sets of *status* strings; names, tips and
//! every other text are bulk strings; tips, key specs and history are sets;
//! arguments are an array. The subcommands of `COMMAND INFO` are an array,
//! but an empty *set* when there are none.
//!
//! Redis lists subcommands in the iteration order of a randomly seeded
//! dict, so no order is "the" order; we list them by name.

use super::{AclCategories, Arg, BeginSearch, CmdFlags, CommandSpec, FindKeys, KeySpec};
use crate::resp::Reply;

/// One command's `COMMAND INFO` entry: the 10-element array of name, arity,
/// flags, first key, last key, key step, ACL categories, tips, key specs and
/// subcommands (each a nested entry).
pub fn write_info(out: &mut Reply, spec: &CommandSpec) {
    write_info_of(out, spec, &|_| true);
}

/// [`write_info`] listing only the subcommands `include` accepts: a server
/// describes the subcommands it implements, not every one Redis has.
pub fn write_info_of(out: &mut Reply, spec: &CommandSpec, include: &dyn Fn(&CommandSpec) -> bool) {
    out.array(10);
    out.bulk(spec.full_name.as_bytes());
    out.int(spec.arity as i64);
    write_cmd_flags(out, spec.flags);
    out.int(spec.first_key as i64);
    out.int(spec.last_key as i64);
    out.int(spec.key_step as i64);
    write_categories(out, spec.acl_categories);
    out.set(spec.tips.len());
    for tip in spec.tips {
        out.bulk(tip.as_bytes());
    }
    out.set(spec.key_specs.len());
    for ks in spec.key_specs {
        write_key_spec(out, ks);
    }
    let subs = spec.subcommands.iter().filter(|s| include(s));
    match subs.clone().count() {
        0 => out.set(0),
        n => {
            out.array(n);
            for sub in subs {
                write_info_of(out, sub, include);
            }
        }
    }
}

/// One command's `COMMAND DOCS` map, *without* its name: `COMMAND DOCS`
/// replies with a map of full name to this map, so the caller writes the
/// map header and, for each command, `out.bulk(spec.full_name.as_bytes())`
/// then `write_docs(out, spec)`. Subcommands are nested the same way
/// (under "subcommands", keyed by full name), which this function writes.
pub fn write_docs(out: &mut Reply, spec: &CommandSpec) {
    write_docs_of(out, spec, &|_| true);
}

/// [`write_docs`] listing only the subcommands `include` accepts.
pub fn write_docs_of(out: &mut Reply, spec: &CommandSpec, include: &dyn Fn(&CommandSpec) -> bool) {
    let doc = &spec.doc;
    let subs = spec.subcommands.iter().filter(|s| include(s));
    let sub_count = subs.clone().count();
    let fields = 1
        + doc.summary.is_some() as usize
        + doc.since.is_some() as usize
        + doc.complexity.is_some() as usize
        + !doc.doc_flags.is_empty() as usize
        + doc.deprecated_since.is_some() as usize
        + doc.replaced_by.is_some() as usize
        + !doc.history.is_empty() as usize
        + !doc.arguments.is_empty() as usize
        + (sub_count > 0) as usize;
    out.map(fields);
    bulk_field(out, "summary", doc.summary);
    bulk_field(out, "since", doc.since);
    bulk_field(out, "group", Some(doc.group));
    bulk_field(out, "complexity", doc.complexity);
    // Redis adds "module" here for module commands; Corvid has none.
    if !doc.doc_flags.is_empty() {
        out.bulk(b"doc_flags");
        write_status_set(out, doc.doc_flags.names());
    }
    bulk_field(out, "deprecated_since", doc.deprecated_since);
    bulk_field(out, "replaced_by", doc.replaced_by);
    if !doc.history.is_empty() {
        out.bulk(b"history");
        out.set(doc.history.len());
        for (version, change) in doc.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(change.as_bytes());
        }
    }
    if !doc.arguments.is_empty() {
        out.bulk(b"arguments");
        write_args(out, doc.arguments);
    }
    if sub_count > 0 {
        out.bulk(b"subcommands");
        out.map(sub_count);
        for sub in subs {
            out.bulk(sub.full_name.as_bytes());
            write_docs_of(out, sub, include);
        }
    }
}

fn write_cmd_flags(out: &mut Reply, flags: CmdFlags) {
    write_status_set(out, flags.names());
}

/// A set of status replies, as Redis's `addReplyCommandFlags`.
fn write_status_set<'a>(out: &mut Reply, names: impl Iterator<Item = &'a str> + Clone) {
    out.set(names.clone().count());
    for name in names {
        out.simple(name.as_bytes());
    }
}

/// Categories are statuses with a leading '@'.
fn write_categories(out: &mut Reply, categories: AclCategories) {
    out.set(categories.names().count());
    for name in categories.names() {
        out.raw(b"+@");
        out.raw(name.as_bytes());
        out.raw(b"\r\n");
    }
}

fn write_key_spec(out: &mut Reply, ks: &KeySpec) {
    out.map(3 + ks.notes.is_some() as usize);
    bulk_field(out, "notes", ks.notes);
    out.bulk(b"flags");
    write_status_set(out, ks.flags.names());
    out.bulk(b"begin_search");
    out.map(2);
    match ks.begin_search {
        BeginSearch::Index(pos) => {
            type_field(out, "index");
            out.map(1);
            int_field(out, "index", pos);
        }
        BeginSearch::Keyword { keyword, startfrom } => {
            type_field(out, "keyword");
            out.map(2);
            bulk_field(out, "keyword", Some(keyword));
            int_field(out, "startfrom", startfrom);
        }
        BeginSearch::Unknown => {
            type_field(out, "unknown");
            out.map(0);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    match ks.find_keys {
        FindKeys::Range { lastkey, keystep, limit } => {
            type_field(out, "range");
            out.map(3);
            int_field(out, "lastkey", lastkey);
            int_field(out, "keystep", keystep);
            int_field(out, "limit", limit);
        }
        FindKeys::Keynum { keynumidx, firstkey, keystep } => {
            type_field(out, "keynum");
            out.map(3);
            int_field(out, "keynumidx", keynumidx);
            int_field(out, "firstkey", firstkey);
            int_field(out, "keystep", keystep);
        }
        FindKeys::Unknown => {
            type_field(out, "unknown");
            out.map(0);
        }
    }
}

/// `type` then the key of the `spec` map that follows it.
fn type_field(out: &mut Reply, kind: &str) {
    bulk_field(out, "type", Some(kind));
    out.bulk(b"spec");
}

/// The argument list of COMMAND DOCS: an array of maps, recursive for
/// `oneof` and `block`.
fn write_args(out: &mut Reply, args: &[Arg]) {
    out.array(args.len());
    for arg in args {
        let nested = matches!(arg.kind, super::ArgType::Oneof | super::ArgType::Block);
        let fields = 2
            + arg.key_spec_index.is_some() as usize
            + arg.token.is_some() as usize
            + arg.summary.is_some() as usize
            + arg.since.is_some() as usize
            + arg.deprecated_since.is_some() as usize
            + !arg.flags.is_empty() as usize
            + nested as usize;
        out.map(fields);
        bulk_field(out, "name", Some(arg.name));
        bulk_field(out, "type", Some(arg.kind.as_str()));
        if let Some(index) = arg.key_spec_index {
            out.bulk(b"key_spec_index");
            out.int(index as i64);
        }
        bulk_field(out, "token", arg.token);
        bulk_field(out, "summary", arg.summary);
        bulk_field(out, "since", arg.since);
        bulk_field(out, "deprecated_since", arg.deprecated_since);
        if !arg.flags.is_empty() {
            out.bulk(b"flags");
            write_status_set(out, arg.flags.names());
        }
        if nested {
            out.bulk(b"arguments");
            write_args(out, arg.subargs);
        }
    }
}

/// A map entry with a bulk-string value, left out when there is no value.
fn bulk_field(out: &mut Reply, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.bulk(key.as_bytes());
        out.bulk(value.as_bytes());
    }
}

fn int_field(out: &mut Reply, key: &str, value: i32) {
    out.bulk(key.as_bytes());
    out.int(value as i64);
}

#[cfg(test)]
mod tests {
    //! The fixtures are a Redis 7.0.15 server's own replies, captured with
    //! `proto/gen/capture_command_replies.py`.

    use super::super::{all, lookup, lookup_subcommand};
    use super::*;

    /// The commands of the `info.resp*` and `docs.resp*` fixtures.
    const SAMPLE: [&str; 6] = ["get", "set", "config", "config|get", "xread", "zadd"];

    fn spec(full_name: &str) -> &'static CommandSpec {
        let mut parts = full_name.split('|');
        let top = lookup(parts.next().unwrap().as_bytes()).unwrap_or_else(|| panic!("{full_name}"));
        match parts.next() {
            Some(sub) => lookup_subcommand(top, sub.as_bytes()).unwrap_or_else(|| panic!("{full_name}")),
            None => top,
        }
    }

    /// Whether Redis 7.0 has the command: the table also holds what Corvid
    /// took from later versions (proto/gen/extra-commands), which the
    /// fixtures captured from 7.0.15 cannot know.
    fn in_redis_7_0(spec: &CommandSpec) -> bool {
        spec.doc.since.is_none_or(|v| v < "7.1")
    }

    fn info(spec: &CommandSpec, resp3: bool) -> Vec<u8> {
        let mut out = Reply::new(resp3);
        write_info_of(&mut out, spec, &in_redis_7_0);
        out.buf
    }

    fn docs(spec: &CommandSpec, resp3: bool) -> Vec<u8> {
        let mut out = Reply::new(resp3);
        write_docs_of(&mut out, spec, &in_redis_7_0);
        out.buf
    }

    fn line_end(buf: &[u8], pos: usize) -> usize {
        pos + buf[pos..].windows(2).position(|w| w == b"\r\n").expect("a complete line") + 2
    }

    fn header_count(buf: &[u8], pos: usize) -> usize {
        let end = line_end(buf, pos);
        let n: i64 = std::str::from_utf8(&buf[pos + 1..end - 2]).unwrap().parse().unwrap();
        let n = n.max(0) as usize;
        if matches!(buf[pos], b'%' | b'|') {
            2 * n
        } else {
            n
        }
    }

    /// End of the RESP value at `pos`.
    fn value_end(buf: &[u8], pos: usize) -> usize {
        let end = line_end(buf, pos);
        match buf[pos] {
            b'$' | b'=' | b'!' => {
                let n: i64 = std::str::from_utf8(&buf[pos + 1..end - 2]).unwrap().parse().unwrap();
                if n < 0 {
                    end
                } else {
                    end + n as usize + 2
                }
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => (0..header_count(buf, pos)).fold(end, |p, _| value_end(buf, p)),
            _ => end,
        }
    }

    /// Start offsets of the elements of the aggregate at `pos` (map pairs
    /// flattened).
    fn children(buf: &[u8], pos: usize) -> Vec<usize> {
        let mut p = line_end(buf, pos);
        (0..header_count(buf, pos))
            .map(|_| {
                let start = p;
                p = value_end(buf, p);
                start
            })
            .collect()
    }

    /// Redis lists a container's subcommands in random (dict) order: sort
    /// the subcommand entries of every COMMAND INFO entry in `reply` (an
    /// array of entries) so that replies compare.
    fn sorted_info_reply(reply: &[u8]) -> Vec<u8> {
        let mut out = reply[..line_end(reply, 0)].to_vec();
        for entry in children(reply, 0) {
            let fields = children(reply, entry);
            out.extend_from_slice(&reply[entry..fields[9]]);
            out.extend(sorted_elements(reply, fields[9], 1));
        }
        out
    }

    /// Same for a COMMAND DOCS reply (a map of name to doc map), whose
    /// "subcommands" field is a map.
    fn sorted_docs_reply(reply: &[u8]) -> Vec<u8> {
        let mut out = reply[..line_end(reply, 0)].to_vec();
        let pairs = children(reply, 0);
        for pair in pairs.chunks(2) {
            out.extend_from_slice(&reply[pair[0]..pair[1]]);
            let doc = pair[1];
            let fields = children(reply, doc);
            out.extend_from_slice(&reply[doc..line_end(reply, doc)]);
            for field in fields.chunks(2) {
                out.extend_from_slice(&reply[field[0]..field[1]]);
                if &reply[field[0]..field[1]] == b"$11\r\nsubcommands\r\n" {
                    out.extend(sorted_elements(reply, field[1], 2));
                } else {
                    out.extend_from_slice(&reply[field[1]..value_end(reply, field[1])]);
                }
            }
        }
        out
    }

    /// The aggregate at `pos` with its elements (taken `group` at a time,
    /// 2 for map pairs) in byte order.
    fn sorted_elements(buf: &[u8], pos: usize, group: usize) -> Vec<u8> {
        let starts = children(buf, pos);
        let mut items: Vec<&[u8]> =
            starts.chunks(group).map(|c| &buf[c[0]..value_end(buf, *c.last().unwrap())]).collect();
        items.sort();
        let mut out = buf[pos..line_end(buf, pos)].to_vec();
        items.iter().for_each(|i| out.extend_from_slice(i));
        out
    }

    #[test]
    fn info_matches_redis() {
        for (resp3, fixture) in
            [(false, &include_bytes!("fixtures/info.resp2")[..]), (true, include_bytes!("fixtures/info.resp3"))]
        {
            let mut out = Reply::new(resp3);
            out.array(SAMPLE.len());
            for name in SAMPLE {
                write_info(&mut out, spec(name));
            }
            assert_eq!(
                String::from_utf8_lossy(&sorted_info_reply(&out.buf)),
                String::from_utf8_lossy(&sorted_info_reply(fixture)),
                "COMMAND INFO, resp3: {resp3}"
            );
        }
    }

    #[test]
    fn docs_matches_redis() {
        for (resp3, fixture) in
            [(false, &include_bytes!("fixtures/docs.resp2")[..]), (true, include_bytes!("fixtures/docs.resp3"))]
        {
            let mut out = Reply::new(resp3);
            out.map(SAMPLE.len());
            for name in SAMPLE {
                out.bulk(name.as_bytes());
                write_docs(&mut out, spec(name));
            }
            assert_eq!(
                String::from_utf8_lossy(&sorted_docs_reply(&out.buf)),
                String::from_utf8_lossy(&sorted_docs_reply(fixture)),
                "COMMAND DOCS, resp3: {resp3}"
            );
        }
    }

    #[test]
    fn get_info_bytes() {
        // Spelled out once, so a reader sees the reply types: statuses for
        // flags and categories, sets (RESP3 '~') for flags, categories,
        // tips and key specs, and an empty *set* for no subcommands.
        let resp3 = "*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
                     ~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n\
                     ~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n\
                     $12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n\
                     $9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n\
                     $7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";
        let get = lookup(b"get").unwrap();
        assert_eq!(String::from_utf8(info(get, true)).unwrap(), resp3);
        let resp2 = resp3.replace('~', "*").replace("%3", "*6").replace("%2", "*4").replace("%1", "*2");
        assert_eq!(String::from_utf8(info(get, false)).unwrap(), resp2);
    }

    /// FNV-1a 64, as in the capture script.
    fn fnv1a64(data: &[u8]) -> u64 {
        data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
    }

    /// A container's entry up to its subcommand count (see digests.txt).
    fn stable_info(entry: &[u8]) -> &[u8] {
        let subs = children(entry, 0)[9];
        if header_count(entry, subs) > 0 {
            &entry[..line_end(entry, subs)]
        } else {
            entry
        }
    }

    fn stable_docs(doc: &[u8]) -> &[u8] {
        let fields = children(doc, 0);
        for field in fields.chunks(2) {
            if &doc[field[0]..field[1]] == b"$11\r\nsubcommands\r\n" {
                return &doc[..line_end(doc, field[1])];
            }
        }
        doc
    }

    /// Every command and subcommand of a Redis 7.0.15 server, in both
    /// protocols, against digests of the server's own replies.
    #[test]
    fn every_command_matches_redis_digests() {
        let fixture = include_str!("fixtures/digests.txt");
        let mut checked = 0;
        for line in fixture.lines().filter(|l| !l.starts_with('#')) {
            let mut words = line.split(' ');
            let name = words.next().unwrap();
            let expected: Vec<&str> = words.collect();
            let spec = spec(name);
            let got: Vec<String> = [
                fnv1a64(stable_info(&info(spec, false))),
                fnv1a64(stable_info(&info(spec, true))),
                fnv1a64(stable_docs(&docs(spec, false))),
                fnv1a64(stable_docs(&docs(spec, true))),
            ]
            .iter()
            .map(|d| format!("{d:016x}"))
            .collect();
            assert_eq!(got, expected, "COMMAND INFO/DOCS {name} (info2 info3 docs2 docs3)");
            checked += 1;
        }
        // The fixture lists every command and subcommand of a server.
        let in_server: usize = all()
            .iter()
            .filter(|c| c.available(false) && in_redis_7_0(c))
            .map(|c| 1 + c.subcommands.iter().filter(|s| in_redis_7_0(s)).count())
            .sum();
        assert_eq!(checked, in_server);
    }
}
