//! Client-side caching (CLIENT TRACKING, Redis's tracking.c): which clients
//! may hold which keys in a local cache, the prefixes BCAST clients follow,
//! and the invalidation messages a change sends them.
//!
//! Default mode remembers, for every key a tracking client read, the ids of
//! the clients that read it; the first change to the key sends each of them
//! one invalidation and forgets the key. BCAST mode remembers nothing per
//! read: every change to a key under one of the client's prefixes is
//! collected and sent, per prefix, once the batch of commands is done
//! (trackingBroadcastInvalidationMessages in Redis's beforeSleep). Keys are
//! tracked across databases, as Redis does, and a flush invalidates
//! everything with one null.
//!
//! A message for the client whose command caused it is held until that
//! command's reply is written (tracking_pending_keys), so it never lands in
//! the middle of a reply or a transaction's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use corvid_proto::command_table::{CmdFlags, CommandSpec};
use corvid_proto::resp::{Args, Reply};

use crate::client::ClientId;
use crate::server::Server;

/// The pub/sub channel a RESP2 redirect client receives invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's CLIENT TRACKING state (Redis's CLIENT_TRACKING_* flags);
/// absent while tracking is off.
#[derive(Debug, Default, Clone)]
pub struct ClientTracking {
    /// The client invalidations go to instead (0: this one).
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT), for the next command or
    /// transaction.
    pub caching: bool,
    pub noloop: bool,
    /// The redirect client went away (the `R` flag, `broken_redirect`).
    pub broken_redirect: bool,
    /// BCAST prefixes, sorted as Redis's radix tree lists them.
    pub prefixes: BTreeSet<Vec<u8>>,
}

impl ClientTracking {
    /// What the prefixes cost, as getClientMemoryUsage estimates it: a
    /// pointer-sized share of a radix node per node, about two nodes per
    /// prefix in Redis's tree.
    pub fn memory_bytes(&self) -> usize {
        if self.prefixes.is_empty() {
            return 0;
        }
        const RAX_NODE_SHARE: usize = 4 * 8;
        (2 * self.prefixes.len() + 1) * RAX_NODE_SHARE
    }
}

/// What CLIENT TRACKING ON asks for, once parsed.
#[derive(Debug, Default)]
pub struct Options {
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Vec<u8>>,
}

/// A BCAST prefix: the keys changed under it since the last broadcast
/// (each with the client that changed it last, for NOLOOP), and its clients.
#[derive(Debug, Default)]
struct Prefix {
    keys: BTreeMap<Vec<u8>, Option<ClientId>>,
    clients: BTreeSet<ClientId>,
}

/// The default-mode table: key -> clients that may cache it. A slot vector
/// beside the index lets the size limit evict a random key in O(1).
#[derive(Debug, Default)]
struct KeyTable {
    index: HashMap<Vec<u8>, usize, foldhash::fast::RandomState>,
    slots: Vec<(Vec<u8>, Vec<ClientId>)>,
}

impl KeyTable {
    fn len(&self) -> usize {
        self.slots.len()
    }

    /// Add `id` for `key`; true if it was not there yet.
    fn insert(&mut self, key: &[u8], id: ClientId) -> bool {
        let slot = match self.index.get(key) {
            Some(&i) => i,
            None => {
                self.index.insert(key.to_vec(), self.slots.len());
                self.slots.push((key.to_vec(), Vec::new()));
                self.slots.len() - 1
            }
        };
        // Ids in ascending order, the order the invalidations go out in.
        let ids = &mut self.slots[slot].1;
        match ids.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                ids.insert(at, id);
                true
            }
        }
    }

    fn remove(&mut self, key: &[u8]) -> Option<Vec<ClientId>> {
        let i = self.index.remove(key)?;
        let (_, ids) = self.slots.swap_remove(i);
        if let Some((moved, _)) = self.slots.get(i) {
            *self.index.get_mut(moved).expect("every slot is indexed") = i;
        }
        Some(ids)
    }

    fn random_key(&self) -> Option<Vec<u8>> {
        use rand::Rng;
        if self.slots.is_empty() {
            return None;
        }
        let i = rand::rng().random_range(0..self.slots.len());
        Some(self.slots[i].0.clone())
    }

    fn clear(&mut self) {
        *self = KeyTable::default();
    }
}

/// The server's tracking state.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Clients with tracking on (server.tracking_clients): zero keeps every
    /// hook here to one test on the hot path.
    pub clients: usize,
    keys: KeyTable,
    /// Client ids across all keys (INFO tracking_total_items).
    items: u64,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    /// Some prefix has keys to broadcast.
    bcast_due: bool,
    /// The client whose command is running (server.current_client; 0 when
    /// none): its own invalidations wait in `pending`.
    pub current: ClientId,
    /// Keys invalidated for `current` (None: everything, after a flush).
    pending: Vec<Option<Vec<u8>>>,
    /// While a script runs for a tracking client: that client and the
    /// script's declared keys, remembered once the script reads.
    script: Option<(ClientId, Vec<Vec<u8>>)>,
    /// Rounds the size limit ended still over it (trackingLimitUsedSlots's
    /// timeout_counter): each round tries harder.
    limit_rounds: u32,
    /// Cached `tracking-table-max-keys` (0: no limit).
    pub max_keys: usize,
}

impl Tracking {
    pub fn total_keys(&self) -> usize {
        self.keys.len()
    }

    pub fn total_items(&self) -> u64 {
        self.items
    }

    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// CLIENT TRACKING ON for `id` (enableTracking): options already checked
/// against each other and the client's state.
pub fn enable(srv: &mut Server, id: ClientId, opts: Options) {
    let Some(c) = srv.clients.map.get_mut(&id) else { return };
    let first = c.tracking.is_none();
    let t = c.tracking.get_or_insert_with(Default::default);
    t.redirect = opts.redirect;
    t.broken_redirect = false;
    t.bcast = opts.bcast;
    t.optin = opts.optin;
    t.optout = opts.optout;
    t.noloop = opts.noloop;
    if opts.bcast {
        let mut wanted = opts.prefixes;
        if wanted.is_empty() {
            wanted.push(Vec::new());
        }
        for p in wanted {
            let entry = srv.tracking.prefixes.entry(p.clone()).or_default();
            if entry.clients.insert(id) {
                t.prefixes.insert(p);
            }
        }
    }
    if first {
        srv.tracking.clients += 1;
        if srv.tracking.clients == 1 {
            srv.update_expired_log();
        }
    }
}

/// CLIENT TRACKING OFF, RESET, or the client closing (disableTracking).
/// The client's ids stay in the key table until the keys change (Redis
/// cleans them lazily too), except that the last tracking client leaving
/// empties the table, so the hot path is idle again.
pub fn disable(srv: &mut Server, id: ClientId) {
    let Some(t) = srv.clients.map.get_mut(&id).and_then(|c| c.tracking.take()) else { return };
    for p in &t.prefixes {
        if let Some(entry) = srv.tracking.prefixes.get_mut(p) {
            entry.clients.remove(&id);
            if entry.clients.is_empty() {
                srv.tracking.prefixes.remove(p);
            }
        }
    }
    srv.tracking.clients -= 1;
    if srv.tracking.clients == 0 {
        srv.tracking.keys.clear();
        srv.tracking.items = 0;
        srv.tracking.prefixes.clear();
        srv.tracking.bcast_due = false;
        srv.update_expired_log();
    }
}

/// Why a prefix list is refused (checkPrefixCollisionsOrReply): two
/// prefixes overlap when one starts the other, among the new ones or with
/// one the client already has.
pub fn prefix_collision(existing: &BTreeSet<Vec<u8>>, new: &[Vec<u8>]) -> Option<String> {
    let overlaps = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(old) = existing.iter().find(|old| overlaps(old, p)) {
            return Some(format!(
                "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(old)
            ));
        }
        if let Some(other) = new[i + 1..].iter().find(|o| overlaps(p, o)) {
            return Some(format!(
                "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(other)
            ));
        }
    }
    None
}

/// Before a script command runs for `caller`: its declared keys, which a
/// read inside the script makes the caller track (Redis remembers the
/// caller's own command's keys, not the ones the script reads).
pub fn script_begins(srv: &mut Server, caller: ClientId, spec: &'static CommandSpec, args: &Args<'_>) {
    let tracks = srv.clients.map.get(&caller).and_then(|c| c.tracking.as_ref()).is_some_and(|t| !t.bcast);
    if !tracks {
        return;
    }
    let argv: Vec<&[u8]> = args.iter().collect();
    let keys = corvid_proto::command_table::extract_keys(spec, &argv).iter().map(|k| argv[k.pos].to_vec()).collect();
    srv.tracking.script = Some((caller, keys));
}

pub fn script_ends(srv: &mut Server) {
    srv.tracking.script = None;
}

/// After a command ran (call()'s trackingRememberKeys): a read-only
/// command's keys are remembered for its client, or, for a command a
/// script ran, the script's declared keys for the script's caller. The
/// read-only script commands themselves remember nothing: only a read
/// inside them does.
pub fn after_call(srv: &mut Server, spec: &CommandSpec, client_id: ClientId, args: &Args<'_>) {
    if !spec.flags.contains(CmdFlags::READONLY) || matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
        return;
    }
    // Shard channels are keys only for routing; they are not cached.
    if spec.flags.contains(CmdFlags::PUBSUB) {
        return;
    }
    if client_id == crate::script::SCRIPT_CLIENT {
        let Some((caller, keys)) = srv.tracking.script.clone() else { return };
        if caches(srv, caller) {
            for k in &keys {
                remember(srv, k, caller);
            }
        }
        return;
    }
    if !caches(srv, client_id) {
        return;
    }
    let argv: Vec<&[u8]> = args.iter().collect();
    for k in corvid_proto::command_table::extract_keys(spec, &argv) {
        remember(srv, argv[k.pos], client_id);
    }
}

/// Whether the client's reads are remembered now: tracking on, not BCAST,
/// and OPTIN with CLIENT CACHING YES, OPTOUT without CLIENT CACHING NO, or
/// neither.
fn caches(srv: &Server, id: ClientId) -> bool {
    match srv.clients.map.get(&id).and_then(|c| c.tracking.as_ref()) {
        Some(t) if !t.bcast => !((t.optin && !t.caching) || (t.optout && t.caching)),
        _ => false,
    }
}

fn remember(srv: &mut Server, key: &[u8], id: ClientId) {
    if srv.tracking.keys.insert(key, id) {
        srv.tracking.items += 1;
    }
}

/// After each top-level command: CLIENT CACHING lasts for one command, or
/// one whole transaction, and CLIENT's own subcommands keep it (resetClient).
pub fn command_done(srv: &mut Server, id: ClientId, name: &[u8]) {
    let Some(c) = srv.clients.map.get_mut(&id) else { return };
    if c.multi.is_some() || name.eq_ignore_ascii_case(b"client") {
        return;
    }
    if let Some(t) = c.tracking.as_mut() {
        t.caching = false;
    }
}

/// A key changed (trackingInvalidateKey, from signalModifiedKey, expiry
/// and eviction): the clients that may cache it are told and it is
/// forgotten; with `bcast`, BCAST prefixes over it collect it too.
/// `modifier` is the client whose command changed it (None for expiry and
/// eviction), which BCAST's NOLOOP skips. The size limit's evictions pass
/// `bcast` false: the key itself did not change.
pub fn invalidate_key(srv: &mut Server, key: &[u8], modifier: Option<ClientId>, bcast: bool) {
    if bcast && !srv.tracking.prefixes.is_empty() {
        let mut any = false;
        for (p, entry) in srv.tracking.prefixes.iter_mut() {
            if key.starts_with(p) {
                entry.keys.insert(key.to_vec(), modifier);
                any = true;
            }
        }
        srv.tracking.bcast_due |= any;
    }
    let Some(ids) = srv.tracking.keys.remove(key) else { return };
    srv.tracking.items -= ids.len() as u64;
    let current = srv.tracking.current;
    for id in ids {
        let Some(t) = srv.clients.map.get(&id).and_then(|c| c.tracking.as_ref()) else { continue };
        // Keys read before switching to BCAST are not reported.
        if t.bcast || (t.noloop && id == current) {
            continue;
        }
        if id == current {
            srv.tracking.pending.push(Some(key.to_vec()));
        } else {
            send(srv, id, Payload::Key(key), None);
        }
    }
}

/// FLUSHDB or FLUSHALL (trackingInvalidateKeysOnFlush): every tracking
/// client is told all its keys are invalid with one null, and the table is
/// emptied (it holds no databases: FLUSHDB empties it too).
pub fn invalidate_all(srv: &mut Server) {
    if srv.tracking.clients == 0 {
        return;
    }
    let current = srv.tracking.current;
    let ids: Vec<ClientId> = srv.clients.map.values().filter(|c| c.tracking.is_some()).map(|c| c.id).collect();
    for id in ids {
        if id == current {
            srv.tracking.pending.push(None);
        } else {
            send(srv, id, Payload::Null, None);
        }
    }
    srv.tracking.keys.clear();
    srv.tracking.items = 0;
}

/// Send the current client the invalidations its own command caused,
/// after the command's reply (trackingHandlePendingKeyInvalidations);
/// `out` is that client's reply buffer.
pub fn flush_pending(srv: &mut Server, out: &mut Reply) {
    let current = srv.tracking.current;
    for key in std::mem::take(&mut srv.tracking.pending) {
        match &key {
            Some(k) => send(srv, current, Payload::Key(k), Some(&mut *out)),
            None => send(srv, current, Payload::Null, Some(&mut *out)),
        }
    }
}

/// Keep the key table within `tracking-table-max-keys`
/// (trackingLimitUsedSlots): random keys are invalidated as if they
/// changed, up to 100 per round more each round the table stays over.
pub fn limit_keys(srv: &mut Server) {
    let max = srv.tracking.max_keys;
    if max == 0 || srv.tracking.keys.len() <= max {
        srv.tracking.limit_rounds = 0;
        return;
    }
    let effort = 100 * (srv.tracking.limit_rounds as usize + 1);
    for _ in 0..effort {
        let Some(key) = srv.tracking.keys.random_key() else { break };
        invalidate_key(srv, &key, None, false);
        if srv.tracking.keys.len() <= max {
            srv.tracking.limit_rounds = 0;
            return;
        }
    }
    srv.tracking.limit_rounds += 1;
}

/// Send every BCAST prefix's collected keys to its clients, one array per
/// prefix, leaving out for a NOLOOP client the keys it changed last itself
/// (trackingBroadcastInvalidationMessages). Called once a batch of
/// commands, a cron tick or an eviction round is done.
pub fn broadcast(srv: &mut Server) {
    if !std::mem::take(&mut srv.tracking.bcast_due) {
        return;
    }
    let mut batches = Vec::new();
    for entry in srv.tracking.prefixes.values_mut() {
        if !entry.keys.is_empty() {
            batches.push((std::mem::take(&mut entry.keys), entry.clients.iter().copied().collect::<Vec<_>>()));
        }
    }
    for (keys, clients) in batches {
        let everyone = keys_array(&keys, None).expect("the batch has keys");
        for id in clients {
            let noloop = srv.clients.map.get(&id).and_then(|c| c.tracking.as_ref()).is_some_and(|t| t.noloop);
            if noloop {
                if let Some(own) = keys_array(&keys, Some(id)) {
                    send(srv, id, Payload::Proto(&own), None);
                }
            } else {
                send(srv, id, Payload::Proto(&everyone), None);
            }
        }
    }
}

/// The RESP array of `keys`, without those `except` changed last; None
/// when that leaves nothing (trackingBuildBroadcastReply).
fn keys_array(keys: &BTreeMap<Vec<u8>, Option<ClientId>>, except: Option<ClientId>) -> Option<Vec<u8>> {
    let kept: Vec<&Vec<u8>> = keys.iter().filter(|(_, by)| except.is_none() || **by != except).map(|(k, _)| k).collect();
    if kept.is_empty() {
        return None;
    }
    let mut r = Reply::new(false);
    r.array(kept.len());
    for k in kept {
        r.bulk(k);
    }
    Some(r.buf)
}

/// What an invalidation says.
enum Payload<'a> {
    Key(&'a [u8]),
    /// A RESP array of keys, already encoded.
    Proto(&'a [u8]),
    /// Every key (a flush): a null in the tracking client's protocol.
    Null,
}

/// Send the tracking client `id` an invalidation (sendTrackingMessage):
/// to its redirect client if it has one (a push in RESP3, a message on
/// `__redis__:invalidate` to a RESP2 subscriber), else to itself as a
/// RESP3 push; a RESP2 client without a redirect gets nothing. A redirect
/// client that is gone marks the redirect broken and, in RESP3, tells the
/// tracking client. `out` is the current client's reply buffer, if its
/// messages may go straight there.
fn send(srv: &mut Server, id: ClientId, payload: Payload<'_>, out: Option<&mut Reply>) {
    let Some(c) = srv.clients.map.get_mut(&id) else { return };
    let resp = c.resp;
    let redirect = c.tracking.as_ref().map_or(0, |t| t.redirect);
    let mut target = id;
    if redirect != 0 {
        let alive = srv.clients.map.get(&redirect).is_some_and(|r| !r.killed);
        if !alive {
            let c = srv.clients.map.get_mut(&id).expect("looked up above");
            if let Some(t) = c.tracking.as_mut() {
                t.broken_redirect = true;
            }
            if resp > 2 {
                let mut r = Reply::new(true);
                r.push(2);
                r.bulk(b"tracking-redir-broken");
                r.int(redirect as i64);
                deliver(srv, id, &r.buf, out);
            }
            return;
        }
        target = redirect;
    }
    let Some(to) = srv.clients.map.get(&target) else { return };
    let mut r = Reply::new(to.resp == 3);
    if to.resp > 2 {
        r.push(2);
        r.bulk(b"invalidate");
    } else if redirect != 0 && to.subs.is_subscribed() {
        r.array(3);
        r.bulk(b"message");
        r.bulk(CHANNEL);
    } else {
        // RESP2 has no pushes on a connection that is not subscribed.
        return;
    }
    match payload {
        Payload::Key(k) => {
            r.array(1);
            r.bulk(k);
        }
        Payload::Proto(p) => r.raw(p),
        Payload::Null => r.raw(if resp == 3 { b"_\r\n" } else { b"$-1\r\n" }),
    }
    deliver(srv, target, &r.buf, out);
}

/// Hand `bytes` to client `id`: into `out` when it is the current client
/// and `out` is its buffer, else to its connection, within its output
/// buffer limit (client eviction then sees it at the end of the batch).
fn deliver(srv: &mut Server, id: ClientId, bytes: &[u8], out: Option<&mut Reply>) {
    if let Some(out) = out.filter(|_| id == srv.tracking.current) {
        out.raw(bytes);
        return;
    }
    let limits = srv.obuf_limits;
    let Some(c) = srv.clients.map.get_mut(&id) else { return };
    c.send(bytes);
    if !c.is_master {
        let limit = limits[c.output_class()];
        crate::pubsub::check_output_limit(c, limit, crate::clock::now_ms());
    }
    // A redirect client's backlog counts toward maxmemory-clients at once
    // (sendTrackingMessage's updateClientMemUsageAndBucket).
    if srv.client_eviction_limit != 0 {
        srv.clients.update_mem(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_overlap_when_one_starts_the_other() {
        let none = BTreeSet::new();
        let e = prefix_collision(&none, &[b"FOOBAR".to_vec(), b"FOO".to_vec()]).unwrap();
        assert!(e.starts_with("Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'."));
        let e = prefix_collision(&none, &[b"FOO".to_vec(), b"FOOBAR".to_vec()]).unwrap();
        assert!(e.starts_with("Prefix 'FOO' overlaps with another provided prefix 'FOOBAR'."));
        let have: BTreeSet<Vec<u8>> = [b"FOO".to_vec(), b"BAR".to_vec()].into_iter().collect();
        let e = prefix_collision(&have, &[b"FO".to_vec()]).unwrap();
        assert!(e.starts_with("Prefix 'FO' overlaps with an existing prefix 'FOO'."));
        let e = prefix_collision(&have, &[b"BARB".to_vec()]).unwrap();
        assert!(e.starts_with("Prefix 'BARB' overlaps with an existing prefix 'BAR'."));
        assert!(prefix_collision(&have, &[b"BAZ".to_vec()]).is_none());
    }

    #[test]
    fn key_table_removes_by_swapping_and_keeps_its_index() {
        let mut t = KeyTable::default();
        assert!(t.insert(b"a", 3));
        assert!(t.insert(b"a", 1));
        assert!(!t.insert(b"a", 3));
        assert!(t.insert(b"b", 2));
        assert!(t.insert(b"c", 2));
        assert_eq!(t.remove(b"a"), Some(vec![1, 3]));
        assert_eq!(t.len(), 2);
        assert_eq!(t.remove(b"c"), Some(vec![2]));
        assert_eq!(t.remove(b"b"), Some(vec![2]));
        assert_eq!(t.remove(b"b"), None);
        assert!(t.random_key().is_none());
    }

    #[test]
    fn broadcast_arrays_leave_out_a_noloop_clients_own_keys() {
        let mut keys = BTreeMap::new();
        keys.insert(b"b".to_vec(), Some(7));
        keys.insert(b"a".to_vec(), None);
        assert_eq!(keys_array(&keys, None).unwrap(), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        assert_eq!(keys_array(&keys, Some(7)).unwrap(), b"*1\r\n$1\r\na\r\n");
        keys.remove(&b"a".to_vec());
        assert!(keys_array(&keys, Some(7)).is_none());
    }
}
