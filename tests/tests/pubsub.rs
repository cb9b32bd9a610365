//! Pub/sub through the real door: RESP2 subscribers (and the commands they
//! may still run), pattern and shard subscriptions, RESP3 pushes mixed with
//! replies in order, PUBSUB introspection, and a subscriber that stops
//! reading being cut off by its output buffer limit. Each assertion holds
//! for Redis 7.0 too.

use std::time::{Duration, Instant};

use corvid_tests::Server;

#[test]
fn subscribe_publish_and_patterns_in_resp2() {
    let server = Server::start(&[]);
    let mut sub = server.raw();
    let mut publisher = server.raw();
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "news", "sport"]),
        "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    assert_eq!(sub.read_reply(), "*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n");
    assert_eq!(sub.cmd(&["PSUBSCRIBE", "n*"]), "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n");
    // One delivery to the channel, one to the matching pattern.
    assert_eq!(publisher.cmd(&["PUBLISH", "news", "hi"]), ":2\r\n");
    assert_eq!(sub.read_reply(), "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
    assert_eq!(sub.read_reply(), "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
    assert_eq!(publisher.cmd(&["PUBLISH", "nobody", "x"]), ":1\r\n");
    assert_eq!(sub.read_reply(), "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$6\r\nnobody\r\n$1\r\nx\r\n");
    assert_eq!(publisher.cmd(&["PUBLISH", "weather", "x"]), ":0\r\n");

    // Subscribed in RESP2: only the subscription commands, PING, QUIT and RESET.
    assert_eq!(
        sub.cmd(&["GET", "k"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(sub.cmd(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");

    assert_eq!(publisher.cmd(&["PUBSUB", "NUMSUB", "news", "none"]), "*4\r\n$4\r\nnews\r\n:1\r\n$4\r\nnone\r\n:0\r\n");
    assert_eq!(publisher.cmd(&["PUBSUB", "NUMPAT"]), ":1\r\n");
    assert_eq!(publisher.cmd(&["PUBSUB", "CHANNELS", "s*"]), "*1\r\n$5\r\nsport\r\n");
    let list = publisher.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=P db=0 sub=2 psub=1 ssub=0"), "{list}");

    assert_eq!(sub.cmd(&["UNSUBSCRIBE", "news"]), "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:2\r\n");
    assert_eq!(sub.cmd(&["PUNSUBSCRIBE"]), "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:1\r\n");
    assert_eq!(sub.cmd(&["UNSUBSCRIBE"]), "*3\r\n$11\r\nunsubscribe\r\n$5\r\nsport\r\n:0\r\n");
    // Nothing left: one reply with a nil channel; ordinary commands again.
    assert_eq!(sub.cmd(&["UNSUBSCRIBE"]), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    assert_eq!(sub.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(publisher.cmd(&["PUBSUB", "NUMPAT"]), ":0\r\n");

    // Shard channels count on their own.
    assert_eq!(sub.cmd(&["SSUBSCRIBE", "orders"]), "*3\r\n$10\r\nssubscribe\r\n$6\r\norders\r\n:1\r\n");
    assert_eq!(publisher.cmd(&["SPUBLISH", "orders", "o1"]), ":1\r\n");
    assert_eq!(sub.read_reply(), "*3\r\n$8\r\nsmessage\r\n$6\r\norders\r\n$2\r\no1\r\n");
    assert_eq!(publisher.cmd(&["PUBSUB", "SHARDCHANNELS"]), "*1\r\n$6\r\norders\r\n");
    assert_eq!(publisher.cmd(&["PUBSUB", "SHARDNUMSUB", "orders"]), "*2\r\n$6\r\norders\r\n:1\r\n");
    assert_eq!(publisher.cmd(&["PUBLISH", "orders", "x"]), ":0\r\n");
    assert_eq!(sub.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(publisher.cmd(&["PUBSUB", "SHARDCHANNELS"]), "*0\r\n");
}

#[test]
fn resp3_pushes_interleave_with_replies_in_order() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["SUBSCRIBE", "me"]), ">3\r\n$9\r\nsubscribe\r\n$2\r\nme\r\n:1\r\n");
    // Any command runs in RESP3; our own message comes before PUBLISH's reply.
    c.send(b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nme\r\n$3\r\nhey\r\n");
    assert_eq!(c.read_reply(), ">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$3\r\nhey\r\n");
    assert_eq!(c.read_reply(), ":1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    // A message published by another client before our next command is read first.
    let mut other = server.raw();
    assert_eq!(other.cmd(&["PUBLISH", "me", "first"]), ":1\r\n");
    std::thread::sleep(Duration::from_millis(50));
    c.send(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    assert_eq!(c.read_reply(), ">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$5\r\nfirst\r\n");
    assert_eq!(c.read_reply(), "$1\r\nv\r\n");
}

#[test]
fn a_subscriber_that_does_not_read_is_disconnected() {
    let server = Server::start(&[]);
    let mut admin = server.raw();
    assert_eq!(admin.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 100000 0 0"]), "+OK\r\n");
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "flood"]);
    // The subscriber never reads: its messages pile up on the server until
    // the hard limit ends the connection (kernel buffers absorb the rest).
    let payload = "x".repeat(10_000);
    let start = Instant::now();
    loop {
        admin.cmd(&["PUBLISH", "flood", &payload]);
        let list = admin.cmd(&["CLIENT", "LIST"]).text();
        if !list.contains("cmd=subscribe") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the subscriber was never cut off");
    }
    assert_eq!(admin.cmd(&["PUBSUB", "NUMSUB", "flood"]), "*2\r\n$5\r\nflood\r\n:0\r\n");
}

#[test]
fn keyspace_notifications_follow_writes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut sub = server.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), "+OK\r\n");
    sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    // Read one event pair: the keyspace message, then the keyevent message.
    let mut expect = |event: &str, key: &str| {
        let space = format!("__keyspace@0__:{key}");
        let evt = format!("__keyevent@0__:{event}");
        let m = |ch: &str, payload: &str| {
            format!("*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n${}\r\n{ch}\r\n${}\r\n{payload}\r\n", ch.len(), payload.len())
        };
        assert_eq!(sub.read_reply().text(), m(&space, event), "keyspace event {event} on {key}");
        assert_eq!(sub.read_reply().text(), m(&evt, key), "keyevent {event} on {key}");
    };
    c.cmd(&["SET", "s", "1", "EX", "100"]);
    expect("set", "s");
    expect("expire", "s");
    c.cmd(&["INCR", "s"]);
    expect("incrby", "s");
    c.cmd(&["RENAME", "s", "t"]);
    expect("rename_from", "s");
    expect("rename_to", "t");
    c.cmd(&["DEL", "t", "missing"]);
    expect("del", "t");
    c.cmd(&["RPUSH", "l", "a"]);
    expect("rpush", "l");
    // Popping the last element: the pop, then the key's deletion.
    c.cmd(&["LPOP", "l"]);
    expect("lpop", "l");
    expect("del", "l");
    c.cmd(&["HMSET", "h", "f", "1"]);
    expect("hset", "h");
    c.cmd(&["ZINCRBY", "z", "1", "m"]);
    expect("zincr", "z");
    // Nothing changed: no event (the next one read is the SADD's).
    c.cmd(&["SREM", "nokey", "x"]);
    c.cmd(&["SADD", "set", "x"]);
    expect("sadd", "set");
    c.cmd(&["PSETEX", "gone", "10", "v"]);
    expect("set", "gone");
    expect("expire", "gone");
    expect("expired", "gone");
}

/// "n" events name the keys a command created (before the command's own
/// event), and lowering maxmemory below what is used evicts at once, with
/// "evicted" events, without waiting for another write.
#[test]
fn new_key_and_eviction_events() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut sub = server.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEn$"]), "+OK\r\n");
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    c.cmd(&["SET", "foo", "1"]);
    c.cmd(&["SET", "foo", "2"]);
    c.cmd(&["RENAME", "foo", "bar"]);
    let event = |name: &str, key: &str| {
        let channel = format!("__keyevent@0__:{name}");
        format!("*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n${}\r\n{channel}\r\n${}\r\n{key}\r\n", channel.len(), key.len())
    };
    assert_eq!(sub.read_reply().text(), event("new", "foo"));
    assert_eq!(sub.read_reply().text(), event("set", "foo"));
    // The second SET created nothing.
    assert_eq!(sub.read_reply().text(), event("set", "foo"));
    assert_eq!(sub.read_reply().text(), event("new", "bar"));

    let mut evicted = server.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee", "maxmemory-policy", "allkeys-lru"]), "+OK\r\n");
    evicted.cmd(&["PSUBSCRIBE", "*"]);
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "1"]), "+OK\r\n");
    assert_eq!(evicted.read_reply(), "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$22\r\n__keyevent@0__:evicted\r\n$3\r\nbar\r\n");
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
}
