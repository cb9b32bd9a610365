//! Sorted sets through the real door: every non-blocking sorted-set
//! command's replies and errors, in both encodings (listpack and skiplist)
//! and both protocols. Each assertion holds for Redis 7.0 too.

use corvid_tests::{RawConn, Server};

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// The RESP2 reply of an array of bulk strings.
fn bulks(items: &[&str]) -> Vec<u8> {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&format!("${}\r\n{i}\r\n", i.len()));
    }
    s.into_bytes()
}

/// A server whose sorted sets are listpacks, and one where they are
/// skiplists from the first member on.
fn servers() -> [(Server, &'static str); 2] {
    [
        (Server::start(&[]), "listpack"),
        (Server::start(&["--zset-max-listpack-entries", "0"]), "skiplist"),
    ]
}

fn encoding(c: &mut RawConn, key: &str) -> String {
    c.cmd(&["OBJECT", "ENCODING", key]).text()
}

#[test]
fn zadd_options_and_scores() {
    for (server, enc) in servers() {
        let mut c = server.raw();
        assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2", "b", "1.5", "c"]), ":3\r\n");
        assert_eq!(encoding(&mut c, "z"), format!("${}\r\n{enc}\r\n", enc.len()));
        assert_eq!(c.cmd(&["ZADD", "z", "NX", "9", "a", "3", "d"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZADD", "z", "XX", "CH", "5", "a", "3", "nope"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZADD", "z", "GT", "CH", "4", "a", "3", "b"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZADD", "z", "LT", "CH", "1", "a", "3", "b"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), "$1\r\n1\r\n");
        assert_eq!(c.cmd(&["ZSCORE", "z", "c"]), "$3\r\n1.5\r\n");
        assert_eq!(c.cmd(&["ZSCORE", "z", "nope"]), "$-1\r\n");
        assert_eq!(c.cmd(&["ZSCORE", "nokey", "a"]), "$-1\r\n");
        assert_eq!(c.cmd(&["ZMSCORE", "z", "a", "nope", "b"]), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n");
        assert_eq!(c.cmd(&["ZMSCORE", "nokey", "a"]), "*1\r\n$-1\r\n");
        assert_eq!(c.cmd(&["ZCARD", "z"]), ":4\r\n");
        assert_eq!(c.cmd(&["ZCARD", "nokey"]), ":0\r\n");
        // INCR replies with the new score, nil when an option stops it.
        assert_eq!(c.cmd(&["ZADD", "z", "INCR", "0.5", "a"]), "$3\r\n1.5\r\n");
        assert_eq!(c.cmd(&["ZADD", "z", "NX", "INCR", "1", "a"]), "$-1\r\n");
        assert_eq!(c.cmd(&["ZADD", "z", "XX", "INCR", "1", "new"]), "$-1\r\n");
        assert_eq!(c.cmd(&["ZADD", "nokey", "XX", "1", "a"]), ":0\r\n");
        assert_eq!(c.cmd(&["EXISTS", "nokey"]), ":0\r\n");
        assert_eq!(c.cmd(&["ZINCRBY", "z", "-2", "a"]), "$4\r\n-0.5\r\n");
        assert_eq!(c.cmd(&["ZINCRBY", "z", "1e3", "fresh"]), "$4\r\n1000\r\n");
        // Scores are parsed as strtod does; infinities are scores too.
        assert_eq!(c.cmd(&["ZADD", "s", "0x10", "hex", "-inf", "low", "+inf", "high"]), ":3\r\n");
        assert_eq!(c.cmd(&["ZSCORE", "s", "hex"]), "$2\r\n16\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "s", "0", "-1", "WITHSCORES"]),
            bulks(&["low", "-inf", "hex", "16", "high", "inf"]));
        assert_eq!(c.cmd(&["ZINCRBY", "s", "-inf", "high"]), "-ERR resulting score is not a number (NaN)\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "INCR", "-inf", "high"]), "-ERR resulting score is not a number (NaN)\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "nan", "x"]), "-ERR value is not a valid float\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", " 1", "x"]), "-ERR value is not a valid float\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "1e400", "x"]), "-ERR value is not a valid float\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "1", "x", "y", "z"]), "-ERR value is not a valid float\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "1", "x", "2"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "NX", "1"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "NX"]), "-ERR wrong number of arguments for 'zadd' command\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "NX", "XX", "1", "x"]),
            "-ERR XX and NX options at the same time are not compatible\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "GT", "LT", "1", "x"]),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "NX", "GT", "1", "x"]),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n");
        assert_eq!(c.cmd(&["ZADD", "s", "INCR", "1", "x", "2", "y"]),
            "-ERR INCR option supports a single increment-element pair\r\n");
        assert_eq!(c.cmd(&["ZINCRBY", "s", "x", "m"]), "-ERR value is not a valid float\r\n");
        c.cmd(&["SET", "str", "v"]);
        assert_eq!(c.cmd(&["ZADD", "str", "1", "a"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZSCORE", "str", "a"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZMSCORE", "str", "a"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZCARD", "str"]), WRONGTYPE);
    }
}

#[test]
fn listpack_until_a_threshold_then_skiplist() {
    let server = Server::start(&["--zset-max-listpack-entries", "3", "--zset-max-listpack-value", "8"]);
    let mut c = server.raw();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(encoding(&mut c, "z"), "$8\r\nlistpack\r\n");
    c.cmd(&["ZADD", "z", "4", "d"]);
    assert_eq!(encoding(&mut c, "z"), "$8\r\nskiplist\r\n");
    // Removing members never converts back.
    c.cmd(&["ZREM", "z", "a", "b", "c"]);
    assert_eq!(encoding(&mut c, "z"), "$8\r\nskiplist\r\n");
    c.cmd(&["ZADD", "long", "1", "123456789"]);
    assert_eq!(encoding(&mut c, "long"), "$8\r\nskiplist\r\n");
    // A STORE result small enough again is a listpack.
    assert_eq!(c.cmd(&["ZUNIONSTORE", "u", "1", "z"]), ":1\r\n");
    assert_eq!(encoding(&mut c, "u"), "$8\r\nlistpack\r\n");
    assert_eq!(c.cmd(&["ZRANGESTORE", "r", "z", "0", "-1"]), ":1\r\n");
    assert_eq!(encoding(&mut c, "r"), "$8\r\nlistpack\r\n");
}

#[test]
fn ranks_and_ranges() {
    for (server, _) in servers() {
        let mut c = server.raw();
        c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
        assert_eq!(c.cmd(&["ZRANGE", "z", "1", "-2"]), bulks(&["b", "c", "d"]));
        assert_eq!(c.cmd(&["ZRANGE", "z", "-100", "100", "REV"]), bulks(&["e", "d", "c", "b", "a"]));
        assert_eq!(c.cmd(&["ZRANGE", "z", "3", "1"]), "*0\r\n");
        assert_eq!(c.cmd(&["ZREVRANGE", "z", "0", "1", "WITHSCORES"]), bulks(&["e", "5", "d", "4"]));
        assert_eq!(c.cmd(&["ZRANGE", "z", "(1", "3", "BYSCORE"]), bulks(&["b", "c"]));
        assert_eq!(c.cmd(&["ZRANGE", "z", "+inf", "(3", "BYSCORE", "REV", "LIMIT", "1", "5"]), bulks(&["d"]));
        assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "2", "2"]), bulks(&["c", "d"]));
        assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]), "*0\r\n");
        assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "2", "3", "WITHSCORES"]), bulks(&["b", "2", "c", "3"]));
        assert_eq!(c.cmd(&["ZREVRANGEBYSCORE", "z", "4", "2", "LIMIT", "0", "-1"]), bulks(&["d", "c", "b"]));
        assert_eq!(c.cmd(&["ZCOUNT", "z", "(1", "(5"]), ":3\r\n");
        assert_eq!(c.cmd(&["ZCOUNT", "z", "5", "1"]), ":0\r\n");
        assert_eq!(c.cmd(&["ZCOUNT", "nokey", "1", "5"]), ":0\r\n");
        assert_eq!(c.cmd(&["ZRANK", "z", "c"]), ":2\r\n");
        assert_eq!(c.cmd(&["ZREVRANK", "z", "c"]), ":2\r\n");
        assert_eq!(c.cmd(&["ZREVRANK", "z", "a"]), ":4\r\n");
        assert_eq!(c.cmd(&["ZRANK", "z", "nope"]), "$-1\r\n");
        assert_eq!(c.cmd(&["ZRANK", "nokey", "a"]), "$-1\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "nokey", "0", "-1"]), "*0\r\n");
        // Errors, in Redis's order.
        assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
            "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "z", "a", "c", "BYLEX", "WITHSCORES"]),
            "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "z", "x", "1", "BYSCORE"]), "-ERR min or max is not a float\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "z", "0", "x"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "0", "1", "REV"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "0"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "nan", "1"]), "-ERR min or max is not a float\r\n");
        assert_eq!(c.cmd(&["ZCOUNT", "z", "1", "(x"]), "-ERR min or max is not a float\r\n");
        c.cmd(&["SET", "str", "v"]);
        assert_eq!(c.cmd(&["ZRANGE", "str", "0", "-1"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZRANK", "str", "a"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZCOUNT", "str", "0", "1"]), WRONGTYPE);
    }
}

#[test]
fn lexicographic_ranges() {
    for (server, _) in servers() {
        let mut c = server.raw();
        c.cmd(&["ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"]);
        assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "-", "+"]), bulks(&["a", "b", "c", "d", "e"]));
        assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "(b", "[d"]), bulks(&["c", "d"]));
        assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "[b", "+", "LIMIT", "1", "2"]), bulks(&["c", "d"]));
        assert_eq!(c.cmd(&["ZREVRANGEBYLEX", "z", "[c", "-"]), bulks(&["c", "b", "a"]));
        assert_eq!(c.cmd(&["ZRANGE", "z", "(d", "(a", "BYLEX", "REV"]), bulks(&["c", "b"]));
        assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "+", "-"]), "*0\r\n");
        assert_eq!(c.cmd(&["ZLEXCOUNT", "z", "[b", "(e"]), ":3\r\n");
        assert_eq!(c.cmd(&["ZLEXCOUNT", "z", "-", "+"]), ":5\r\n");
        assert_eq!(c.cmd(&["ZLEXCOUNT", "z", "b", "+"]), "-ERR min or max not valid string range item\r\n");
        assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "-x", "+"]), "-ERR min or max not valid string range item\r\n");
        assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "z", "(a", "[c"]), ":2\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), bulks(&["a", "d", "e"]));
        assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "z", "-", "+"]), ":3\r\n");
        assert_eq!(c.cmd(&["EXISTS", "z"]), ":0\r\n");
    }
}

/// Lexicographic ranges assume equal scores; over mixed scores a listpack
/// answers as Redis's walk from its ends does.
#[test]
fn lexicographic_ranges_over_mixed_scores_in_a_listpack() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["ZADD", "z", "1", "b", "2", "a", "3", "c"]);
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "[a", "[b"]), bulks(&["b", "a"]));
    assert_eq!(c.cmd(&["ZREVRANGEBYLEX", "z", "[b", "[a"]), bulks(&["a", "b"]));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "z", "[a", "[b"]), ":2\r\n");
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "z", "[a", "[b"]), ":2\r\n");
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), bulks(&["c"]));
}

#[test]
fn removals_delete_emptied_keys() {
    for (server, _) in servers() {
        let mut c = server.raw();
        c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
        assert_eq!(c.cmd(&["ZREM", "z", "a", "nope", "a"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZREM", "nokey", "a"]), ":0\r\n");
        assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "(2", "4"]), ":2\r\n");
        assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "x", "4"]), "-ERR min or max is not a float\r\n");
        assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "5", "10"]), ":0\r\n");
        assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "-1", "-1"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "0", "x"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), bulks(&["b"]));
        assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "0", "-1"]), ":1\r\n");
        assert_eq!(c.cmd(&["EXISTS", "z"]), ":0\r\n");
        c.cmd(&["ZADD", "z", "1", "a"]);
        assert_eq!(c.cmd(&["ZREM", "z", "a", "b"]), ":1\r\n");
        assert_eq!(c.cmd(&["EXISTS", "z"]), ":0\r\n");
        c.cmd(&["SET", "str", "v"]);
        assert_eq!(c.cmd(&["ZREM", "str", "a"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "str", "0", "1"]), WRONGTYPE);
    }
}

#[test]
fn union_intersection_difference() {
    for (server, _) in servers() {
        let mut c = server.raw();
        c.cmd(&["ZADD", "a", "1", "x", "2", "y", "3", "z"]);
        c.cmd(&["ZADD", "b", "10", "y", "20", "z", "30", "w"]);
        c.cmd(&["SADD", "s", "z", "w"]);
        assert_eq!(c.cmd(&["ZUNION", "2", "a", "b", "WITHSCORES"]),
            bulks(&["x", "1", "y", "12", "z", "23", "w", "30"]));
        assert_eq!(c.cmd(&["ZUNION", "2", "a", "b", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX"]),
            bulks(&["x", "y", "z", "w"]));
        assert_eq!(c.cmd(&["ZINTER", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"]), bulks(&["y", "2", "z", "3"]));
        // A plain set's members score 1.
        assert_eq!(c.cmd(&["ZINTER", "2", "a", "s", "WITHSCORES"]), bulks(&["z", "4"]));
        assert_eq!(c.cmd(&["ZDIFF", "2", "a", "b", "WITHSCORES"]), bulks(&["x", "1"]));
        assert_eq!(c.cmd(&["ZDIFF", "2", "a", "a"]), "*0\r\n");
        assert_eq!(c.cmd(&["ZUNION", "2", "a", "nokey"]), bulks(&["x", "y", "z"]));
        assert_eq!(c.cmd(&["ZINTER", "2", "a", "nokey"]), "*0\r\n");
        assert_eq!(c.cmd(&["ZINTERCARD", "2", "a", "b"]), ":2\r\n");
        assert_eq!(c.cmd(&["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"]), "-ERR LIMIT can't be negative\r\n");
        assert_eq!(c.cmd(&["ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "-1"]), ":4\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
            bulks(&["w", "-30", "z", "-17", "y", "-8", "x", "1"]));
        assert_eq!(c.cmd(&["ZINTERSTORE", "dst", "2", "a", "nokey"]), ":0\r\n");
        assert_eq!(c.cmd(&["EXISTS", "dst"]), ":0\r\n");
        assert_eq!(c.cmd(&["ZDIFFSTORE", "a", "2", "a", "s"]), ":2\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "a", "0", "-1"]), bulks(&["x", "y"]));
        // +inf and -inf add up to 0 rather than NaN.
        c.cmd(&["ZADD", "p", "inf", "m"]);
        c.cmd(&["ZADD", "n", "-inf", "m"]);
        assert_eq!(c.cmd(&["ZUNION", "2", "p", "n", "WITHSCORES"]), bulks(&["m", "0"]));
        // Errors.
        assert_eq!(c.cmd(&["ZUNION", "0", "a"]), "-ERR at least 1 input key is needed for 'zunion' command\r\n");
        assert_eq!(c.cmd(&["ZUNIONSTORE", "d", "0", "a"]),
            "-ERR at least 1 input key is needed for 'zunionstore' command\r\n");
        assert_eq!(c.cmd(&["ZUNION", "3", "a", "b"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZUNION", "x", "a"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(c.cmd(&["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"]), "-ERR weight value is not a float\r\n");
        assert_eq!(c.cmd(&["ZUNION", "2", "a", "b", "WEIGHTS", "1"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZUNION", "1", "a", "AGGREGATE", "AVG"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZDIFF", "1", "a", "WEIGHTS", "1"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZUNIONSTORE", "d", "1", "a", "WITHSCORES"]), "-ERR syntax error\r\n");
        c.cmd(&["SET", "str", "v"]);
        // The type is checked before the options.
        assert_eq!(c.cmd(&["ZUNION", "2", "a", "str", "BAD"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZINTERCARD", "1", "str"]), WRONGTYPE);
    }
}

#[test]
fn pops() {
    for (server, _) in servers() {
        let mut c = server.raw();
        c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
        assert_eq!(c.cmd(&["ZPOPMIN", "z"]), bulks(&["a", "1"]));
        assert_eq!(c.cmd(&["ZPOPMAX", "z", "2"]), bulks(&["d", "4", "c", "3"]));
        assert_eq!(c.cmd(&["ZPOPMIN", "z", "0"]), "*0\r\n");
        assert_eq!(c.cmd(&["ZPOPMIN", "nokey"]), "*0\r\n");
        assert_eq!(c.cmd(&["ZPOPMIN", "z", "-1"]), "-ERR value is out of range, must be positive\r\n");
        assert_eq!(c.cmd(&["ZPOPMIN", "z", "1", "2"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZPOPMIN", "z", "10"]), bulks(&["b", "2"]));
        assert_eq!(c.cmd(&["EXISTS", "z"]), ":0\r\n");
        c.cmd(&["ZADD", "z2", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(c.cmd(&["ZMPOP", "2", "nokey", "z2", "MAX", "COUNT", "2"]),
            "*2\r\n$2\r\nz2\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
        assert_eq!(c.cmd(&["ZMPOP", "1", "z2", "MIN"]), "*2\r\n$2\r\nz2\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
        assert_eq!(c.cmd(&["ZMPOP", "1", "z2", "MIN"]), "*-1\r\n");
        assert_eq!(c.cmd(&["ZMPOP", "0", "z2", "MIN"]), "-ERR numkeys should be greater than 0\r\n");
        assert_eq!(c.cmd(&["ZMPOP", "1", "z2", "MIDDLE"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZMPOP", "2", "z2", "MIN"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZMPOP", "1", "z2", "MIN", "COUNT", "0"]), "-ERR count should be greater than 0\r\n");
        assert_eq!(c.cmd(&["ZMPOP", "1", "z2", "MIN", "COUNT", "1", "COUNT", "1"]), "-ERR syntax error\r\n");
        c.cmd(&["SET", "str", "v"]);
        assert_eq!(c.cmd(&["ZPOPMIN", "str"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZMPOP", "2", "nokey", "str", "MIN"]), WRONGTYPE);
    }
}

#[test]
fn random_members() {
    for (server, _) in servers() {
        let mut c = server.raw();
        c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        let one = c.cmd(&["ZRANDMEMBER", "z"]).text();
        assert!(["$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n"].contains(&one.as_str()), "{one}");
        assert_eq!(c.cmd(&["ZRANDMEMBER", "nokey"]), "$-1\r\n");
        assert_eq!(c.cmd(&["ZRANDMEMBER", "nokey", "5"]), "*0\r\n");
        assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "0"]), "*0\r\n");
        // A count past the size gives every member once, highest score first.
        assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "10", "WITHSCORES"]), bulks(&["c", "3", "b", "2", "a", "1"]));
        assert!(c.cmd(&["ZRANDMEMBER", "z", "-7"]).starts_with("*7\r\n"));
        assert!(c.cmd(&["ZRANDMEMBER", "z", "-7", "WITHSCORES"]).starts_with("*14\r\n"));
        assert!(c.cmd(&["ZRANDMEMBER", "z", "2"]).starts_with("*2\r\n"));
        assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "1", "x"]), "-ERR syntax error\r\n");
        assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "x"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "-9223372036854775808"]),
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
        assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES"]),
            "-ERR value is out of range\r\n");
        c.cmd(&["SET", "str", "v"]);
        assert_eq!(c.cmd(&["ZRANDMEMBER", "str"]), WRONGTYPE);
        assert_eq!(c.cmd(&["ZRANDMEMBER", "str", "2"]), WRONGTYPE);
    }
}

#[test]
fn range_store() {
    for (server, _) in servers() {
        let mut c = server.raw();
        c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(c.cmd(&["ZRANGESTORE", "d", "z", "(1", "+inf", "BYSCORE", "LIMIT", "0", "1"]), ":1\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]), bulks(&["b", "2"]));
        assert_eq!(c.cmd(&["ZRANGESTORE", "d", "z", "0", "-1", "REV"]), ":3\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "d", "0", "-1"]), bulks(&["a", "b", "c"]));
        assert_eq!(c.cmd(&["ZRANGESTORE", "d", "z", "5", "6"]), ":0\r\n");
        assert_eq!(c.cmd(&["EXISTS", "d"]), ":0\r\n");
        assert_eq!(c.cmd(&["ZRANGESTORE", "d", "nokey", "0", "-1"]), ":0\r\n");
        assert_eq!(c.cmd(&["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"]), "-ERR syntax error\r\n");
        c.cmd(&["SET", "str", "v"]);
        assert_eq!(c.cmd(&["ZRANGESTORE", "d", "str", "0", "-1"]), WRONGTYPE);
        // The destination may hold anything; it is replaced.
        assert_eq!(c.cmd(&["ZRANGESTORE", "str", "z", "0", "0"]), ":1\r\n");
        assert_eq!(c.cmd(&["TYPE", "str"]), "+zset\r\n");
    }
}

#[test]
fn resp3_shapes() {
    for (server, _) in servers() {
        let mut c = server.raw();
        c.cmd(&["HELLO", "3"]);
        c.cmd(&["ZADD", "z", "1", "a", "2.5", "b"]);
        assert_eq!(c.cmd(&["ZSCORE", "z", "b"]), ",2.5\r\n");
        assert_eq!(c.cmd(&["ZSCORE", "z", "nope"]), "_\r\n");
        assert_eq!(c.cmd(&["ZINCRBY", "z", "1", "a"]), ",2\r\n");
        assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            "*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
        assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "inf", "WITHSCORES"]),
            "*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
        assert_eq!(c.cmd(&["ZUNION", "1", "z", "WITHSCORES"]), "*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
        assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "5", "WITHSCORES"]),
            "*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\na\r\n,2\r\n");
        // Without a count ZPOPMIN stays flat; with one it nests.
        assert_eq!(c.cmd(&["ZPOPMAX", "z"]), "*2\r\n$1\r\nb\r\n,2.5\r\n");
        assert_eq!(c.cmd(&["ZPOPMIN", "z", "1"]), "*1\r\n*2\r\n$1\r\na\r\n,2\r\n");
        assert_eq!(c.cmd(&["ZMPOP", "1", "z", "MIN"]), "_\r\n");
        assert_eq!(c.cmd(&["ZRANK", "z", "a"]), "_\r\n");
    }
}

#[test]
fn large_sets_keep_order_and_ranks() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // 1000 members over 10 scores: a skiplist, ties ordered by member.
    let mut args: Vec<String> = vec!["ZADD".into(), "z".into()];
    for i in 0..1000 {
        args.push((i % 10).to_string());
        args.push(format!("m{i:04}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&refs), ":1000\r\n");
    assert_eq!(encoding(&mut c, "z"), "$8\r\nskiplist\r\n");
    assert_eq!(c.cmd(&["ZRANK", "z", "m0001"]), ":100\r\n");
    assert_eq!(c.cmd(&["ZRANGE", "z", "100", "101"]), bulks(&["m0001", "m0011"]));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(3", "5"]), ":200\r\n");
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "9", "+inf", "LIMIT", "99", "5"]), bulks(&["m0999"]));
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "-inf", "(9"]), ":900\r\n");
    assert_eq!(c.cmd(&["ZRANK", "z", "m0999"]), ":99\r\n");
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "9223372036854775807", "1"]), "*0\r\n");
}
