//! Client-side caching through the real door: RESP3 invalidation pushes on
//! the tracking connection (after the reply of the command that caused
//! them), REDIRECT to a RESP2 subscriber of `__redis__:invalidate`, BCAST
//! prefixes batched per prefix, NOLOOP, OPTIN with CLIENT CACHING, flushes,
//! a redirect client that went away, and the option errors. Each assertion
//! holds for Redis 7.0 too.

use std::time::Duration;

use corvid_tests::{info_field, Server};

fn client_id(c: &mut corvid_tests::RawConn) -> String {
    let id = c.cmd(&["CLIENT", "ID"]).text();
    id.trim_start_matches(':').trim_end().to_string()
}

#[test]
fn resp3_invalidations_arrive_on_the_same_connection() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut writer = server.raw();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    assert_eq!(writer.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n1\r\n");
    // A key not read is not reported.
    assert_eq!(writer.cmd(&["SET", "other", "1"]), "+OK\r\n");
    assert_eq!(writer.cmd(&["SET", "k", "2"]), "+OK\r\n");
    assert_eq!(c.read_reply(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    // Reported once: the key is forgotten until read again.
    assert_eq!(writer.cmd(&["SET", "k", "3"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");

    // The client's own change is reported after its reply, a transaction's
    // after the whole EXEC reply.
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n3\r\n");
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["INCR", "k"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["EXEC"]), "*2\r\n:4\r\n$1\r\n4\r\n");
    assert_eq!(c.read_reply(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");

    // A flush invalidates everything with a null.
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n4\r\n");
    assert_eq!(writer.cmd(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(c.read_reply(), ">2\r\n$10\r\ninvalidate\r\n_\r\n");

    let info = writer.cmd(&["INFO"]).text();
    assert_eq!(info_field(&info, "tracking_clients"), Some("1"));
    assert_eq!(info_field(&info, "tracking_total_keys"), Some("0"));
    let list = writer.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=t db=0"), "{list}");
    assert!(list.contains("redir=0 resp=3"), "{list}");
}

#[test]
fn redirect_to_a_resp2_subscriber() {
    let server = Server::start(&[]);
    let mut sub = server.raw();
    let mut c = server.raw();
    let mut writer = server.raw();
    let id = client_id(&mut sub);
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "__redis__:invalidate"]),
        "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", "999999"]),
        "-ERR The client ID you want redirect to does not exist\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), format!(":{id}\r\n").as_str());
    assert_eq!(c.cmd(&["MGET", "a", "b"]), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(writer.cmd(&["SET", "b", "1"]), "+OK\r\n");
    assert_eq!(
        sub.read_reply(),
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nb\r\n"
    );
    // A RESP2 tracking client's flush null is RESP2's.
    assert_eq!(writer.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(
        sub.read_reply(),
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    );

    // Once the redirect client is gone, a RESP3 tracking client is told.
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["GET", "a"]), "_\r\n");
    assert_eq!(sub.cmd(&["QUIT"]), "+OK\r\n");
    corvid_tests::eventually(Duration::from_secs(5), "the redirect client to close", || {
        !writer.cmd(&["CLIENT", "LIST"]).contains(&format!("id={id} "))
    });
    assert_eq!(writer.cmd(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(
        c.read_reply(),
        format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n").as_str()
    );
    let info = c.cmd(&["CLIENT", "TRACKINGINFO"]);
    assert_eq!(
        info,
        format!("%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:{id}\r\n$8\r\nprefixes\r\n*0\r\n").as_str()
    );
}

#[test]
fn bcast_prefixes_are_batched_per_prefix() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut writer = server.raw();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "PREFIX", "a:"]),
        "-ERR PREFIX option requires BCAST mode to be enabled\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"]),
        "-ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"]),
        "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:x"]),
        "-ERR Prefix 'a:x' overlaps with an existing prefix 'a:'. Prefixes for a single client must not overlap.\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on"]),
        "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
    );
    // One transaction, one message per prefix, keys in order; c:1 is no one's.
    writer.send(b"*1\r\n$5\r\nMULTI\r\n");
    for k in ["b:2", "a:2", "a:1", "c:1", "b:1"] {
        writer.send(&corvid_tests::multibulk(&["SET", k, "v"]));
    }
    writer.send(b"*1\r\n$4\r\nEXEC\r\n");
    assert_eq!(writer.read_replies(7).last().unwrap(), "*5\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n");
    assert_eq!(c.read_reply(), ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\na:1\r\n$3\r\na:2\r\n");
    assert_eq!(c.read_reply(), ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\nb:1\r\n$3\r\nb:2\r\n");

    let info = writer.cmd(&["INFO", "stats"]).text();
    assert_eq!(info_field(&info, "tracking_total_prefixes"), Some("2"));
    let list = writer.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=tB db=0"), "{list}");
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKINGINFO"]),
        "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$2\r\na:\r\n$2\r\nb:\r\n"
    );

    // NOLOOP: the client's own changes are left out of its broadcasts.
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "mine", "1"]), "+OK\r\n");
    assert_eq!(writer.cmd(&["SET", "theirs", "1"]), "+OK\r\n");
    assert_eq!(c.read_reply(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\ntheirs\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn optin_tracks_only_after_client_caching_yes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut writer = server.raw();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "yes"]),
        "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "OPTIN"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "no"]),
        "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
    );
    assert_eq!(c.cmd(&["GET", "skipped"]), "_\r\n");
    assert_eq!(c.cmd(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "cached"]), "_\r\n");
    // CACHING lasted for one command.
    assert_eq!(c.cmd(&["GET", "skipped2"]), "_\r\n");
    for k in ["skipped", "skipped2", "cached"] {
        assert_eq!(writer.cmd(&["SET", k, "1"]), "+OK\r\n");
    }
    assert_eq!(c.read_reply(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\ncached\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}
