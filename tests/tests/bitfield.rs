//! BITFIELD and BITFIELD_RO through the real door: field types and
//! offsets, the three overflow modes, growth of the string, errors in
//! Redis's order, and what a write counts and notifies. Every expected
//! reply was taken from redis-server 7.0.15 and holds for it too.

use corvid_tests::{info_field, Server};

const BAD_TYPE: &str = "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n";
const BAD_OFFSET: &str = "-ERR bit offset is not an integer or out of range\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";

#[test]
fn get_set_incrby_and_overflow() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["BITFIELD", "b", "SET", "i5", "0", "0"]), "*1\r\n:0\r\n");
    // SET replies the old value, INCRBY the new one; OVERFLOW applies to
    // what follows it.
    assert_eq!(
        c.cmd(&["BITFIELD", "b", "SET", "u8", "0", "255", "GET", "u8", "0", "INCRBY", "u8", "0", "10", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1", "GET", "i8", "0"]),
        "*6\r\n:0\r\n:255\r\n:9\r\n:255\r\n$-1\r\n:-1\r\n"
    );
    // #n addresses the n-th field of the type's width.
    assert_eq!(c.cmd(&["BITFIELD", "b", "SET", "u8", "#2", "-1", "GET", "u8", "#2", "GET", "u4", "#5"]), "*3\r\n:0\r\n:255\r\n:15\r\n");
    assert_eq!(
        c.cmd(&["BITFIELD", "b", "OVERFLOW", "WRAP", "SET", "i64", "0", "-1", "GET", "i64", "0", "GET", "u63", "1", "INCRBY", "i64", "0", "-9223372036854775808"]),
        "*4\r\n:-71777218572845056\r\n:-1\r\n:9223372036854775807\r\n:9223372036854775807\r\n"
    );
    assert_eq!(c.cmd(&["BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-9223372036854775808"]), "*1\r\n:-1\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "b", "0", "3"]).as_bytes(), b"$4\r\n\xff\xff\xff\xff\r\n");
    // Written values saturate or fail too; a negative value is out of an
    // unsigned field's range.
    assert_eq!(
        c.cmd(&["BITFIELD", "b", "OVERFLOW", "SAT", "SET", "i8", "0", "200", "SET", "u4", "8", "-3", "GET", "i8", "0", "GET", "u4", "8"]),
        "*4\r\n:-1\r\n:15\r\n:127\r\n:15\r\n"
    );
    assert_eq!(c.cmd(&["BITFIELD", "b", "OVERFLOW", "FAIL", "SET", "i8", "0", "200", "GET", "i8", "0"]), "*2\r\n$-1\r\n:127\r\n");
    assert_eq!(c.cmd(&["BITFIELD_RO", "b", "GET", "u8", "0", "GET", "i4", "#3"]), "*2\r\n:127\r\n:-1\r\n");
    assert_eq!(c.cmd(&["BITFIELD", "b"]), "*0\r\n");
    assert_eq!(c.cmd(&["BITFIELD_RO", "b"]), "*0\r\n");
}

#[test]
fn strings_grow_and_missing_keys_read_zero() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["BITFIELD", "nokey", "GET", "u8", "0", "GET", "i64", "100"]), "*2\r\n:0\r\n:0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["BITFIELD", "big", "SET", "u1", "100", "1"]), "*1\r\n:0\r\n");
    assert_eq!(c.cmd(&["STRLEN", "big"]), ":13\r\n");
    // A refused write still makes room for its field.
    assert_eq!(c.cmd(&["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5"]), "*1\r\n$-1\r\n");
    assert_eq!(c.cmd(&["GET", "f"]).as_bytes(), b"$1\r\n\x00\r\n");
    // An integer-encoded string reads as its digits.
    c.cmd(&["SET", "n", "12345"]);
    assert_eq!(c.cmd(&["BITFIELD", "n", "GET", "u8", "0", "GET", "u16", "8"]), "*2\r\n:49\r\n:12851\r\n");
    assert_eq!(c.cmd(&["BITFIELD", "n", "SET", "u8", "0", "65"]), "*1\r\n:49\r\n");
    assert_eq!(c.cmd(&["GET", "n"]), "$5\r\nA2345\r\n");
}

#[test]
fn errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["LPUSH", "list", "a"]);
    for (args, reply) in [
        (&["BITFIELD", "b", "GET", "u64", "0"][..], BAD_TYPE),
        (&["BITFIELD", "b", "GET", "i65", "0"], BAD_TYPE),
        (&["BITFIELD", "b", "GET", "i0", "0"], BAD_TYPE),
        (&["BITFIELD", "b", "GET", "x8", "0"], BAD_TYPE),
        (&["BITFIELD", "b", "GET", "i", "0"], BAD_TYPE),
        (&["BITFIELD", "b", "GET", "i8", "-1"], BAD_OFFSET),
        (&["BITFIELD", "b", "GET", "i8", "#-1"], BAD_OFFSET),
        (&["BITFIELD", "b", "GET", "i8", "4294967296"], BAD_OFFSET),
        (&["BITFIELD", "b", "GET", "i8", "abc"], BAD_OFFSET),
        (&["BITFIELD", "b", "SET", "i8", "0", "abc"], "-ERR value is not an integer or out of range\r\n"),
        (&["BITFIELD", "b", "SET", "i8", "0"], SYNTAX),
        (&["BITFIELD", "b", "OVERFLOW", "foo"], "-ERR Invalid OVERFLOW type specified\r\n"),
        (&["BITFIELD", "b", "OVERFLOW"], SYNTAX),
        (&["BITFIELD", "b", "foo"], SYNTAX),
        (&["BITFIELD_RO", "b", "SET", "u8", "0", "1"], "-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
        // Arguments are checked before the key's type.
        (&["BITFIELD", "list", "GET", "i8", "x"], BAD_OFFSET),
        (&["BITFIELD_RO", "list", "SET", "u8", "0", "1"], "-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
    ] {
        assert_eq!(c.cmd(args), reply, "{args:?}");
    }
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    assert_eq!(c.cmd(&["BITFIELD", "list", "GET", "u8", "0"]), wrongtype);
    assert_eq!(c.cmd(&["BITFIELD", "list", "SET", "u8", "0", "1"]), wrongtype);
    assert_eq!(c.cmd(&["BITFIELD_RO", "list", "GET", "u8", "0"]), wrongtype);
    assert_eq!(c.cmd(&["EXISTS", "b"]), ":0\r\n");
    // The offset limit follows proto-max-bulk-len.
    c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1048576"]);
    assert_eq!(c.cmd(&["BITFIELD", "b", "SET", "u8", "8388608", "1"]), BAD_OFFSET);
    assert_eq!(c.cmd(&["BITFIELD", "b", "SET", "u8", "8388600", "1"]), "*1\r\n:0\r\n");
}

#[test]
fn changes_count_and_notify_as_setbit() {
    let server = Server::start(&["--notify-keyspace-events", "KEA"]);
    let mut c = server.raw();
    let dirty = |c: &mut corvid_tests::RawConn| -> i64 {
        let info = c.cmd(&["INFO", "persistence"]).text();
        info_field(&info, "rdb_changes_since_last_save").unwrap().parse().unwrap()
    };
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:setbit"]);
    let start = dirty(&mut c);
    // A new key counts once, a field that keeps its value not at all.
    c.cmd(&["SETBIT", "s", "0", "0"]);
    c.cmd(&["BITFIELD", "b", "SET", "i5", "0", "0"]);
    assert_eq!(dirty(&mut c), start + 2);
    c.cmd(&["SETBIT", "s", "0", "0"]);
    c.cmd(&["BITFIELD", "b", "SET", "i5", "0", "0", "GET", "u8", "0"]);
    assert_eq!(dirty(&mut c), start + 2);
    // One per changed field.
    c.cmd(&["BITFIELD", "b", "SET", "i5", "0", "1", "INCRBY", "u3", "5", "1"]);
    assert_eq!(dirty(&mut c), start + 4);
    let events: Vec<String> = sub.read_replies(3).iter().map(|r| r.text()).collect();
    assert_eq!(events, ["s", "b", "b"].map(|k| format!("*3\r\n$7\r\nmessage\r\n$21\r\n__keyevent@0__:setbit\r\n$1\r\n{k}\r\n")));
}
