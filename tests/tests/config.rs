//! Configuration and connections (Redis `config.c`, `acl.c`, `networking.c`): start-up
//! errors in redis.conf and on the command line, CONFIG GET/SET, requirepass with AUTH
//! and HELLO AUTH, CLIENT SETNAME/GETNAME/LIST.

use std::collections::{BTreeMap, BTreeSet};

use corvid_tests::{info_field, Server};

fn config_get(con: &mut redis::Connection, pattern: &[&str]) -> BTreeMap<String, String> {
    redis::cmd("CONFIG")
        .arg("GET")
        .arg(pattern)
        .query(con)
        .unwrap()
}

/// Redis names the offending line by number and quotes it; it does not print the file's
/// path, so neither may we require it.
#[test]
fn unknown_directive_in_config_file_stops_start_up() {
    let conf = "# a comment\nmaxmemory 10mb\nfoo-bar baz\nhz 10\n";
    let (code, output) = Server::start_with_config_expect_failure(conf, &[]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("*** FATAL CONFIG FILE ERROR"), "{output}");
    assert!(
        output.contains("Reading the configuration file, at line 3\n"),
        "{output}"
    );
    assert!(output.contains(">>> 'foo-bar baz'\n"), "{output}");
    assert!(
        output.contains("Bad directive or wrong number of arguments"),
        "{output}"
    );
}

#[test]
fn bad_values_stop_start_up() {
    let (code, output) =
        Server::start_with_config_expect_failure("port 6379\nmaxmemory abc\n", &[]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("at line 2\n>>> 'maxmemory abc'\nargument must be a memory value"),
        "{output}"
    );

    // Command-line directives are checked the same way, quoted as Redis re-quotes them.
    let (code, output) = Server::start_expect_failure(&["--maxmemory-policy", "bogus"]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains(">>> 'maxmemory-policy \"bogus\"'\n"),
        "{output}"
    );
    assert!(
        output.contains(
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, \
             volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        ),
        "{output}"
    );
    let (code, output) = Server::start_expect_failure(&["--no-such-directive", "1"]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output
            .contains(">>> 'no-such-directive \"1\"'\nBad directive or wrong number of arguments"),
        "{output}"
    );
}

#[test]
fn directives_from_the_config_file_and_the_command_line() {
    let conf = "\
# Comments and blank lines are ignored.

maxmemory 2mb
maxmemory-policy allkeys-lru
hz 15
  databases 4
proto-max-bulk-len \"2mb\"
";
    let server = Server::start_with_config_and_args(conf, &["--hz", "20"]);
    let mut con = server.client();
    let got = config_get(
        &mut con,
        &[
            "maxmemory",
            "maxmemory-policy",
            "hz",
            "databases",
            "proto-max-bulk-len",
        ],
    );
    let expected: BTreeMap<String, String> = [
        ("maxmemory", "2097152"),
        ("maxmemory-policy", "allkeys-lru"),
        // The command line comes after the file, and the last setting wins.
        ("hz", "20"),
        ("databases", "4"),
        ("proto-max-bulk-len", "2097152"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(got, expected);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SELECT", "4"]), "-ERR DB index is out of range\r\n");
}

#[test]
fn config_get_globs() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let names = |m: BTreeMap<String, String>| m.into_keys().collect::<BTreeSet<_>>();
    let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        names(config_get(&mut con, &["maxmemory*"])),
        set(&[
            "maxmemory",
            "maxmemory-clients",
            "maxmemory-eviction-tenacity",
            "maxmemory-policy",
            "maxmemory-samples"
        ])
    );
    // Aliases (the old ziplist names) are listed too.
    assert_eq!(
        names(config_get(&mut con, &["*max-*-entries*"])),
        set(&[
            "hash-max-listpack-entries",
            "hash-max-ziplist-entries",
            "set-max-intset-entries",
            "zset-max-listpack-entries",
            "zset-max-ziplist-entries",
        ])
    );
    assert_eq!(names(config_get(&mut con, &["h?"])), set(&["hz"]));
    assert!(config_get(&mut con, &["no-such-thing*"]).is_empty());
    // Several patterns at once (7.0), each parameter once.
    let got = config_get(&mut con, &["port", "bind", "save", "appendonly", "port"]);
    assert_eq!(
        got.get("port").map(String::as_str),
        Some(server.port().to_string().as_str())
    );
    assert_eq!(got.get("bind").map(String::as_str), Some("127.0.0.1"));
    assert_eq!(got.get("save").map(String::as_str), Some(""));
    assert_eq!(got.get("appendonly").map(String::as_str), Some("no"));
    assert_eq!(got.len(), 4);
    let all = config_get(&mut con, &["*"]);
    assert!(
        all.len() > 150,
        "CONFIG GET * lists every parameter: {}",
        all.len()
    );
    assert_eq!(
        all.get("dir").map(std::path::PathBuf::from).as_deref(),
        Some(server.dir())
    );
}

#[test]
fn config_get_exact_reply() {
    let server = Server::start(&["--maxmemory", "10mb"]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "GET", "nosuch"]), "*0\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "GET"]),
        "-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"
    );
}

#[test]
fn config_set_then_get() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut con = server.client();
    for (name, value, shown) in [
        ("maxmemory", "10mb", "10485760"),
        ("maxmemory", "1gb", "1073741824"),
        ("maxmemory", "12345", "12345"),
        ("maxmemory-policy", "ALLKEYS-LFU", "allkeys-lfu"),
        ("hz", "20", "20"),
        ("timeout", "300", "300"),
        ("slowlog-log-slower-than", "-1", "-1"),
        ("list-max-listpack-size", "-3", "-3"),
        ("notify-keyspace-events", "KEA", "AKE"),
        ("save", "900 1 300 10", "900 1 300 10"),
    ] {
        assert_eq!(
            c.cmd(&["CONFIG", "SET", name, value]),
            "+OK\r\n",
            "CONFIG SET {name} {value}"
        );
        let got = config_get(&mut con, &[name]);
        assert_eq!(
            got.get(name).map(String::as_str),
            Some(shown),
            "CONFIG SET {name} {value}"
        );
    }
    // Several at once (7.0), applied together.
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "hz",
            "30",
            "maxmemory-policy",
            "volatile-ttl"
        ]),
        "+OK\r\n"
    );
    let got = config_get(&mut con, &["hz", "maxmemory-policy"]);
    assert_eq!(got["hz"], "30");
    assert_eq!(got["maxmemory-policy"], "volatile-ttl");
    // The old ziplist names are aliases of the listpack ones.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hash-max-ziplist-entries", "77"]),
        "+OK\r\n"
    );
    assert_eq!(
        config_get(&mut con, &["hash-max-listpack-entries"])["hash-max-listpack-entries"],
        "77"
    );
}

#[test]
fn config_set_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "foo", "bar"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "abc"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "20", "hz", "30"]),
        "-ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "daemonize", "yes"]),
        "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "bogus"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of \
         the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, \
         allkeys-random, noeviction\r\n"
    );
    // A failed multi-parameter CONFIG SET changes nothing.
    let failed = c.cmd(&["CONFIG", "SET", "hz", "33", "maxmemory", "abc"]);
    assert!(failed.starts_with("-ERR"), "{failed:?}");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"
    );
}

#[test]
fn requirepass_and_auth() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    let mut c = server.raw();
    let noauth = "-NOAUTH Authentication required.\r\n";
    let wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    assert_eq!(c.cmd(&["GET", "a"]), noauth);
    assert_eq!(c.cmd(&["PING"]), noauth);
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "x"]), noauth);
    assert_eq!(c.cmd(&["CONFIG", "GET", "requirepass"]), noauth);
    assert_eq!(c.cmd(&["AUTH", "wrong"]), wrongpass);
    assert_eq!(c.cmd(&["AUTH", "default", "wrong"]), wrongpass);
    assert_eq!(c.cmd(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["GET", "a"]), noauth);
    assert_eq!(c.cmd(&["AUTH", "s3cret"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "a"]), "$-1\r\n");
    let mut c = server.raw();
    assert_eq!(c.cmd(&["AUTH", "default", "s3cret"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");

    // The real client authenticates from the URL.
    let client =
        redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", server.port())).unwrap();
    let mut con = client.get_connection().unwrap();
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let client =
        redis::Client::open(format!("redis://:wrong@127.0.0.1:{}/", server.port())).unwrap();
    assert!(client.get_connection().is_err());
}

#[test]
fn hello_auth() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["HELLO", "3"]),
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH \
         <user> <pass> option can be used to authenticate the client and select the RESP protocol version \
         at the same time\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    let hello = c.cmd(&[
        "HELLO",
        "3",
        "AUTH",
        "default",
        "s3cret",
        "SETNAME",
        "via-hello",
    ]);
    assert!(hello.starts_with("%7\r\n"), "{hello:?}");
    assert!(hello.contains("$5\r\nproto\r\n:3\r\n"), "{hello:?}");
    assert_eq!(c.cmd(&["GET", "nokey"]), "_\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$9\r\nvia-hello\r\n");
    // HELLO 2 AUTH works the same, staying on RESP2.
    let mut c = server.raw();
    assert!(c
        .cmd(&["HELLO", "2", "AUTH", "default", "s3cret"])
        .starts_with("*14\r\n"));
    assert_eq!(c.cmd(&["GET", "nokey"]), "$-1\r\n");
}

#[test]
fn unauthenticated_clients_may_not_send_big_requests() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    let mut c = server.raw();
    c.send(b"*20\r\n");
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
}

#[test]
fn requirepass_set_at_run_time() {
    let server = Server::start(&[]);
    let mut admin = server.raw();
    assert_eq!(
        admin.cmd(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure \
         your configuration is correct?\r\n"
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "requirepass", "later"]),
        "+OK\r\n"
    );
    let mut c = server.raw();
    assert_eq!(c.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.cmd(&["AUTH", "later"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn client_setname_getname_list() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETNAME", "a\nb"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "first"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$5\r\nfirst\r\n");
    let id = c.cmd(&["CLIENT", "ID"]).text();
    let id = id.trim_start_matches(':').trim_end();

    let mut other = server.raw();
    assert_eq!(other.cmd(&["CLIENT", "SETNAME", "second"]), "+OK\r\n");
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    let lines: Vec<&str> = list
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("id="))
        .collect();
    assert_eq!(lines.len(), 2, "{list}");
    let mine = lines
        .iter()
        .find(|l| l.contains(" name=first "))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        mine.starts_with(&format!("id={id} addr=127.0.0.1:")),
        "{mine}"
    );
    for field in [
        " laddr=",
        " fd=",
        " age=",
        " idle=",
        " flags=N ",
        " db=0 ",
        " cmd=client|list ",
        " user=default ",
        " resp=2",
    ] {
        assert!(
            mine.contains(field),
            "CLIENT LIST line lacks {field:?}: {mine}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" name=second ") && l.contains(" cmd=client|setname ")),
        "{list}"
    );

    // Filters.
    let only_me = c.cmd(&["CLIENT", "LIST", "ID", id]).text();
    assert_eq!(
        only_me.lines().filter(|l| l.contains("id=")).count(),
        1,
        "{only_me}"
    );
    let normal = c.cmd(&["CLIENT", "LIST", "TYPE", "normal"]).text();
    assert_eq!(
        normal.lines().filter(|l| l.contains("id=")).count(),
        2,
        "{normal}"
    );
    let info = c.cmd(&["CLIENT", "INFO"]).text();
    assert!(
        info.contains(&format!("id={id} ")) && info.contains(" name=first "),
        "{info}"
    );

    // An empty name clears it.
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", ""]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    let connected = c.cmd(&["INFO", "clients"]).text();
    assert_eq!(
        info_field(&connected, "connected_clients"),
        Some("2"),
        "{connected}"
    );
}

#[test]
fn rename_command_gives_a_command_a_new_name_or_none() {
    let server = Server::start(&["--rename-command", "flushdb", "badger", "--rename-command", "flushall", ""]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert!(c.cmd(&["FLUSHDB"]).starts_with("-ERR unknown command 'FLUSHDB'"));
    assert!(c.cmd(&["FLUSHALL"]).starts_with("-ERR unknown command 'FLUSHALL'"));
    assert_eq!(c.cmd(&["BADGER"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    // The name must exist, and the new one must not.
    let (code, out) = Server::start_expect_failure(&["--rename-command", "nosuch", "x"]);
    assert_eq!(code, 1);
    assert!(out.contains("No such command in rename-command"), "{out}");
    let (code, out) = Server::start_expect_failure(&["--rename-command", "get", "set"]);
    assert_eq!(code, 1);
    assert!(out.contains("Target command name already exists"), "{out}");
}
