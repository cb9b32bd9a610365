//! COMMAND and its subcommands: what clients (redis-py's cluster client, Jedis,
//! redis-cli's hints) read to learn a server's commands and key positions.
//! Every assertion holds for Redis 7.0 too; the node lists only the commands it
//! implements, so counts are checked for consistency, not against Redis's 240.

use std::collections::{BTreeSet, HashMap};

use corvid_tests::Server;
use redis::Value;

#[test]
fn info_of_get_is_redis_bytes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // Captured from redis-server 7.0.15.
    let get = "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
               *3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n\
               *1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
               $12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
               $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
               *6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
    assert_eq!(c.cmd(&["COMMAND", "INFO", "get"]), format!("*1\r\n{get}").as_str());
    assert_eq!(c.cmd(&["COMMAND", "INFO", "GET", "no-such-command"]), format!("*2\r\n{get}$-1\r\n").as_str());
    // Unknown names are left out of DOCS (an empty map is *0 in RESP2).
    assert_eq!(c.cmd(&["COMMAND", "DOCS", "no-such-command"]), "*0\r\n");
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

/// A flat RESP2 map (name, value, name, value...) as pairs.
fn pairs(v: &Value) -> HashMap<String, Value> {
    let Value::Array(items) = v else { panic!("not an array: {v:?}") };
    items.chunks(2).map(|kv| (text(&kv[0]), kv[1].clone())).collect()
}

#[test]
fn docs_of_a_command_and_a_subcommand() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let reply: Value = redis::cmd("COMMAND").arg("DOCS").arg("set").arg("config|get").query(&mut con).unwrap();
    let docs = pairs(&reply);
    assert_eq!(docs.len(), 2, "{reply:?}");
    let set = pairs(&docs["set"]);
    assert_eq!(text(&set["summary"]), "Set the string value of a key");
    assert_eq!(text(&set["group"]), "string");
    assert_eq!(text(&set["since"]), "1.0.0");
    let Value::Array(args) = &set["arguments"] else { panic!("{set:?}") };
    let names: Vec<String> = args.iter().map(|a| text(&pairs(a)["name"])).collect();
    assert_eq!(names, ["key", "value", "condition", "get", "expiration"]);
    let get = pairs(&docs["config|get"]);
    assert_eq!(text(&get["group"]), "server");
    assert!(text(&get["summary"]).contains("configuration parameters"), "{get:?}");
}

#[test]
fn count_list_and_info_agree() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let count: usize = redis::cmd("COMMAND").arg("COUNT").query(&mut con).unwrap();
    let all: Vec<Value> = redis::cmd("COMMAND").query(&mut con).unwrap();
    assert_eq!(all.len(), count);
    let names: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut con).unwrap();
    let top: BTreeSet<&str> = names.iter().map(String::as_str).filter(|n| !n.contains('|')).collect();
    assert_eq!(top.len(), count, "COMMAND LIST names every command once");
    for must in ["get", "set", "del", "scan", "config", "client", "command", "info", "ping"] {
        assert!(top.contains(must), "{must} missing from {top:?}");
    }
    // Every listed subcommand has its container listed and an INFO entry.
    for sub in names.iter().filter(|n| n.contains('|')) {
        assert!(top.contains(sub.split('|').next().unwrap()), "{sub}");
        let info: Vec<Value> = redis::cmd("COMMAND").arg("INFO").arg(sub).query(&mut con).unwrap();
        assert!(matches!(&info[0], Value::Array(a) if text(&a[0]) == *sub), "{sub}: {info:?}");
    }
    let config: BTreeSet<String> =
        redis::cmd("COMMAND").arg("LIST").arg("FILTERBY").arg("PATTERN").arg("config|*").query(&mut con).unwrap();
    let expected: BTreeSet<String> =
        ["config|get", "config|set", "config|resetstat", "config|rewrite", "config|help"].map(String::from).into();
    assert_eq!(config, expected);
    let connection: Vec<String> =
        redis::cmd("COMMAND").arg("LIST").arg("FILTERBY").arg("ACLCAT").arg("connection").query(&mut con).unwrap();
    assert!(connection.iter().any(|n| n == "ping") && !connection.iter().any(|n| n == "get"), "{connection:?}");
    let none: Vec<String> =
        redis::cmd("COMMAND").arg("LIST").arg("FILTERBY").arg("ACLCAT").arg("no-such-category").query(&mut con).unwrap();
    assert!(none.is_empty());
}

#[test]
fn getkeys_and_flags() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "KEYS", "k1", "k2"]),
        "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v"]),
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "no-such-command", "x"]),
        "-ERR Invalid command specified\r\n"
    );
    assert_eq!(c.cmd(&["COMMAND", "GETKEYS", "PING", "x"]), "-ERR The command has no key arguments\r\n");
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "GET", "a", "b"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(c.cmd(&["COMMAND", "GETKEYS"]), "-ERR wrong number of arguments for 'command|getkeys' command\r\n");
    assert_eq!(c.cmd(&["COMMAND", "NOSUCH"]), "-ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP.\r\n");
}
