//! Consumer groups (Redis's streamCG): the last ID delivered, the pending
//! entries list (PEL: delivered, not yet acknowledged), and the consumers,
//! each with its own view of the PEL.
//!
//! The group's PEL owns each pending entry's metadata; a consumer's PEL is
//! the set of IDs it owns, so the two always agree by construction of the
//! methods below.

use std::collections::{BTreeMap, BTreeSet};

use super::id::StreamId;

/// A delivered entry not yet acknowledged (streamNACK).
#[derive(Debug, Clone, PartialEq)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumer {
    /// Unix ms of the last time the consumer read or claimed.
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    pub last_id: StreamId,
    /// The group's logical read counter; None when it is not known.
    pub entries_read: Option<u64>,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> Self {
        Group { last_id, entries_read, ..Default::default() }
    }

    pub fn allocated(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.pel.values().map(|n| 16 + std::mem::size_of::<Nack>() + n.consumer.len() + 16).sum::<usize>()
            + self.consumers.iter().map(|(n, c)| n.len() + std::mem::size_of::<Consumer>() + 24 * c.pel.len()).sum::<usize>()
    }

    /// Create consumer `name` seen now; false when it exists.
    pub fn create_consumer(&mut self, name: &[u8], now_ms: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(name.to_vec(), Consumer { seen_time: now_ms, pel: BTreeSet::new() });
        true
    }

    /// Remove a consumer and its pending entries; how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Deliver `id` to `consumer` (which must exist): a new pending entry,
    /// or one taken over from whoever had it, with a count of 1.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: i64) -> &Nack {
        if let Some(old) = self.pel.get(&id).map(|n| n.consumer.clone()) {
            if let Some(c) = self.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        self.pel.insert(id, Nack { delivery_time: now_ms, delivery_count: 1, consumer: consumer.to_vec() });
        self.consumers.get_mut(consumer).expect("the consumer exists").pel.insert(id);
        &self.pel[&id]
    }

    /// Move the pending entry `id` to `consumer` (which must exist).
    pub fn reassign(&mut self, id: StreamId, consumer: &[u8]) {
        let Some(nack) = self.pel.get_mut(&id) else { return };
        if nack.consumer != consumer {
            let old = std::mem::replace(&mut nack.consumer, consumer.to_vec());
            if let Some(c) = self.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
            self.consumers.get_mut(consumer).expect("the consumer exists").pel.insert(id);
        }
    }

    /// Acknowledge `id`: true when it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else { return false };
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pel_views_stay_in_step() {
        let mut g = Group::new(StreamId::MIN, Some(0));
        g.create_consumer(b"a", 1);
        g.create_consumer(b"b", 1);
        let id = StreamId::new(5, 0);
        g.deliver(id, b"a", 10);
        assert!(g.consumers[&b"a"[..]].pel.contains(&id));
        g.deliver(id, b"b", 20);
        assert!(g.consumers[&b"a"[..]].pel.is_empty());
        assert_eq!(g.pel[&id].consumer, b"b");
        g.reassign(id, b"a");
        assert!(g.consumers[&b"b"[..]].pel.is_empty());
        assert_eq!(g.delete_consumer(b"a"), Some(1));
        assert!(g.pel.is_empty());
        assert!(!g.ack(id));
    }
}
