//! The string family (Redis `t_string.c`): SET and its options, GETEX, the INCR family
//! with its errors and float formatting, APPEND/SETRANGE/GETRANGE, LCS, MSETNX, and the
//! encodings `OBJECT ENCODING` reports. Error replies and float text are checked byte
//! for byte.

use corvid_tests::Server;
use redis::Commands;

const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INTEGER: &str = "-ERR value is not an integer or out of range\r\n";

#[test]
fn set_conditions_and_get() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "k", "v1", "XX"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v1", "NX"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v2", "NX"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v2", "XX"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$2\r\nv2\r\n");
    // GET returns the old value; with NX (allowed since 7.0) the old value is returned
    // and nothing is written when the key exists.
    assert_eq!(c.cmd(&["SET", "k", "v3", "GET"]), "$2\r\nv2\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v4", "NX", "GET"]), "$2\r\nv3\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$2\r\nv3\r\n");
    assert_eq!(c.cmd(&["SET", "new", "v", "NX", "GET"]), "$-1\r\n");
    assert_eq!(c.cmd(&["GET", "new"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["SET", "absent", "v", "GET", "XX"]), "$-1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "absent"]), ":0\r\n");
    // Options are case-insensitive.
    assert_eq!(c.cmd(&["set", "k", "v5", "xx", "get"]), "$2\r\nv3\r\n");
}

#[test]
fn set_expiry_options() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "100"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "100000"]), "+OK\r\n");
    let pttl: i64 = server.client().pttl("k").unwrap();
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    // KEEPTTL keeps it; a plain SET drops it.
    assert_eq!(c.cmd(&["SET", "k", "v2", "KEEPTTL"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v3"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    // Absolute times, in the far future so that the TTL is exact.
    assert_eq!(c.cmd(&["SET", "k", "v", "EXAT", "33177117420"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), ":33177117420\r\n");
    assert_eq!(
        c.cmd(&["SET", "k", "v", "PXAT", "33177117420123"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), ":33177117420123\r\n");
    // An absolute time in the past deletes at once.
    assert_eq!(c.cmd(&["SET", "k", "v", "PXAT", "1000"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
}

#[test]
fn set_option_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let invalid = "-ERR invalid expire time in 'set' command\r\n";
    for (args, reply) in [
        (&["SET", "k", "v", "NX", "XX"][..], SYNTAX),
        (&["SET", "k", "v", "EX", "10", "PX", "10"], SYNTAX),
        (&["SET", "k", "v", "KEEPTTL", "EX", "10"], SYNTAX),
        (&["SET", "k", "v", "EX"], SYNTAX),
        (&["SET", "k", "v", "FOO"], SYNTAX),
        (&["SET", "k", "v", "EX", "abc"], NOT_INTEGER),
        (&["SET", "k", "v", "EX", "0"], invalid),
        (&["SET", "k", "v", "PX", "-5"], invalid),
        (&["SET", "k", "v", "EX", "9999999999999999"], invalid),
    ] {
        assert_eq!(c.cmd(args), reply, "{args:?}");
    }
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn getex() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GETEX", "nokey", "EX", "10"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GETEX", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "100"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(c.cmd(&["GETEX", "k", "PERSIST"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["GETEX", "k", "EXAT", "33177117420"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), ":33177117420\r\n");
    assert_eq!(
        c.cmd(&["GETEX", "k", "PXAT", "33177117420500"]),
        "$1\r\nv\r\n"
    );
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), ":33177117420500\r\n");
    assert_eq!(c.cmd(&["GETEX", "k", "PX", "1"]), "$1\r\nv\r\n");
    corvid_tests::eventually(
        std::time::Duration::from_secs(5),
        "GETEX PX 1 expires the key",
        || c.cmd(&["EXISTS", "k"]) == ":0\r\n",
    );

    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "10", "PX", "10"]), SYNTAX);
    assert_eq!(c.cmd(&["GETEX", "k", "PERSIST", "EX", "1"]), SYNTAX);
    assert_eq!(c.cmd(&["GETEX", "k", "foo"]), SYNTAX);
    assert_eq!(
        c.cmd(&["GETEX", "k", "EX", "-1"]),
        "-ERR invalid expire time in 'getex' command\r\n"
    );
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "x"]), NOT_INTEGER);
}

#[test]
fn getset_and_getdel() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GETSET", "k", "a"]), "$-1\r\n");
    assert_eq!(c.cmd(&["GETSET", "k", "b"]), "$1\r\na\r\n");
    assert_eq!(c.cmd(&["GETDEL", "k"]), "$1\r\nb\r\n");
    assert_eq!(c.cmd(&["GETDEL", "k"]), "$-1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
}

#[test]
fn incr_family() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let v: i64 = con.incr("n", 1).unwrap();
    assert_eq!(v, 1);
    let v: i64 = redis::cmd("INCRBY")
        .arg("n")
        .arg(41)
        .query(&mut con)
        .unwrap();
    assert_eq!(v, 42);
    let v: i64 = redis::cmd("DECR").arg("n").query(&mut con).unwrap();
    assert_eq!(v, 41);
    let v: i64 = redis::cmd("DECRBY")
        .arg("n")
        .arg(50)
        .query(&mut con)
        .unwrap();
    assert_eq!(v, -9);
    let v: i64 = redis::cmd("DECRBY")
        .arg("fresh")
        .arg(-5)
        .query(&mut con)
        .unwrap();
    assert_eq!(v, 5);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "n", "-9223372036854775807"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DECR", "n"]), ":-9223372036854775808\r\n");
    // INCR keeps a TTL.
    assert_eq!(c.cmd(&["SET", "t", "1", "EX", "100"]), "+OK\r\n");
    assert_eq!(c.cmd(&["INCR", "t"]), ":2\r\n");
    assert_eq!(c.cmd(&["TTL", "t"]), ":100\r\n");
}

#[test]
fn incr_family_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let overflow = "-ERR increment or decrement would overflow\r\n";
    for (value, args, reply) in [
        ("abc", &["INCR", "n"][..], NOT_INTEGER),
        (" 1", &["INCR", "n"], NOT_INTEGER),
        ("1 ", &["INCR", "n"], NOT_INTEGER),
        ("01", &["INCR", "n"], NOT_INTEGER),
        ("1.5", &["INCR", "n"], NOT_INTEGER),
        ("9223372036854775808", &["INCR", "n"], NOT_INTEGER),
        ("1", &["INCRBY", "n", "abc"], NOT_INTEGER),
        ("1", &["INCRBY", "n", "1.5"], NOT_INTEGER),
        ("9223372036854775807", &["INCR", "n"], overflow),
        ("9223372036854775800", &["INCRBY", "n", "8"], overflow),
        ("-9223372036854775808", &["DECR", "n"], overflow),
        ("-2", &["DECRBY", "n", "9223372036854775807"], overflow),
        (
            "0",
            &["DECRBY", "n", "-9223372036854775808"],
            "-ERR decrement would overflow\r\n",
        ),
    ] {
        assert_eq!(c.cmd(&["SET", "n", value]), "+OK\r\n");
        assert_eq!(c.cmd(args), reply, "{args:?} on {value:?}");
    }
    // A failed INCR leaves the value alone.
    assert_eq!(c.cmd(&["GET", "n"]), "$1\r\n0\r\n");
}

/// Redis computes INCRBYFLOAT in `long double` and prints it with `%.17Lf`, trailing
/// zeros (and a trailing dot) removed: so 0.1 + 0.2 is "0.3", not the f64 "0.30000000000000004".
#[test]
fn incrbyfloat_formatting() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let bulk = |s: &str| format!("${}\r\n{s}\r\n", s.len());
    for (start, increment, result) in [
        (None, "1.23456789012345678", "1.23456789012345678"),
        (Some("0"), "0.1", "0.1"),
        (Some("0.1"), "0.2", "0.3"),
        (Some("10.50"), "0.1", "10.6"),
        (Some("3"), "1.0", "4"),
        (Some("1"), "-1.5", "-0.5"),
        (Some("1.5"), "-1.5", "0"),
        (Some("5.0e3"), "2.0e2", "5200"),
        (Some("17179869184"), "1.5", "17179869185.5"),
        (Some("1"), "1e-20", "1"),
        (Some("0"), "-0.001", "-0.001"),
    ] {
        match start {
            Some(start) => assert_eq!(c.cmd(&["SET", "f", start]), "+OK\r\n"),
            None => assert_eq!(c.cmd(&["DEL", "f"]), ":0\r\n"),
        }
        assert_eq!(
            c.cmd(&["INCRBYFLOAT", "f", increment]),
            bulk(result).as_str(),
            "{start:?} + {increment}"
        );
        assert_eq!(c.cmd(&["GET", "f"]), bulk(result).as_str());
    }
}

#[test]
fn incrbyfloat_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let not_float = "-ERR value is not a valid float\r\n";
    let nan_or_inf = "-ERR increment would produce NaN or Infinity\r\n";
    for (value, increment, reply) in [
        ("1", "abc", not_float),
        ("1", "", not_float),
        ("abc", "1", not_float),
        ("1 ", "1", not_float),
        ("1", "+inf", nan_or_inf),
        ("1", "-inf", nan_or_inf),
        ("1", "nan", not_float),
        ("1", " 2", not_float),
    ] {
        assert_eq!(c.cmd(&["SET", "f", value]), "+OK\r\n");
        assert_eq!(
            c.cmd(&["INCRBYFLOAT", "f", increment]),
            reply,
            "{value:?} + {increment:?}"
        );
        assert_eq!(
            c.cmd(&["GET", "f"]),
            format!("${}\r\n{value}\r\n", value.len()).as_str()
        );
    }
}

#[test]
fn append() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["APPEND", "a", "hello"]), ":5\r\n");
    assert_eq!(c.cmd(&["APPEND", "a", " world"]), ":11\r\n");
    assert_eq!(c.cmd(&["GET", "a"]), "$11\r\nhello world\r\n");
    assert_eq!(c.cmd(&["APPEND", "a", ""]), ":11\r\n");
    // Appending to an integer-encoded value appends to its text.
    assert_eq!(c.cmd(&["SET", "n", "12"]), "+OK\r\n");
    assert_eq!(c.cmd(&["APPEND", "n", "34"]), ":4\r\n");
    assert_eq!(c.cmd(&["INCR", "n"]), ":1235\r\n");
}

#[test]
fn setrange() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SETRANGE", "k", "5", "x"]), ":6\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), b"$6\r\n\0\0\0\0\0x\r\n");
    assert_eq!(c.cmd(&["SET", "k", "Hello World"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SETRANGE", "k", "6", "Redis"]), ":11\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$11\r\nHello Redis\r\n");
    assert_eq!(c.cmd(&["SETRANGE", "k", "0", ""]), ":11\r\n");
    // An empty write to a missing key creates nothing.
    assert_eq!(c.cmd(&["SETRANGE", "nokey", "10", ""]), ":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), ":0\r\n");
    // On an integer-encoded value.
    assert_eq!(c.cmd(&["SET", "n", "1234"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SETRANGE", "n", "1", "9"]), ":4\r\n");
    assert_eq!(c.cmd(&["GET", "n"]), "$4\r\n1934\r\n");
    assert_eq!(
        c.cmd(&["SETRANGE", "k", "-1", "x"]),
        "-ERR offset is out of range\r\n"
    );
    assert_eq!(c.cmd(&["SETRANGE", "k", "x", "x"]), NOT_INTEGER);
    assert_eq!(
        c.cmd(&["SETRANGE", "k", "536870912", "x"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
}

#[test]
fn getrange() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GETRANGE", "nokey", "0", "-1"]), "$0\r\n\r\n");
    assert_eq!(c.cmd(&["SET", "g", "Hello World"]), "+OK\r\n");
    for (start, end, reply) in [
        ("0", "4", "$5\r\nHello\r\n"),
        ("-5", "-1", "$5\r\nWorld\r\n"),
        ("0", "-1", "$11\r\nHello World\r\n"),
        ("5", "3", "$0\r\n\r\n"),
        ("-100", "100", "$11\r\nHello World\r\n"),
        ("0", "-100", "$1\r\nH\r\n"),
        ("20", "30", "$0\r\n\r\n"),
    ] {
        assert_eq!(
            c.cmd(&["GETRANGE", "g", start, end]),
            reply,
            "GETRANGE g {start} {end}"
        );
    }
    assert_eq!(c.cmd(&["SET", "n", "1234"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "n", "1", "2"]), "$2\r\n23\r\n");
    assert_eq!(c.cmd(&["SUBSTR", "n", "0", "0"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "g", "a", "1"]), NOT_INTEGER);
}

#[test]
fn lcs() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["MSET", "k1", "ohmytext", "k2", "mynewtext"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["LCS", "k1", "k2"]), "$6\r\nmytext\r\n");
    assert_eq!(c.cmd(&["LCS", "k1", "k2", "LEN"]), ":6\r\n");
    assert_eq!(
        c.cmd(&["LCS", "k1", "k2", "IDX"]),
        concat!(
            "*4\r\n$7\r\nmatches\r\n*2\r\n",
            "*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n",
            "*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n",
            "$3\r\nlen\r\n:6\r\n"
        )
    );
    assert_eq!(
        c.cmd(&["LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
    );
    // Missing keys are empty strings.
    assert_eq!(c.cmd(&["LCS", "k1", "nokey"]), "$0\r\n\r\n");
    assert_eq!(
        c.cmd(&["LCS", "k1", "k2", "LEN", "IDX"]),
        "-ERR If you want both the length and indexes, please just use IDX.\r\n"
    );
    assert_eq!(c.cmd(&["LCS", "k1", "k2", "FOO"]), SYNTAX);
}

#[test]
fn mset_and_msetnx() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["MGET", "a", "b", "nokey"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
    );
    assert_eq!(c.cmd(&["MSETNX", "x1", "a", "x2", "b"]), ":1\r\n");
    // One existing key and nothing is written.
    assert_eq!(c.cmd(&["MSETNX", "x2", "c", "x3", "d"]), ":0\r\n");
    assert_eq!(c.cmd(&["MGET", "x2", "x3"]), "*2\r\n$1\r\nb\r\n$-1\r\n");
    // The same new key twice: the last value wins.
    assert_eq!(c.cmd(&["MSETNX", "y1", "a", "y1", "b"]), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "y1"]), "$1\r\nb\r\n");
    assert_eq!(
        c.cmd(&["MSETNX", "a"]),
        "-ERR wrong number of arguments for 'msetnx' command\r\n"
    );
    assert_eq!(
        c.cmd(&["MSETNX", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'msetnx' command\r\n"
    );
    assert_eq!(
        c.cmd(&["MSET", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
}

#[test]
fn strlen_and_setnx_setex() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["STRLEN", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["SET", "n", "-12345"]), "+OK\r\n");
    assert_eq!(c.cmd(&["STRLEN", "n"]), ":6\r\n");
    assert_eq!(c.cmd(&["SETNX", "k", "a"]), ":1\r\n");
    assert_eq!(c.cmd(&["SETNX", "k", "b"]), ":0\r\n");
    assert_eq!(c.cmd(&["SETEX", "k", "100", "c"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(
        c.cmd(&["SETEX", "k", "0", "c"]),
        "-ERR invalid expire time in 'setex' command\r\n"
    );
    assert_eq!(
        c.cmd(&["PSETEX", "k", "-1", "c"]),
        "-ERR invalid expire time in 'psetex' command\r\n"
    );
}

#[test]
fn object_encoding_of_strings() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let encoding = |c: &mut corvid_tests::RawConn, value: &str| {
        assert_eq!(c.cmd(&["SET", "e", value]), "+OK\r\n");
        c.cmd(&["OBJECT", "ENCODING", "e"]).text()
    };
    let long_44 = "x".repeat(44);
    let long_45 = "x".repeat(45);
    for (value, expected) in [
        ("123", "int"),
        ("-1", "int"),
        ("0", "int"),
        ("9223372036854775807", "int"),
        ("-9223372036854775808", "int"),
        ("9223372036854775808", "embstr"),
        ("12345678901234567890", "embstr"),
        ("0123", "embstr"),
        ("+1", "embstr"),
        (" 1", "embstr"),
        ("1.5", "embstr"),
        ("abc", "embstr"),
        (long_44.as_str(), "embstr"),
        (long_45.as_str(), "raw"),
    ] {
        let expected = format!("${}\r\n{expected}\r\n", expected.len());
        assert_eq!(
            encoding(&mut c, value),
            expected,
            "OBJECT ENCODING of {value:?}"
        );
    }
    // Modifying a string in place makes it raw; INCR makes it an int again.
    assert_eq!(c.cmd(&["SET", "e", "abc"]), "+OK\r\n");
    assert_eq!(c.cmd(&["APPEND", "e", "d"]), ":4\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "e"]), "$3\r\nraw\r\n");
    assert_eq!(c.cmd(&["SET", "e", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["APPEND", "e", "2"]), ":2\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "e"]), "$3\r\nraw\r\n");
    assert_eq!(c.cmd(&["INCR", "e"]), ":13\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "e"]), "$3\r\nint\r\n");
    assert_eq!(c.cmd(&["SET", "e", "1234"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SETRANGE", "e", "0", "9"]), ":4\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "e"]), "$3\r\nraw\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "nokey"]), "$-1\r\n");
}

#[test]
fn binary_safe_values() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let value: Vec<u8> = (0..=255u8).collect();
    let _: () = con.set(&b"key\0with\r\nbytes"[..], &value[..]).unwrap();
    let back: Vec<u8> = con.get(&b"key\0with\r\nbytes"[..]).unwrap();
    assert_eq!(back, value);
}

#[test]
fn setrange_and_setbit_refuse_offsets_past_the_limit() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    for offset in ["9223372036854775807", "2147483647", "536870912"] {
        assert_eq!(
            c.cmd(&["SETRANGE", "k", offset, "A"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
    }
    assert_eq!(c.cmd(&["SETBIT", "k", "4294967296", "1"]), "-ERR bit offset is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&["SETBIT", "k", "-1", "1"]), "-ERR bit offset is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&["SETBIT", "k", "0", "2"]), "-ERR bit is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
    // Bits count from the most significant bit of the first byte.
    assert_eq!(c.cmd(&["SETBIT", "k", "1", "1"]), ":0\r\n");
    assert_eq!(c.cmd(&["SETBIT", "k", "1", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n@\r\n");
    assert_eq!(c.cmd(&["SET", "n", "12"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GETBIT", "n", "2"]), ":1\r\n");
    assert_eq!(c.cmd(&["BITCOUNT", "n"]), ":6\r\n");
    assert_eq!(c.cmd(&["BITCOUNT", "n", "2", "10", "BIT"]), ":4\r\n");
    assert_eq!(c.cmd(&["BITCOUNT", "n", "0"]), "-ERR syntax error\r\n");
    // Both ends negative with start after end: nothing, however short the string.
    assert_eq!(c.cmd(&["BITCOUNT", "n", "-6", "-7"]), ":0\r\n");
}

#[test]
fn bitop_and_bitpos() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_bytes(&[&b"SET"[..], b"a", b"\xff\xf0"]);
    c.cmd_bytes(&[&b"SET"[..], b"b", b"\x0f"]);
    // Shorter sources read as zero-padded; the result is as long as the longest.
    assert_eq!(c.cmd(&["BITOP", "AND", "r", "a", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["GET", "r"]).as_bytes(), b"$2\r\n\x0f\x00\r\n");
    assert_eq!(c.cmd(&["BITOP", "OR", "r", "a", "b", "missing"]), ":2\r\n");
    assert_eq!(c.cmd(&["GET", "r"]).as_bytes(), b"$2\r\n\xff\xf0\r\n");
    assert_eq!(c.cmd(&["BITOP", "XOR", "r", "a", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["GET", "r"]).as_bytes(), b"$2\r\n\xf0\xf0\r\n");
    assert_eq!(c.cmd(&["BITOP", "NOT", "r", "b"]), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "r"]).as_bytes(), b"$1\r\n\xf0\r\n");
    assert_eq!(c.cmd(&["BITOP", "NOT", "r", "a", "b"]), "-ERR BITOP NOT must be called with a single source key.\r\n");
    c.cmd(&["LPUSH", "l", "x"]);
    assert_eq!(c.cmd(&["BITOP", "AND", "r", "a", "l"]), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    // An empty result deletes the destination.
    assert_eq!(c.cmd(&["BITOP", "OR", "r", "none1", "none2"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "r"]), ":0\r\n");

    // \xff\xf0: the first clear bit is 12; without an end, past the string.
    assert_eq!(c.cmd(&["BITPOS", "a", "0"]), ":12\r\n");
    assert_eq!(c.cmd(&["BITPOS", "a", "1", "1"]), ":8\r\n");
    assert_eq!(c.cmd(&["BITPOS", "a", "0", "0", "0"]), ":-1\r\n");
    assert_eq!(c.cmd(&["BITPOS", "a", "0", "0"]), ":12\r\n");
    assert_eq!(c.cmd(&["BITPOS", "a", "1", "9", "15", "BIT"]), ":9\r\n");
    assert_eq!(c.cmd(&["BITPOS", "a", "1", "12", "15", "BIT"]), ":-1\r\n");
    c.cmd_bytes(&[&b"SET"[..], b"ones", b"\xff"]);
    assert_eq!(c.cmd(&["BITPOS", "ones", "0"]), ":8\r\n");
    assert_eq!(c.cmd(&["BITPOS", "ones", "0", "0", "-1"]), ":-1\r\n");
    assert_eq!(c.cmd(&["BITPOS", "missing", "1"]), ":-1\r\n");
    assert_eq!(c.cmd(&["BITPOS", "missing", "0"]), ":0\r\n");
    assert_eq!(c.cmd(&["BITPOS", "a", "2"]), "-ERR The bit argument must be 1 or 0.\r\n");
}
