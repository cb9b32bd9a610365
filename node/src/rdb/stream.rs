//! Streams in RDB form (`RDB_TYPE_STREAM_LISTPACKS_2`, and reading the
//! older `RDB_TYPE_STREAM_LISTPACKS`): each block as the listpack Redis
//! keeps per radix-tree node, keyed by its master ID, then the stream's
//! counters and its consumer groups.
//!
//! A node's listpack is: the master entry `count deleted nfields field...
//! 0`, then per entry `flags ms-delta seq-delta [nfields] [field] value...
//! lp-count`, where the deltas are from the master ID and `nfields` and the
//! field names are left out when the entry has the master fields.
//!
//! Reading treats every byte as hostile: IDs must rise, counts must match,
//! pending entries must belong to a consumer; anything else is
//! [`RdbError::BadStream`].

use std::collections::BTreeSet;

use super::encoding::{self, Reader};
use super::RdbError;
use crate::listpack::{Listpack, LpValue};
use crate::stream::block::{DELETED, SAME_FIELDS};
use crate::stream::{Consumer, Group, Nack, Stream, StreamId};

fn bad(why: &'static str) -> RdbError {
    RdbError::BadStream(why)
}

/// The body of a stream value.
pub fn write(out: &mut Vec<u8>, s: &Stream, compress: bool) {
    encoding::write_len(out, s.block_count() as u64);
    for (master, block) in s.blocks() {
        encoding::write_string(out, &master.to_be_bytes(), compress);
        let names = block.master_field_names();
        let mut ints: Vec<Vec<u8>> = Vec::new();
        // Numbers are formatted first, then borrowed by the builder.
        let int = |ints: &mut Vec<Vec<u8>>, n: i64| ints.push(itoa::Buffer::new().format(n).as_bytes().to_vec());
        // Element plan: Ok(index into ints) or Err(borrowed bytes).
        let mut plan: Vec<Result<usize, &[u8]>> = Vec::new();
        let push_int = |ints: &mut Vec<Vec<u8>>, plan: &mut Vec<Result<usize, &[u8]>>, n: i64| {
            int(ints, n);
            plan.push(Ok(ints.len() - 1));
        };
        push_int(&mut ints, &mut plan, block.live as i64);
        push_int(&mut ints, &mut plan, block.deleted as i64);
        push_int(&mut ints, &mut plan, names.len() as i64);
        for n in &names {
            plan.push(Err(n));
        }
        push_int(&mut ints, &mut plan, 0);
        for (e, deleted) in s.block_entries(master, block) {
            let n = e.field_count();
            let same = n == names.len() && e.fields().zip(names.iter()).all(|((f, _), m)| f == *m);
            let flags = (if deleted { DELETED } else { 0 }) | (if same { SAME_FIELDS } else { 0 });
            push_int(&mut ints, &mut plan, flags as i64);
            push_int(&mut ints, &mut plan, e.id.ms.wrapping_sub(master.ms) as i64);
            push_int(&mut ints, &mut plan, e.id.seq.wrapping_sub(master.seq) as i64);
            if !same {
                push_int(&mut ints, &mut plan, n as i64);
            }
            for (f, v) in e.fields() {
                if !same {
                    plan.push(Err(f));
                }
                plan.push(Err(v));
            }
            // The elements since the flags: three fixed, the values, and without
            // the master fields the count and the field names.
            push_int(&mut ints, &mut plan, if same { n as i64 + 3 } else { 2 * n as i64 + 4 });
        }
        let lp = Listpack::build(plan.iter().map(|p| match p {
            Ok(i) => ints[*i].as_slice(),
            Err(b) => *b,
        }));
        encoding::write_string(out, lp.as_bytes(), compress);
    }
    encoding::write_len(out, s.length);
    encoding::write_len(out, s.last_id.ms);
    encoding::write_len(out, s.last_id.seq);
    encoding::write_len(out, s.first_id.ms);
    encoding::write_len(out, s.first_id.seq);
    encoding::write_len(out, s.max_deleted_id.ms);
    encoding::write_len(out, s.max_deleted_id.seq);
    encoding::write_len(out, s.entries_added);
    encoding::write_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        encoding::write_string(out, name, compress);
        encoding::write_len(out, g.last_id.ms);
        encoding::write_len(out, g.last_id.seq);
        // Unknown is -1 as Redis's long long, written as an unsigned length.
        encoding::write_len(out, g.entries_read.unwrap_or(u64::MAX));
        encoding::write_len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            encoding::write_len(out, nack.delivery_count);
        }
        encoding::write_len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            encoding::write_string(out, cname, compress);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            encoding::write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

/// An integer element of a stream listpack.
fn int_at(v: Option<LpValue<'_>>) -> Result<i64, RdbError> {
    match v {
        Some(LpValue::Int(n)) => Ok(n),
        Some(LpValue::Str(s)) => corvid_proto::resp::parse_i64(s).ok_or(bad("a number element is not a number")),
        None => Err(bad("a node listpack ends early")),
    }
}

fn bytes_at(v: Option<LpValue<'_>>) -> Result<Vec<u8>, RdbError> {
    v.map(LpValue::to_bytes).ok_or(bad("a node listpack ends early"))
}

/// Decoded entries of one node: `(id, deleted, [field, value, ...])`.
type NodeEntries = Vec<(StreamId, bool, Vec<Vec<u8>>)>;

/// Decode one node's listpack, checking it against itself.
fn read_node(master: StreamId, lp: &Listpack) -> Result<(NodeEntries, Vec<Vec<u8>>), RdbError> {
    let mut it = lp.iter();
    let live = int_at(it.next())?;
    let deleted = int_at(it.next())?;
    let nfields = int_at(it.next())?;
    if live < 0 || deleted < 0 || !(0..=lp.len() as i64).contains(&nfields) {
        return Err(bad("a master entry's counts are out of range"));
    }
    let mut names = Vec::with_capacity(nfields as usize);
    for _ in 0..nfields {
        names.push(bytes_at(it.next())?);
    }
    if int_at(it.next())? != 0 {
        return Err(bad("a master entry lacks its terminator"));
    }
    let mut entries: NodeEntries = Vec::new();
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    while let Some(first) = it.next() {
        let flags = int_at(Some(first))?;
        let ms = master.ms.wrapping_add(int_at(it.next())? as u64);
        let seq = master.seq.wrapping_add(int_at(it.next())? as u64);
        let id = StreamId::new(ms, seq);
        if entries.last().map_or(id < master, |(last, _, _)| id <= *last) {
            return Err(bad("entry IDs of a node do not rise"));
        }
        let same = flags & SAME_FIELDS as i64 != 0;
        let n = if same { nfields } else { int_at(it.next())? };
        if n < 0 || n > lp.len() as i64 {
            return Err(bad("an entry's field count is out of range"));
        }
        let mut fields = Vec::with_capacity(2 * n as usize);
        for i in 0..n as usize {
            fields.push(if same { names[i].clone() } else { bytes_at(it.next())? });
            fields.push(bytes_at(it.next())?);
        }
        let lp_count = int_at(it.next())?;
        if lp_count != if same { n + 3 } else { 2 * n + 4 } {
            return Err(bad("an entry's lp-count does not match it"));
        }
        let is_deleted = flags & DELETED as i64 != 0;
        if is_deleted {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
        entries.push((id, is_deleted, fields));
    }
    if seen_live != live || seen_deleted != deleted {
        return Err(bad("a master entry's counts do not match its entries"));
    }
    Ok((entries, names))
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId, RdbError> {
    Ok(StreamId::new(r.read_len()?, r.read_len()?))
}

fn read_raw_id(r: &mut Reader<'_>) -> Result<StreamId, RdbError> {
    Ok(StreamId::from_be_bytes(r.read_bytes(16)?).expect("16 bytes"))
}

/// The body of a stream value; `v2` for RDB_TYPE_STREAM_LISTPACKS_2.
pub fn read(r: &mut Reader<'_>, v2: bool) -> Result<Stream, RdbError> {
    let mut s = Stream::new();
    let nodes = r.read_len()?;
    let mut last_seen: Option<StreamId> = None;
    let mut counted = 0u64;
    for _ in 0..nodes {
        let key = r.read_string()?;
        let master = StreamId::from_be_bytes(&key).ok_or(bad("a node key is not 16 bytes"))?;
        let lp = Listpack::from_bytes(r.read_string()?).map_err(RdbError::BadStreamListpack)?;
        if lp.is_empty() {
            return Err(bad("an empty node listpack"));
        }
        let (entries, names) = read_node(master, &lp)?;
        if entries.is_empty() || entries[0].0 != master {
            return Err(bad("a node's first entry is not its master ID"));
        }
        if last_seen.is_some_and(|l| master <= l) {
            return Err(bad("nodes are out of order"));
        }
        last_seen = entries.last().map(|e| e.0);
        counted += entries.iter().filter(|e| !e.1).count() as u64;
        s.push_loaded_block(&entries, &names);
    }
    s.length = r.read_len()?;
    if s.length != counted {
        return Err(bad("the stream length does not match its entries"));
    }
    s.last_id = read_id(r)?;
    if last_seen.is_some_and(|l| l > s.last_id) {
        return Err(bad("an entry is past the last ID"));
    }
    if v2 {
        s.first_id = read_id(r)?;
        s.max_deleted_id = read_id(r)?;
        s.entries_added = r.read_len()?;
    } else {
        // Older files: the first entry, and as many added as there are.
        s.first_id = if s.length > 0 { s.edge_id(true) } else { StreamId::MIN };
        s.entries_added = s.length;
    }
    let ngroups = r.read_len()?;
    for _ in 0..ngroups {
        let name = r.read_string()?;
        let last_id = read_id(r)?;
        let entries_read = if v2 {
            match r.read_len()? {
                u64::MAX => None,
                n => Some(n),
            }
        } else {
            s.estimate_distance(last_id)
        };
        let mut g = Group::new(last_id, entries_read);
        let npel = r.read_len()?;
        for _ in 0..npel {
            let id = read_raw_id(r)?;
            let delivery_time = i64::from_le_bytes(r.read_array()?);
            let delivery_count = r.read_len()?;
            if g.pel.insert(id, Nack { delivery_time, delivery_count, consumer: Vec::new() }).is_some() {
                return Err(bad("Duplicated global PEL entry loading stream consumer group"));
            }
        }
        let nconsumers = r.read_len()?;
        let mut owned = BTreeSet::new();
        for _ in 0..nconsumers {
            let cname = r.read_string()?;
            let seen_time = i64::from_le_bytes(r.read_array()?);
            let n = r.read_len()?;
            let mut pel = BTreeSet::new();
            for _ in 0..n {
                let id = read_raw_id(r)?;
                let nack = g.pel.get_mut(&id).ok_or(bad("a consumer's pending entry is not in its group's"))?;
                if !owned.insert(id) {
                    return Err(bad("a pending entry has two owners"));
                }
                pel.insert(id);
                nack.consumer = cname.clone();
            }
            if g.consumers.insert(cname, Consumer { seen_time, pel }).is_some() {
                return Err(bad("Duplicate stream consumer detected"));
            }
        }
        if owned.len() != g.pel.len() {
            return Err(bad("a pending entry has no consumer"));
        }
        if s.groups.insert(name, g).is_some() {
            return Err(bad("Duplicated consumer group name"));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::NodeLimits;

    #[test]
    fn round_trips_entries_tombstones_and_groups() {
        let limits = NodeLimits { max_bytes: 4096, max_entries: 2 };
        let mut s = Stream::new();
        for i in 1..=5u64 {
            let f: Vec<&[u8]> = if i == 3 { vec![b"other", b"x"] } else { vec![b"f", b"v", b"n", b"12"] };
            s.append(Some((StreamId::new(i, 0), true)), &f, 0, limits).unwrap();
        }
        s.delete(StreamId::new(4, 0));
        s.max_deleted_id = StreamId::new(4, 0);
        let mut g = Group::new(StreamId::new(2, 0), Some(2));
        g.create_consumer(b"alice", 77);
        g.deliver(StreamId::new(1, 0), b"alice", 99);
        s.groups.insert(b"g".to_vec(), g);
        let mut out = Vec::new();
        write(&mut out, &s, false);
        let back = read(&mut Reader::new(&out), true).unwrap();
        assert_eq!(back, s);
        // A byte flipped anywhere gives an error or a stream, never a panic.
        for i in 0..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x5a;
            let _ = read(&mut Reader::new(&bad), true);
        }
    }
}
