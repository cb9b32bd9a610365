//! maxmemory and lazy free (Redis's evict.c and lazyfree.c): the limit holds, the
//! policy picks the keys Redis would, evictions are announced, and large values
//! are freed off the command path.

use std::time::Duration;

use corvid_tests::{eventually, info_field, RawConn, Server};

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

fn info_u64(c: &mut RawConn, section: &str, field: &str) -> u64 {
    let info = c.cmd(&["INFO", section]).text();
    info_field(&info, field).unwrap_or_else(|| panic!("no {field}: {info}")).parse().unwrap()
}

fn used_memory(c: &mut RawConn) -> u64 {
    info_u64(c, "memory", "used_memory")
}

/// Pipelined SETs of `count` keys `prefix:N` with a 100-byte value, expecting +OK each.
fn fill(c: &mut RawConn, prefix: &str, count: usize, ttl: bool) {
    let value = "v".repeat(100);
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut batch = Vec::new();
        for i in chunk {
            let key = format!("{prefix}:{i}");
            if ttl {
                batch.extend(corvid_tests::multibulk(&["SET", &key, &value, "EX", "100000"]));
            } else {
                batch.extend(corvid_tests::multibulk(&["SET", &key, &value]));
            }
        }
        c.send(&batch);
        for r in c.read_replies(chunk.len()) {
            assert_eq!(r, "+OK\r\n");
        }
    }
}

fn exists(c: &mut RawConn, key: &str) -> bool {
    c.cmd(&["EXISTS", key]) == ":1\r\n"
}

#[test]
fn allkeys_lru_evicts_the_least_recently_used_and_holds_the_limit() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    fill(&mut c, "hot", 100, false);
    fill(&mut c, "old", 8000, false);
    // The limit is what these keys take: any more must evict.
    let limit = used_memory(&mut c) + 64 * 1024;
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]), "+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-samples", "10"]), "+OK\r\n");
    // The LRU clock ticks once a second: let the old keys age, then use the hot ones.
    std::thread::sleep(Duration::from_millis(2100));
    for i in 0..100 {
        assert_ne!(c.cmd(&["GET", &format!("hot:{i}")]), "$-1\r\n");
    }
    assert_eq!(info_u64(&mut c, "stats", "evicted_keys"), 0);
    fill(&mut c, "new", 3000, false);
    let evicted = info_u64(&mut c, "stats", "evicted_keys");
    assert!(evicted > 0, "nothing was evicted");
    let used = used_memory(&mut c);
    assert!(used <= limit + 64 * 1024, "over the limit: {used} > {limit}");
    // Only old keys went: the hot ones were used since, the new ones are new.
    for i in 0..100 {
        assert!(exists(&mut c, &format!("hot:{i}")), "hot:{i} was evicted");
    }
    for i in 0..3000 {
        assert!(exists(&mut c, &format!("new:{i}")), "new:{i} was evicted");
    }
    // Every command may evict first: count both inside one transaction.
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["INFO", "stats"]), "+QUEUED\r\n");
    let exec = c.cmd(&["EXEC"]).text();
    let dbsize: u64 = exec.split("\r\n").nth(1).unwrap().trim_start_matches(':').parse().unwrap();
    let evicted: u64 = info_field(&exec, "evicted_keys").unwrap().parse().unwrap();
    assert_eq!(dbsize + evicted, 100 + 8000 + 3000, "{dbsize} keys left, {evicted} evicted");
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl_then_refuse_writes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    fill(&mut c, "keep", 3000, false);
    fill(&mut c, "ttl", 3000, true);
    let limit = used_memory(&mut c) + 64 * 1024;
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]), "+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]), "+OK\r\n");
    // Writes past the limit evict keys with a TTL; the others stay.
    fill(&mut c, "more", 2000, false);
    assert!(info_u64(&mut c, "stats", "evicted_keys") > 0);
    for i in 0..3000 {
        assert!(exists(&mut c, &format!("keep:{i}")), "keep:{i} has no TTL but was evicted");
    }
    // Once no key with a TTL is left, writes that grow memory are refused;
    // reads and deletes still work.
    let value = "v".repeat(100);
    let mut refused = None;
    for i in 0..100_000 {
        let reply = c.cmd(&["SET", &format!("last:{i}"), &value]);
        if reply != "+OK\r\n" {
            refused = Some(reply);
            break;
        }
    }
    assert_eq!(refused.expect("writes were never refused"), OOM);
    assert_eq!(c.cmd(&["EXISTS", "ttl:0", "ttl:1", "ttl:2"]), ":0\r\n");
    assert_ne!(c.cmd(&["GET", "keep:0"]), "$-1\r\n");
    assert_eq!(c.cmd(&["DEL", "keep:0"]), ":1\r\n");
    // Queuing in a transaction is refused too, and dooms it.
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "keep:1"]), OOM);
    assert_eq!(
        c.cmd(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
}

#[test]
fn evictions_are_announced_as_keyspace_events() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]), "+OK\r\n");
    let mut sub = server.raw();
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]),
        "*3\r\n$9\r\nsubscribe\r\n$22\r\n__keyevent@0__:evicted\r\n:1\r\n"
    );
    let limit = used_memory(&mut c) + 1024 * 1024;
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]), "+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]), "+OK\r\n");
    fill(&mut c, "k", 10_000, false);
    assert!(info_u64(&mut c, "stats", "evicted_keys") > 0);
    let event = sub.read_reply().text();
    assert!(
        event.starts_with("*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$"),
        "{event:?}"
    );
    let key = event.rsplit("\r\n").nth(1).unwrap().to_string();
    assert!(key.starts_with("k:"), "{event:?}");
    assert!(!exists(&mut c, &key), "{key} was announced evicted but is there");
}

#[test]
fn unlink_and_flush_async_free_in_the_background() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let before = used_memory(&mut c);
    // From a connection of its own, whose buffers go with it.
    let mut loader = server.raw();
    let members: Vec<String> = (0..100_000).map(|i| format!("member:{i}")).collect();
    let mut args = vec!["SADD".to_string(), "big".to_string()];
    args.extend(members);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(loader.cmd(&args), ":100000\r\n");
    drop(loader);
    let peak = used_memory(&mut c);
    assert!(peak > before + 1_000_000, "{before} -> {peak}");
    assert_eq!(c.cmd(&["UNLINK", "big"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "big"]), ":0\r\n");
    eventually(Duration::from_secs(10), "UNLINK frees the set", || {
        info_u64(&mut c, "memory", "lazyfree_pending_objects") == 0
    });
    assert_eq!(info_u64(&mut c, "memory", "lazyfreed_objects"), 1);
    let after = used_memory(&mut c);
    assert!(after < before * 2, "memory not reclaimed: {before} -> {peak} -> {after}");
    // A small value is freed at once, not counted.
    assert_eq!(c.cmd(&["SET", "small", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["UNLINK", "small"]), ":1\r\n");
    // FLUSHALL ASYNC hands every key to the background.
    fill(&mut c, "f", 1000, false);
    assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    eventually(Duration::from_secs(10), "FLUSHALL ASYNC frees the keys", || {
        info_u64(&mut c, "memory", "lazyfree_pending_objects") == 0
    });
    assert_eq!(info_u64(&mut c, "memory", "lazyfreed_objects"), 1001);
    assert_eq!(c.cmd(&["FLUSHALL", "LAZY"]), "-ERR syntax error\r\n");
}

/// The CLIENT LIST line of the client named `name`, if it is connected.
fn client_line(c: &mut RawConn, name: &str) -> Option<String> {
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    list.lines().find(|l| l.contains(&format!(" name={name} "))).map(str::to_string)
}

/// Start a command whose second argument never arrives: its first, of
/// `len` bytes, sits in the client's query buffer.
fn hold_query_buffer(server: &Server, c: &mut RawConn, name: &str, len: usize) {
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", name]), "+OK\r\n");
    let mut bytes = format!("*2\r\n${len}\r\n").into_bytes();
    bytes.extend(std::iter::repeat_n(b'x', len));
    c.send(&bytes);
    let mut control = server.raw();
    eventually(Duration::from_secs(5), "the query buffer fills", || {
        client_line(&mut control, name).is_some_and(|l| l.contains(&format!(" qbuf={len} ")))
    });
}

#[test]
fn maxmemory_clients_closes_the_largest_clients_until_below_the_limit() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    assert_eq!(control.cmd(&["CLIENT", "SETNAME", "control"]), "+OK\r\n");
    assert_eq!(control.cmd(&["CLIENT", "NO-EVICT", "ON"]), "+OK\r\n");
    let (mut big, mut small, mut exempt) = (server.raw(), server.raw(), server.raw());
    hold_query_buffer(&server, &mut big, "big", 600_000);
    hold_query_buffer(&server, &mut small, "small", 300_000);
    assert_eq!(exempt.cmd(&["CLIENT", "NO-EVICT", "ON"]), "+OK\r\n");
    hold_query_buffer(&server, &mut exempt, "exempt", 900_000);
    assert_eq!(control.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    // Redis accounts a client that is not running commands from its cron.
    eventually(Duration::from_secs(5), "the clients' memory is accounted", || {
        info_u64(&mut control, "memory", "mem_clients_normal") > 1_800_000
    });
    // Together the clients hold about 1.8 MB: at 1.5 MB only the largest
    // evictable one has to go; the no-evict one, larger still, stays.
    assert_eq!(control.cmd(&["CONFIG", "SET", "maxmemory-clients", "1500000"]), "+OK\r\n");
    assert!(client_line(&mut control, "big").is_none(), "the largest client stays");
    assert!(client_line(&mut control, "small").is_some());
    assert!(client_line(&mut control, "exempt").is_some());
    assert_eq!(info_u64(&mut control, "stats", "evicted_clients"), 1);
    assert_eq!(big.read_to_close(), "");
    // A percentage of maxmemory: 1% of 100 MB is below the small client's 300 KB.
    assert_eq!(control.cmd(&["CONFIG", "SET", "maxmemory", "100mb", "maxmemory-clients", "1%"]), "+OK\r\n");
    assert!(client_line(&mut control, "small").is_none());
    assert!(client_line(&mut control, "exempt").is_some(), "CLIENT NO-EVICT exempts a client");
    assert_eq!(info_u64(&mut control, "stats", "evicted_clients"), 2);
}

#[test]
fn lazy_expire_and_server_del_free_big_values_in_the_background() {
    let server = Server::start(&["--lazyfree-lazy-server-del", "yes", "--lazyfree-lazy-expire", "yes", "--enable-debug-command", "yes"]);
    let mut c = server.raw();
    let mut args = vec!["SADD".to_string(), "big".to_string()];
    args.extend((0..10_000).map(|i| format!("m:{i}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&args), ":10000\r\n");
    // SET over the set: the write drops the old value in the background.
    assert_eq!(c.cmd(&["SET", "big", "small now"]), "+OK\r\n");
    eventually(Duration::from_secs(10), "the overwritten set is freed", || {
        info_u64(&mut c, "memory", "lazyfreed_objects") == 1
    });
    // An expired set found on access goes the same way.
    let mut args = args.clone();
    args[1] = "soon";
    assert_eq!(c.cmd(&args), ":10000\r\n");
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PEXPIRE", "soon", "1"]), ":1\r\n");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.cmd(&["EXISTS", "soon"]), ":0\r\n");
    eventually(Duration::from_secs(10), "the expired set is freed", || {
        info_u64(&mut c, "memory", "lazyfreed_objects") == 2
    });
    // A small value is freed on the spot.
    assert_eq!(c.cmd(&["SET", "big", "again"]), "+OK\r\n");
    assert_eq!(info_u64(&mut c, "memory", "lazyfreed_objects"), 2);
}
