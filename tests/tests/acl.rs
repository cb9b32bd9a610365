//! ACLs (Redis `acl.c`): users and their rules, logging in with AUTH and
//! HELLO, the NOPERM refusals of commands, keys and channels (at the top
//! level, in MULTI/EXEC and from scripts), ACL LIST/GETUSER descriptions,
//! ACL LOG, DRYRUN, and what deleting a user does to its connections.
//! Replies are compared byte for byte.

use corvid_tests::Server;

const NOPERM_KEYS: &str = "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n";
const NOPERM_CHANNELS: &str = "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n";
const WRONGPASS: &str = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

#[test]
fn users_log_in_with_their_passwords() {
    let server = Server::start(&[]);
    let mut admin = server.raw();
    let mut c = server.raw();
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]).text(), bulk("default"));
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "alice", ">p1"]), "+OK\r\n");
    // New users start off.
    assert_eq!(c.cmd(&["AUTH", "alice", "p1"]), WRONGPASS);
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "alice", "on", ">p2", "+acl"]), "+OK\r\n");
    assert_eq!(c.cmd(&["AUTH", "alice", "p1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["AUTH", "alice", "p2"]), "+OK\r\n");
    assert_eq!(c.cmd(&["AUTH", "alice", "p3"]), WRONGPASS);
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]).text(), bulk("alice"));
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "alice", "<p1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["AUTH", "alice", "p1"]), WRONGPASS);
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "alice", "<p1"]),
        "-ERR Error in ACL SETUSER modifier '<p1': The password you are trying to remove from the user does not exist\r\n"
    );
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "alice", "#abc"]),
        "-ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters\r\n"
    );
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "a b"]), "-ERR Usernames can't contain spaces or null characters\r\n");
    // HELLO logs in too.
    let mut h = server.raw();
    assert!(h.cmd(&["HELLO", "2", "AUTH", "alice", "p2"]).starts_with("*14\r\n"));
    assert_eq!(h.cmd(&["ACL", "WHOAMI"]).text(), bulk("alice"));
    assert_eq!(h.cmd(&["HELLO", "2", "AUTH", "alice", "nope"]), WRONGPASS);
    // AUTH <password> needs a password on the default user.
    assert_eq!(
        c.cmd(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
}

#[test]
fn requirepass_is_the_default_users_password() {
    let server = Server::start(&["--requirepass", "secret"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.cmd(&["AUTH", "wrong"]), WRONGPASS);
    assert_eq!(c.cmd(&["AUTH", "secret"]), "+OK\r\n");
    let list = c.cmd(&["ACL", "LIST"]).text();
    assert!(list.contains("user default on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all"), "{list}");
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    let mut fresh = server.raw();
    assert_eq!(fresh.cmd(&["GET", "k"]), "$-1\r\n");
}

#[test]
fn commands_keys_and_channels_are_checked() {
    let server = Server::start(&[]);
    let mut admin = server.raw();
    let mut c = server.raw();
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "bob", "on", "nopass", "+get", "+set", "+publish", "~obj:*", "&news.*"]), "+OK\r\n");
    assert_eq!(c.cmd(&["AUTH", "bob", "any"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "obj:1", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "obj:1"]).text(), bulk("v"));
    assert_eq!(c.cmd(&["GET", "other"]), NOPERM_KEYS);
    assert_eq!(c.cmd(&["PING"]), "-NOPERM this user has no permissions to run the 'ping' command\r\n");
    assert_eq!(c.cmd(&["PUBLISH", "news.a", "m"]), ":0\r\n");
    assert_eq!(c.cmd(&["PUBLISH", "sport", "m"]), NOPERM_CHANNELS);
    // Read and write patterns apart.
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "rw", "on", "nopass", "+@all", "%R~r*", "%W~w*"]), "+OK\r\n");
    assert_eq!(c.cmd(&["AUTH", "rw", "x"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "r1"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SET", "r1", "v"]), NOPERM_KEYS);
    assert_eq!(c.cmd(&["LPUSH", "w1", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "w1"]), NOPERM_KEYS);
    // Rejected commands count as rejected calls.
    let stats = admin.cmd(&["INFO", "commandstats"]).text();
    assert!(stats.contains("cmdstat_get:calls=2,usec="), "{stats}");
    assert!(stats.contains("rejected_calls=2,failed_calls=0"), "{stats}");
}

#[test]
fn transactions_and_scripts_are_checked() {
    let server = Server::start(&[]);
    let mut admin = server.raw();
    let mut c = server.raw();
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "t", "on", "nopass", "+multi", "+exec", "+incr", "+eval", "~k*"]), "+OK\r\n");
    assert_eq!(c.cmd(&["AUTH", "t", "x"]), "+OK\r\n");
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "-NOPERM this user has no permissions to run the 'get' command\r\n");
    assert_eq!(c.cmd(&["EXEC"]), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    // Rules changed between queuing and EXEC.
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["INCR", "k1"]), "+QUEUED\r\n");
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "t", "-incr"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["EXEC"]),
        "*1\r\n-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand\r\n"
    );
    let reply = c.cmd(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "k1"]);
    assert!(reply.starts_with("-ERR The user executing the script can't run this command or subcommand"), "{reply:?}");
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "t", "+incr"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EVAL", "return redis.acl_check_cmd('incr', 'k1')", "0"]), ":1\r\n");
    assert_eq!(c.cmd(&["EVAL", "return redis.acl_check_cmd('incr', 'x')", "0"]), "$-1\r\n");
    // The log tells where each refusal happened.
    let log = admin.cmd(&["ACL", "LOG"]).text();
    for (what, context) in [("incr", "lua"), ("get", "multi")] {
        assert!(log.contains(&format!("context\r\n${}\r\n{context}\r\n$6\r\nobject\r\n${}\r\n{what}\r\n", context.len(), what.len())), "{log}");
    }
}

#[test]
fn rules_are_described_as_redis_describes_them() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let commands = |c: &mut corvid_tests::RawConn, user: &str| {
        let reply = c.cmd(&["ACL", "GETUSER", user]).text();
        let at = reply.find("commands\r\n").expect("a commands field") + "commands\r\n".len();
        let rest = &reply[at..];
        let body = &rest[rest.find("\r\n").unwrap() + 2..];
        body[..body.find("\r\n").unwrap()].to_string()
    };
    for (rules, expected) in [
        (&["+@all", "-client|kill"][..], "+@all -client|kill"),
        (&["+memory|doctor"], "-@all +memory|doctor"),
        (&["+memory|doctor", "+memory"], "-@all +memory"),
        (&["+@all", "-@string"], "+@all -@string"),
        (&["-@all", "+@hash"], "-@all +@hash"),
        (&["+select|0"], "-@all +select|0"),
    ] {
        let mut args = vec!["ACL", "SETUSER", "d", "reset"];
        args.extend_from_slice(rules);
        assert_eq!(c.cmd(&args), "+OK\r\n");
        assert_eq!(commands(&mut c, "d"), expected, "{rules:?}");
    }
    assert_eq!(c.cmd(&["ACL", "SETUSER", "h", "on", "nopass", "resetchannels", "&foo", "+@all"]), "+OK\r\n");
    let list = c.cmd(&["ACL", "LIST"]).text();
    assert!(list.contains("user h on nopass resetchannels &foo +@all\r\n"), "{list}");
    assert_eq!(
        c.cmd(&["ACL", "SETUSER", "s", "%R~foo", "%W~foo", "%RW~bar", "(~x +get)"]),
        "+OK\r\n"
    );
    let user = c.cmd(&["ACL", "GETUSER", "s"]).text();
    assert!(user.contains("$4\r\nkeys\r\n$9\r\n~foo ~bar\r\n"), "{user}");
    assert!(user.contains("$9\r\nselectors\r\n*1\r\n*6\r\n$8\r\ncommands\r\n$10\r\n-@all +get\r\n$4\r\nkeys\r\n$2\r\n~x\r\n"), "{user}");
    assert_eq!(c.cmd(&["ACL", "SETUSER", "s", "(~a"]), "-ERR Unmatched parenthesis in acl selector starting at '(~a'.\r\n");
    assert_eq!(c.cmd(&["ACL", "SETUSER", "s", "+nosuch"]), "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL\r\n");
    assert_eq!(c.cmd(&["ACL", "SETUSER", "s", "+config|get|x"]), "-ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported\r\n");
    assert_eq!(c.cmd(&["ACL", "CAT", "nosuch"]), "-ERR Unknown category 'nosuch'\r\n");
    assert!(c.cmd(&["ACL", "CAT", "transaction"]).contains("\r\nmulti\r\n"));
}

#[test]
fn dryrun_answers_for_any_user() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["ACL", "SETUSER", "u", "+@all", "%R~read*", "%W~write*", "%RW~rw*", "resetchannels", "&chan"]), "+OK\r\n");
    assert_eq!(c.cmd(&["ACL", "DRYRUN", "u", "GET", "read"]), "+OK\r\n");
    assert_eq!(c.cmd(&["ACL", "DRYRUN", "u", "SORT", "read", "STORE", "read"]).text(), bulk("This user has no permissions to access the 'read' key"));
    assert_eq!(c.cmd(&["ACL", "DRYRUN", "u", "SPUBLISH", "other", "m"]).text(), bulk("This user has no permissions to access the 'other' channel"));
    assert_eq!(c.cmd(&["ACL", "DRYRUN", "nobody", "GET", "x"]), "-ERR User 'nobody' not found\r\n");
    assert_eq!(c.cmd(&["ACL", "DRYRUN", "u", "nosuch"]), "-ERR Command 'nosuch' not found\r\n");
    assert_eq!(c.cmd(&["ACL", "DRYRUN", "u", "SET", "v"]), "-ERR wrong number of arguments for 'set' command\r\n");
}

#[test]
fn deleting_a_user_closes_its_connections() {
    let server = Server::start(&[]);
    let mut admin = server.raw();
    let mut c = server.raw();
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*"]), "+OK\r\n");
    assert_eq!(c.cmd(&["AUTH", "gone", "x"]), "+OK\r\n");
    assert_eq!(admin.cmd(&["ACL", "DELUSER", "gone", "nosuch"]), ":1\r\n");
    assert_eq!(c.read_to_close(), "");
    assert_eq!(admin.cmd(&["ACL", "DELUSER", "default"]), "-ERR The 'default' user cannot be removed\r\n");
    // A disabled default user means new connections must log in.
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "default", "off"]), "+OK\r\n");
    let mut fresh = server.raw();
    assert_eq!(fresh.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "default", "on"]), "+OK\r\n");
}
