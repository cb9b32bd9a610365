//! The wire: inline and multibulk requests, pipelining, RESP3, and how protocol errors
//! are answered (Redis `networking.c`: `processInlineBuffer`, `processMultibulkBuffer`).
//! Raw bytes throughout: the exact reply, and whether the connection stays open, is
//! the contract.

use corvid_tests::{multibulk, Server};

#[test]
fn inline_commands() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"PING\r\n");
    assert_eq!(c.read_reply(), "+PONG\r\n");
    // A bare LF ends a line too, and command names are case-insensitive.
    c.send(b"ping hello\n");
    assert_eq!(c.read_reply(), "$5\r\nhello\r\n");
    // Empty lines are skipped without a reply.
    c.send(b"\r\n\n\r\nPING\r\n");
    assert_eq!(c.read_reply(), "+PONG\r\n");
    // Quotes group words; double quotes understand escapes, single quotes do not.
    c.send(b"SET k \"a b\\x41\\n\"\r\nGET k\r\n");
    assert_eq!(c.read_replies(2), ["+OK\r\n", "$5\r\na bA\n\r\n"]);
}

#[test]
fn inline_single_quotes_are_literal() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"SET k 'a \\n b'\r\nGET k\r\n");
    assert_eq!(c.read_replies(2), ["+OK\r\n", "$6\r\na \\n b\r\n"]);
}

#[test]
fn inline_unbalanced_quotes_close_the_connection() {
    let server = Server::start(&[]);
    for request in [
        &b"SET k \"abc\r\n"[..],
        b"SET k 'abc\r\n",
        b"SET k \"a\"b\r\n",
    ] {
        let mut c = server.raw();
        c.send(request);
        assert_eq!(
            c.read_to_close(),
            "-ERR Protocol error: unbalanced quotes in request\r\n",
            "request {:?}",
            request.escape_ascii().to_string()
        );
    }
    // The server itself is unaffected.
    assert_eq!(server.raw().cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn pipeline_of_1000_commands_in_one_write() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut request = Vec::new();
    for _ in 0..1000 {
        request.extend_from_slice(&multibulk(&["INCR", "counter"]));
    }
    c.send(&request);
    for (i, reply) in c.read_replies(1000).into_iter().enumerate() {
        assert_eq!(reply, format!(":{}\r\n", i + 1).as_str());
    }
    assert_eq!(c.cmd(&["GET", "counter"]), "$4\r\n1000\r\n");
}

#[test]
fn pipeline_mixing_inline_and_multibulk() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut request = Vec::new();
    for i in 0..500 {
        request.extend_from_slice(format!("SET key:{i} value:{i}\r\n").as_bytes());
        request.extend_from_slice(&multibulk(&["GET", &format!("key:{i}")]));
    }
    c.send(&request);
    for i in 0..500 {
        assert_eq!(c.read_reply(), "+OK\r\n");
        let value = format!("value:{i}");
        assert_eq!(
            c.read_reply(),
            format!("${}\r\n{value}\r\n", value.len()).as_str()
        );
    }
}

#[test]
fn command_arriving_one_byte_at_a_time() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    for byte in multibulk(&["SET", "slow", "bytes"]) {
        c.send(&[byte]);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(c.read_reply(), "+OK\r\n");
    for byte in b"GET slow\r\n" {
        c.send(&[*byte]);
    }
    assert_eq!(c.read_reply(), "$5\r\nbytes\r\n");
}

#[test]
fn large_values_round_trip() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let value: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(c.cmd_bytes(&[&b"SET"[..], b"big", &value]), "+OK\r\n");
    let mut expected = b"$5000000\r\n".to_vec();
    expected.extend_from_slice(&value);
    expected.extend_from_slice(b"\r\n");
    assert_eq!(c.cmd(&["GET", "big"]), expected);
}

#[test]
fn empty_and_null_multibulk_are_ignored() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"*0\r\n*-1\r\nPING\r\n");
    assert_eq!(c.read_reply(), "+PONG\r\n");
}

#[test]
fn malformed_requests_get_a_protocol_error_then_the_connection_closes() {
    let server = Server::start(&[]);
    let cases: &[(&[u8], &str)] = &[
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*3000000000\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            "-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
            "-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"*1\r\n$abc\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
    ];
    for (request, error) in cases {
        let mut c = server.raw();
        c.send(request);
        assert_eq!(
            c.read_to_close(),
            *error,
            "request {:?}",
            request.escape_ascii().to_string()
        );
    }
    assert_eq!(server.raw().cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn commands_before_a_protocol_error_are_still_answered() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*1\r\nfoo\r\n");
    assert_eq!(
        c.read_to_close(),
        "+PONG\r\n$2\r\nhi\r\n-ERR Protocol error: expected '$', got 'f'\r\n"
    );
}

#[test]
fn lines_too_long_without_a_newline() {
    let server = Server::start(&[]);
    // Over 64 KiB (PROTO_INLINE_MAX_SIZE) of inline request without a newline.
    let mut c = server.raw();
    c.send(&vec![b'x'; 70_000]);
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: too big inline request\r\n"
    );
    // The same for a multibulk count line.
    let mut c = server.raw();
    let mut request = b"*".to_vec();
    request.extend(std::iter::repeat_n(b'1', 70_000));
    c.send(&request);
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: too big mbulk count string\r\n"
    );
}

#[test]
fn bulk_longer_than_default_proto_max_bulk_len() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // 512 MB + 1: announced only, never sent.
    c.send(b"*2\r\n$4\r\nECHO\r\n$536870913\r\n");
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
}

#[test]
fn bulk_longer_than_configured_proto_max_bulk_len() {
    let server = Server::start(&["--proto-max-bulk-len", "1mb"]);
    let mut c = server.raw();
    let at_limit = vec![b'v'; 1 << 20];
    assert_eq!(c.cmd_bytes(&[&b"SET"[..], b"k", &at_limit]), "+OK\r\n");
    assert_eq!(c.cmd(&["STRLEN", "k"]), ":1048576\r\n");
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n");
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );

    // The limit is also settable at run time.
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]),
        "+OK\r\n"
    );
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097153\r\n");
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
}

#[test]
fn unknown_command_and_wrong_arity() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["foo", "bar", "baz"]),
        "-ERR unknown command 'foo', with args beginning with: 'bar' 'baz' \r\n"
    );
    assert_eq!(
        c.cmd(&["NOSUCH"]),
        "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
    );
    assert_eq!(
        c.cmd(&["ping", "x", "y", "z"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(
        c.cmd(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    // Errors do not close the connection.
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn quit_replies_then_closes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(&multibulk(&["QUIT"]));
    assert_eq!(c.read_to_close(), "+OK\r\n");
}

#[test]
fn hello_3_switches_to_resp3() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let hello = c.cmd(&["HELLO", "3"]);
    // A 7-entry map: server, version, proto, id, mode, role, modules.
    assert!(hello.starts_with("%7\r\n$6\r\nserver\r\n"), "{hello:?}");
    for entry in [
        "$7\r\nversion\r\n",
        "$5\r\nproto\r\n:3\r\n",
        "$2\r\nid\r\n:",
        "$4\r\nmode\r\n$10\r\nstandalone\r\n",
        "$4\r\nrole\r\n$6\r\nmaster\r\n",
        "$7\r\nmodules\r\n*0\r\n",
    ] {
        assert!(
            hello.contains(entry),
            "HELLO 3 reply lacks {entry:?}: {hello:?}"
        );
    }

    // RESP3 types: null, and map (LCS IDX replies with one).
    assert_eq!(c.cmd(&["GET", "nokey"]), "_\r\n");
    assert_eq!(c.cmd(&["MSET", "a", "x", "b", "x"]), "+OK\r\n");
    // matches: [[[0, 0], [0, 0]]], len: 1
    let lcs_idx =
        "$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:0\r\n*2\r\n:0\r\n:0\r\n$3\r\nlen\r\n:1\r\n";
    assert_eq!(
        c.cmd(&["LCS", "a", "b", "IDX"]),
        format!("%2\r\n{lcs_idx}").as_str()
    );

    // HELLO 2 goes back: a flat array and RESP2 nulls.
    let hello = c.cmd(&["HELLO", "2"]);
    assert!(hello.starts_with("*14\r\n$6\r\nserver\r\n"), "{hello:?}");
    assert!(hello.contains("$5\r\nproto\r\n:2\r\n"), "{hello:?}");
    assert_eq!(c.cmd(&["GET", "nokey"]), "$-1\r\n");
    assert_eq!(
        c.cmd(&["LCS", "a", "b", "IDX"]),
        format!("*4\r\n{lcs_idx}").as_str()
    );
}

#[test]
fn hello_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "1"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "abc"]),
        "-ERR Protocol version is not an integer or out of range\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default"]),
        "-ERR Syntax error in HELLO option 'AUTH'\r\n"
    );
    // A failed HELLO leaves the protocol as it was.
    assert_eq!(c.cmd(&["GET", "nokey"]), "$-1\r\n");
}

#[test]
fn hello_without_version_reports_current_protocol() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let hello = c.cmd(&["HELLO"]);
    assert!(hello.starts_with("*14\r\n"), "{hello:?}");
    assert!(hello.contains("$5\r\nproto\r\n:2\r\n"), "{hello:?}");
}

#[test]
fn resp3_through_a_real_client() {
    let server = Server::start(&[]);
    let client = redis::Client::open(format!("{}?protocol=resp3", server.url())).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = redis::cmd("MSET")
        .arg("a")
        .arg("x")
        .arg("b")
        .arg("x")
        .query(&mut con)
        .unwrap();
    let value: redis::Value = redis::cmd("LCS")
        .arg("a")
        .arg("b")
        .arg("IDX")
        .query(&mut con)
        .unwrap();
    assert!(
        matches!(value, redis::Value::Map(ref m) if m.len() == 2),
        "{value:?}"
    );
    let value: redis::Value = redis::cmd("GET").arg("nokey").query(&mut con).unwrap();
    assert_eq!(value, redis::Value::Nil);
}

/// The collection types' RESP3 replies: maps, sets, doubles, nulls.
#[test]
fn resp3_collection_replies() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert!(c.cmd(&["HELLO", "3"]).starts_with("%"));
    assert_eq!(c.cmd(&["HSET", "h", "f", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["HGETALL", "h"]), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(c.cmd(&["SADD", "s", "a"]), ":1\r\n");
    assert_eq!(c.cmd(&["SMEMBERS", "s"]), "~1\r\n$1\r\na\r\n");
    assert_eq!(c.cmd(&["ZADD", "z", "1.5", "m"]), ":1\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "z", "m"]), ",1.5\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "z", "nomember"]), "_\r\n");
    assert!(c.cmd(&["HELLO", "2"]).starts_with("*"));
    assert_eq!(c.cmd(&["HGETALL", "h"]), "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "z", "m"]), "$3\r\n1.5\r\n");
}

/// A client may write a whole pipeline before reading any reply (redis-py and Jedis
/// pipelines do): the server keeps reading and queues the replies, as Redis does, rather
/// than waiting for the client to read while the client waits for it to read.
#[test]
fn a_pipeline_written_whole_before_reading_does_not_deadlock() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let arg = "x".repeat(400);
    let one = multibulk(&["ECHO", &arg]);
    // 40 MB each way: far more than the socket buffers of both ends hold.
    let n = 100_000;
    let mut all = Vec::with_capacity(one.len() * n);
    for _ in 0..n {
        all.extend_from_slice(&one);
    }
    c.send(&all);
    let reply = format!("${}\r\n{arg}\r\n", arg.len());
    for _ in 0..n {
        assert_eq!(c.read_reply(), reply.as_str());
    }
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}
