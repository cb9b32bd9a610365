//! Client eviction (`maxmemory-clients`, CLIENT NO-EVICT): when the
//! memory of normal and pub/sub clients together reaches the limit, the
//! largest evictable clients are closed until it is below, as Redis's
//! evictClients does. The total is kept as clients' buffers change
//! ([`crate::client::Clients::update_mem`]), so checking is one comparison;
//! only an eviction looks at every client.

use crate::client::ClientId;
use crate::server::Server;

/// The limit in bytes, 0 for none (getClientEvictionLimit): the configured
/// value, or its percentage of `maxmemory` (none while maxmemory is 0),
/// never below 128 KiB so a bad setting cannot shut everyone out.
pub fn limit(maxmemory_clients: i64, maxmemory: u64) -> usize {
    let bytes = if maxmemory_clients < 0 && maxmemory > 0 {
        (maxmemory as f64 * -(maxmemory_clients as f64) / 100.0) as u64
    } else if maxmemory_clients > 0 {
        maxmemory_clients as u64
    } else {
        return 0;
    };
    usize::try_from(bytes).unwrap_or(usize::MAX).max(128 * 1024)
}

/// Account every client afresh and evict if over the limit: from the
/// cron (as Redis's clientsCron keeps the figures current for clients
/// whose buffers change without them running commands) and when the limit
/// changes (CONFIG SET maxmemory-clients or maxmemory).
pub fn refresh(srv: &mut Server) {
    if srv.client_eviction_limit == 0 {
        return;
    }
    let ids: Vec<ClientId> = srv.clients.map.keys().copied().collect();
    for id in ids {
        srv.clients.update_mem(id);
    }
    evict(srv);
}

/// Close the largest evictable clients while the clients' memory is at or
/// over the limit. Largest first by their accounted memory (Redis goes by
/// power-of-two buckets, largest bucket first); each eviction is logged
/// with the client's CLIENT LIST line and counted in `evicted_clients`.
pub fn evict(srv: &mut Server) {
    let limit = srv.client_eviction_limit;
    if limit == 0 || srv.clients.tracked_total < limit {
        return;
    }
    let mut candidates: Vec<(usize, ClientId)> =
        srv.clients.map.values().filter(|c| c.evictable()).map(|c| (c.tracked_mem, c.id)).collect();
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let now = crate::clock::now_ms();
    for (_, id) in candidates {
        if srv.clients.tracked_total < limit {
            return;
        }
        if let Some(c) = srv.clients.map.get(&id) {
            tracing::info!("Evicting client: {}", crate::acl::client_info(srv, c, now));
        }
        srv.clients.kill(id);
        srv.stats.evicted_clients += 1;
    }
    if srv.clients.tracked_total >= limit {
        tracing::warn!("Over client maxmemory after evicting all evictable clients");
    }
}

#[cfg(test)]
mod tests {
    use super::limit;

    #[test]
    fn limit_is_bytes_or_a_share_of_maxmemory_and_at_least_128k() {
        assert_eq!(limit(0, 1 << 30), 0);
        assert_eq!(limit(3_000_000, 0), 3_000_000);
        assert_eq!(limit(-7, 6 << 20), (6 << 20) * 7 / 100);
        assert_eq!(limit(-7, 0), 0);
        assert_eq!(limit(1000, 0), 128 * 1024);
        assert_eq!(limit(-1, 1 << 20), 128 * 1024);
    }
}
