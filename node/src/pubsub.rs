//! Publish/subscribe (Redis's pubsub.c): who listens to which channel,
//! pattern and shard channel, and the delivery of messages.
//!
//! A message for another client is appended to that client's pending
//! output and its connection is woken to write it; the connection also
//! drains pending output before running a batch, so a client sees messages
//! published before its commands ran ahead of their replies. A message for
//! the publishing client itself goes straight into its reply, before
//! PUBLISH's own, as Redis orders them. A subscriber that does not read is
//! disconnected once its pending output passes `client-output-buffer-limit
//! pubsub` (hard limit at once, soft limit after its seconds).

use std::collections::{HashMap, HashSet};

use corvid_proto::resp::Reply;

use crate::client::{Client, ClientId, ReplyMode};
use crate::server::Server;

/// The three kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    pub fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    pub fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// Server-wide subscriptions: each channel, pattern or shard channel and
/// its subscribers in subscription order.
#[derive(Default)]
pub struct PubSub {
    channels: HashMap<Vec<u8>, Vec<ClientId>>,
    patterns: HashMap<Vec<u8>, Vec<ClientId>>,
    shard: HashMap<Vec<u8>, Vec<ClientId>>,
}

impl PubSub {
    fn table(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<ClientId>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    fn table_ref(&self, kind: Kind) -> &HashMap<Vec<u8>, Vec<ClientId>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// Channels (or shard channels) with at least one subscriber, matching
    /// `pattern` if given (PUBSUB CHANNELS / SHARDCHANNELS).
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<&[u8]> {
        self.table_ref(kind).keys().map(Vec::as_slice).filter(|c| pattern.is_none_or(|p| crate::glob::glob_match(p, c, false))).collect()
    }

    /// Subscribers of one channel (PUBSUB NUMSUB / SHARDNUMSUB).
    pub fn subscribers(&self, kind: Kind, channel: &[u8]) -> usize {
        self.table_ref(kind).get(channel).map_or(0, Vec::len)
    }

    /// Whether anyone listens to ordinary channels or patterns (keyspace
    /// notifications go nowhere otherwise).
    pub fn has_listeners(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty())
    }

    /// How many distinct channels, patterns or shard channels have subscribers.
    pub fn count(&self, kind: Kind) -> usize {
        self.table_ref(kind).len()
    }
}

/// A client's own subscriptions.
#[derive(Debug, Default)]
pub struct Subscriptions {
    pub channels: HashSet<Vec<u8>>,
    pub patterns: HashSet<Vec<u8>>,
    pub shard: HashSet<Vec<u8>>,
}

impl Subscriptions {
    pub fn of(&self, kind: Kind) -> &HashSet<Vec<u8>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn of_mut(&mut self, kind: Kind) -> &mut HashSet<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count a (un)subscribe reply carries: channels and patterns
    /// together, shard channels on their own (clientSubscriptionsCount).
    pub fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// What the subscriptions cost the client (pubsubMemOverhead): the
    /// tables' slots, not the names, as Redis counts only its pointers.
    pub fn overhead_bytes(&self) -> usize {
        let slot = std::mem::size_of::<Vec<u8>>() + 1;
        (self.channels.capacity() + self.patterns.capacity() + self.shard.capacity()) * slot
    }

    /// In RESP2 a client with any subscription may only run the
    /// subscription commands, PING, QUIT and RESET.
    pub fn is_subscribed(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }
}

/// A subscription confirmation or removal for the calling client: [word,
/// channel or nil, count], a push in RESP3.
pub fn write_ack(srv: &mut Server, id: ClientId, out: &mut Reply, word: &[u8], channel: Option<&[u8]>, count: usize) {
    to_caller(srv, id, out, |r| {
        r.push(3);
        r.bulk(word);
        match channel {
            Some(c) => r.bulk(c),
            None => r.null(),
        }
        r.int(count as i64);
    });
}

/// A pub/sub frame for the client running the command: in its reply, or,
/// when CLIENT REPLY OFF/SKIP drops that reply, in its pending output —
/// pub/sub frames get through either way (Redis's CLIENT_PUSHING).
fn to_caller(srv: &mut Server, id: ClientId, out: &mut Reply, write: impl Fn(&mut Reply)) {
    let Some(c) = srv.clients.map.get_mut(&id) else { return };
    if matches!(c.reply_mode, ReplyMode::Off | ReplyMode::Skipping) {
        let mut r = Reply::new(c.resp == 3);
        write(&mut r);
        c.send(&r.buf);
    } else {
        let resp3 = out.resp3;
        out.resp3 = c.resp == 3;
        write(out);
        out.resp3 = resp3;
    }
}

/// Subscribe `id` to `name`; false if it already was.
pub fn subscribe(srv: &mut Server, id: ClientId, kind: Kind, name: &[u8]) -> bool {
    let Some(c) = srv.clients.map.get_mut(&id) else { return false };
    if !c.subs.of_mut(kind).insert(name.to_vec()) {
        return false;
    }
    srv.pubsub.table(kind).entry(name.to_vec()).or_default().push(id);
    true
}

/// Unsubscribe `id` from `name`; false if it was not subscribed.
pub fn unsubscribe(srv: &mut Server, id: ClientId, kind: Kind, name: &[u8]) -> bool {
    let Some(c) = srv.clients.map.get_mut(&id) else { return false };
    if !c.subs.of_mut(kind).remove(name) {
        return false;
    }
    let table = srv.pubsub.table(kind);
    if let Some(ids) = table.get_mut(name) {
        ids.retain(|&x| x != id);
        if ids.is_empty() {
            table.remove(name);
        }
    }
    true
}

/// Drop every subscription of a client that is going away.
pub fn forget(srv: &mut Server, id: ClientId) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        let names: Vec<Vec<u8>> = srv.clients.map.get(&id).map(|c| c.subs.of(kind).iter().cloned().collect()).unwrap_or_default();
        for n in names {
            unsubscribe(srv, id, kind, &n);
        }
    }
}

/// Deliver `message` on `channel` to its subscribers (and, for ordinary
/// channels, to matching patterns); the number of deliveries. `me` is the
/// publishing client, whose copy goes into `out`.
pub fn publish(srv: &mut Server, kind: Kind, channel: &[u8], message: &[u8], me: Option<ClientId>, out: &mut Reply) -> usize {
    let mut receivers = 0;
    let direct: Vec<ClientId> = srv.pubsub.table_ref(kind).get(channel).cloned().unwrap_or_default();
    let word: &[u8] = if kind == Kind::Shard { b"smessage" } else { b"message" };
    // Each message is encoded once per protocol, not once per subscriber.
    let mut sink = Delivery::new(srv, me);
    if !direct.is_empty() {
        let msg = Message::new(|r| {
            header(r, 3);
            r.bulk(word);
            r.bulk(channel);
            r.bulk(message);
        });
        for id in direct {
            sink.deliver(srv, id, out, &msg);
            receivers += 1;
        }
    }
    if kind == Kind::Channel && !srv.pubsub.patterns.is_empty() {
        let matching: Vec<(Vec<u8>, Vec<ClientId>)> = srv
            .pubsub
            .patterns
            .iter()
            .filter(|(p, _)| crate::glob::glob_match(p, channel, false))
            .map(|(p, ids)| (p.clone(), ids.clone()))
            .collect();
        for (pattern, ids) in matching {
            let msg = Message::new(|r| {
                header(r, 4);
                r.bulk(b"pmessage");
                r.bulk(&pattern);
                r.bulk(channel);
                r.bulk(message);
            });
            for id in ids {
                sink.deliver(srv, id, out, &msg);
                receivers += 1;
            }
        }
    }
    // A client cut off is gone for everyone at once, as Redis frees it
    // before the next command: it receives nothing more.
    for id in sink.killed {
        forget(srv, id);
    }
    receivers
}

/// A message's header: a push in RESP3, an array in RESP2.
fn header(r: &mut Reply, n: usize) {
    r.push(n);
}

/// A message encoded for RESP2 and RESP3 subscribers.
struct Message {
    resp2: Vec<u8>,
    resp3: Vec<u8>,
}

impl Message {
    fn new(write: impl Fn(&mut Reply)) -> Message {
        let mut r = Reply { buf: Vec::new(), resp3: false };
        write(&mut r);
        let resp2 = std::mem::take(&mut r.buf);
        r.resp3 = true;
        write(&mut r);
        Message { resp2, resp3: r.buf }
    }

    fn bytes(&self, resp3: bool) -> &[u8] {
        if resp3 {
            &self.resp3
        } else {
            &self.resp2
        }
    }
}

/// What one PUBLISH reads once for all its deliveries.
struct Delivery {
    me: Option<ClientId>,
    limit: crate::config::OutputBufferLimit,
    now_ms: i64,
    /// Subscribers this publish pushed past their output limit.
    killed: Vec<ClientId>,
}

impl Delivery {
    fn new(srv: &Server, me: Option<ClientId>) -> Delivery {
        Delivery { me, limit: srv.obuf_limits[2], now_ms: crate::clock::now_ms(), killed: Vec::new() }
    }

    fn deliver(&mut self, srv: &mut Server, id: ClientId, out: &mut Reply, msg: &Message) {
        if Some(id) == self.me {
            to_caller(srv, id, out, |r| r.raw(msg.bytes(r.resp3)));
            return;
        }
        let Some(c) = srv.clients.map.get_mut(&id) else { return };
        c.send(msg.bytes(c.resp == 3));
        let was_killed = c.killed;
        check_output_limit(c, self.limit, self.now_ms);
        if c.killed && !was_killed {
            self.killed.push(id);
        }
        if srv.client_eviction_limit != 0 {
            srv.clients.update_mem(id);
        }
    }
}

/// Close a client whose pending output passed its class's limits
/// (checkClientOutputBufferLimits): the hard limit at once, the soft one
/// when it stayed over it for its seconds.
pub fn check_output_limit(c: &mut Client, limit: crate::config::OutputBufferLimit, now_ms: i64) {
    let used = c.output_bytes() as u64;
    let hard = limit.hard_limit_bytes > 0 && used >= limit.hard_limit_bytes;
    let soft_over = limit.soft_limit_bytes > 0 && used >= limit.soft_limit_bytes;
    let soft = soft_over && {
        let since = *c.obuf_soft_since_ms.get_or_insert(now_ms);
        now_ms - since > limit.soft_limit_seconds * 1000
    };
    if !soft_over {
        c.obuf_soft_since_ms = None;
    }
    if (hard || soft) && !c.killed {
        tracing::warn!("Client id={} scheduled to be closed ASAP for overcoming of output buffer limits.", c.id);
        c.killed = true;
        c.pending_out = Vec::new();
    }
}
