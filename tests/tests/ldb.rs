//! The Lua debugger (SCRIPT DEBUG and the LDB protocol) as `redis-cli
//! --ldb-sync-mode` and raw connections drive it: a whole session's
//! transcript, the parsing of debugger commands, the session's end (the
//! EVAL's reply, then the connection closes, changes kept), a stop on an
//! endless loop, and the server free again once the debugging client
//! leaves. Each assertion holds for Redis 7.0 too, but for SCRIPT DEBUG
//! YES, whose EVAL Redis runs in a forked child and Corvid refuses (it
//! cannot fork a session): that test checks each server's own behaviour.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use corvid_tests::{multibulk, Server};

/// `redis-cli --ldb-sync-mode --eval FILE args...` with `stdin` as the
/// debugger commands; its stdout (uncoloured: TERM is not a colour one).
fn ldb_cli(server: &Server, script: &str, args: &[&str], stdin: &str) -> String {
    let file = server.dir().join("debugged.lua");
    std::fs::write(&file, script).unwrap();
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string(), "--ldb-sync-mode", "--eval"])
        .arg(&file)
        .args(args)
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run redis-cli (apt-get install redis-tools)");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

const SCRIPT: &str = "local n = tonumber(ARGV[1])
redis.call('set', KEYS[1], n)
local function double(x)
  return x * 2
end
redis.debug('doubling', n, {n, 'x'})
local r = double(n)
redis.breakpoint()
redis.call('incrby', KEYS[1], r)
return redis.call('get', KEYS[1])
";

#[test]
fn a_session_through_redis_cli() {
    let server = Server::start(&[]);
    // After the session ends, `quit` leaves redis-cli (without it, the
    // end of stdin would make it run the script once more, undebugged).
    let stdin = "step\nn\nlist 1 1\nb 4\nb\ncontinue\ntrace\np x\nb 0\nc\np r\ne double(r)\nr get counter\ns\ns\nquit\n";
    let got = ldb_cli(&server, SCRIPT, &["counter", ",", "21"], stdin);
    let want = r#"Lua debugging session started, please use:
quit    -- End the session.
restart -- Restart the script in debug mode again.
help    -- Show Lua script debugging commands.

* Stopped at 1, stop reason = step over
-> 1   local n = tonumber(ARGV[1])
* Stopped at 2, stop reason = step over
-> 2   redis.call('set', KEYS[1], n)
<redis> set counter 21
<reply> "+OK"
* Stopped at 5, stop reason = step over
-> 5   end
   1   local n = tonumber(ARGV[1])
   2   redis.call('set', KEYS[1], n)
   3   local function double(x)
  #4     return x * 2
-> 5   end
1 breakpoints set:
  #4     return x * 2
<debug> line 6: "doubling", 21, {21; "x"}
* Stopped at 4, stop reason = break point
->#4     return x * 2
In double:
->#4     return x * 2
From top level:
   7   local r = double(n)
<value> 21
All breakpoints removed.
* Stopped at 9, stop reason = redis.breakpoint() called
-> 9   redis.call('incrby', KEYS[1], r)
<value> 42
<error> ldb_eval:1: Script attempted to access nonexistent global variable 'double'
<redis> get counter
<reply> "21"
<redis> incrby counter 42
<reply> 63
* Stopped at 10, stop reason = step over
-> 10  return redis.call('get', KEYS[1])
<redis> get counter
<reply> "63"

"63"

(Lua debugging session ended)

"#;
    assert_eq!(got, want);
    // A synchronous session keeps what the script wrote.
    assert_eq!(server.cli(&["GET", "counter"]), "63\n");
}

/// The log lines of one debugger reply (an array of status replies).
fn lines(reply: &corvid_tests::Reply) -> Vec<String> {
    let text = reply.text();
    let mut it = text.split("\r\n");
    let header = it.next().unwrap();
    assert!(header.starts_with('*'), "not a log batch: {text:?}");
    let n: usize = header[1..].parse().unwrap();
    let lines: Vec<String> = it.take(n).map(|l| l.strip_prefix('+').expect("a status line").to_string()).collect();
    assert_eq!(lines.len(), n, "{text:?}");
    lines
}

#[test]
fn debugger_commands_on_a_raw_connection() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), "+OK\r\n");
    let script = "local t = {1, 'two', {k = true}}\nlocal s = 'a\\nb'\nreturn redis.call('rpush', 'list', unpack(t, 1, 2))";
    let r = c.cmd(&["EVAL", script, "0"]);
    assert_eq!(lines(&r), ["* Stopped at 1, stop reason = step over", "-> 1   local t = {1, 'two', {k = true}}"]);
    // Names are matched as C strings: whatever follows a NUL is ignored,
    // and a name that is not a command is an error that keeps the session.
    let unknown = ["<error> Unknown Redis Lua debugger command or wrong number of arguments."];
    for bad in [&b"'hello\0world'"[..], b"hello\0", b"\0hello", b"nosuch"] {
        assert_eq!(lines(&c.cmd_bytes(&[bad])), unknown);
    }
    assert_eq!(lines(&c.cmd(&["redis"])), unknown);
    // More arguments than a Redis command can name, through `redis`.
    let mut many = vec!["redis"];
    many.extend(std::iter::repeat_n("test", 100));
    let r = c.cmd(&many);
    assert_eq!(lines(&r), [format!("<redis> test{} ... (89 more)", " test".repeat(9)), "<error> Unknown Redis command called from script".to_string()]);
    assert_eq!(lines(&c.cmd_bytes(&[&b"s\0tep"[..]])), ["* Stopped at 2, stop reason = step over", "-> 2   local s = 'a\\nb'"]);
    assert_eq!(lines(&c.cmd(&["s"])), ["* Stopped at 3, stop reason = step over", "-> 3   return redis.call('rpush', 'list', unpack(t, 1, 2))"]);
    assert_eq!(lines(&c.cmd(&["print"])), [r#"<value> t = {1; "two"; {["k"]=true}}"#, r#"<value> s = "a\nb""#]);
    assert_eq!(lines(&c.cmd(&["p", "KEYS"])), ["<value> {}"]);
    assert_eq!(lines(&c.cmd(&["p", "nosuch"])), ["No such variable."]);
    assert_eq!(lines(&c.cmd(&["eval", "1", "+", "3"])), ["<retval> 4"]);
    assert_eq!(lines(&c.cmd(&["e", "return ("])), ["<error> ldb_eval:1: unexpected symbol near '<eof>'"]);
    assert_eq!(lines(&c.cmd(&["maxlen", "1"])), ["<value> replies are truncated at 60 bytes."]);
    let long = "x".repeat(100);
    let r = c.cmd(&["r", "set", "long", &long]);
    assert_eq!(lines(&r), [format!("<redis> set long {long}"), "<reply> \"+OK\"".to_string()]);
    // Trimmed: the hint is not sent once maxlen was set.
    let r = c.cmd(&["r", "get", "long"]);
    assert_eq!(lines(&r), ["<redis> get long".to_string(), format!("<reply> \"{}", &long[..51]) + " ..."]);
    assert_eq!(lines(&c.cmd(&["b", "9"])), ["Wrong line number."]);
    assert_eq!(lines(&c.cmd(&["whole"])), ["   1   local t = {1, 'two', {k = true}}", "   2   local s = 'a\\nb'", "-> 3   return redis.call('rpush', 'list', unpack(t, 1, 2))"]);
    // The script's commands are logged while stepping; the session ends
    // with <endsession>, then the EVAL's reply, then the connection closes.
    c.send(&multibulk(&["s"]));
    let end = c.read_to_close();
    assert_eq!(end.text(), "*3\r\n+<redis> rpush list 1 two\r\n+<reply> 2\r\n+<endsession>\r\n:2\r\n");
    let mut c = server.raw();
    assert_eq!(c.cmd(&["LRANGE", "list", "0", "-1"]), "*2\r\n$1\r\n1\r\n$3\r\ntwo\r\n");
}

#[test]
fn aborts_and_errors_end_the_session() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EVALSHA", &"a".repeat(40), "0"]), "-ERR Please use EVAL instead of EVALSHA for debugging\r\n");
    let r = c.cmd(&["EVAL", "redis.call('set', 'kept', 1)\nreturn 1", "0"]);
    assert_eq!(lines(&r)[0], "* Stopped at 1, stop reason = step over");
    assert_eq!(lines(&c.cmd(&["s"]))[..2], ["<redis> set kept 1", "<reply> \"+OK\""]);
    c.send(&multibulk(&["abort"]));
    let end = c.read_to_close().text();
    assert!(end.starts_with("*1\r\n+<endsession>\r\n-ERR script aborted for user request script: "), "{end}");
    assert!(end.ends_with(", on @user_script:2.\r\n"), "{end}");
    // Errors before the script runs come within an empty session.
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GET", "kept"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), "+OK\r\n");
    c.send(&multibulk(&["EVAL", "return 1", "3"]));
    assert_eq!(c.read_to_close(), "*1\r\n+<endsession>\r\n-ERR Number of keys can't be greater than number of args\r\n");
    // Bytes that can never be a command abort the script.
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), "+OK\r\n");
    assert_eq!(lines(&c.cmd(&["EVAL", "return 1", "0"])).len(), 2);
    c.send(b"*1\r\n$0\r\n\r\n");
    let end = c.read_to_close().text();
    assert!(end.starts_with("*1\r\n+<endsession>\r\n-ERR protocol error script: "), "{end}");
    // SCRIPT DEBUG itself.
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "maybe"]), "-ERR Use SCRIPT DEBUG YES/SYNC/NO\r\n");
    c.send(&[multibulk(&["PING"]), multibulk(&["SCRIPT", "DEBUG", "SYNC"])].concat());
    assert_eq!(c.read_replies(2)[1], "-ERR SCRIPT DEBUG must be called outside a pipeline\r\n");
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n-ERR SCRIPT DEBUG must be called outside a pipeline\r\n");
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "NO"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EVAL", "return 7", "0"]), ":7\r\n");
}

#[test]
fn an_endless_loop_stops_and_a_departed_client_frees_the_server() {
    let server = Server::start(&["--busy-reply-threshold", "200"]);
    let loop_script = "local i = 0\nwhile true do\n  i = i + 1\nend";
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), "+OK\r\n");
    assert_eq!(lines(&c.cmd(&["EVAL", loop_script, "0"]))[0], "* Stopped at 1, stop reason = step over");
    let r = c.cmd(&["c"]);
    assert_eq!(lines(&r), ["* Stopped at 3, stop reason = timeout reached, infinite loop?", "-> 3     i = i + 1"]);
    // The server waits for the debugging client meanwhile.
    let mut other = server.raw();
    other.set_timeout(Duration::from_millis(300));
    other.send(&multibulk(&["PING"]));
    std::thread::sleep(Duration::from_millis(300));
    // Gone at the next timeout stop: the script is ended for it.
    c.send(&multibulk(&["c"]));
    assert_eq!(lines(&c.read_reply())[0], "* Stopped at 3, stop reason = timeout reached, infinite loop?");
    drop(c);
    other.set_timeout(Duration::from_secs(10));
    assert_eq!(other.read_reply(), "+PONG\r\n");
    // A client that leaves a session that is not stuck lets it run on.
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), "+OK\r\n");
    assert_eq!(lines(&c.cmd(&["EVAL", "redis.call('set', 'after', 'left')", "0"])).len(), 2);
    drop(c);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GET", "after"]), "$4\r\nleft\r\n");
}

#[test]
fn script_debug_yes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "YES"]), "+OK\r\n");
    let r = c.cmd(&["EVAL", "redis.call('set', 'forked', 1)\nreturn 1", "0"]).text();
    if r.starts_with('-') {
        // Corvid: it cannot fork a session, and fails as Redis does when
        // fork() fails; the client is no longer in debug mode.
        assert_eq!(
            r,
            "-ERR Fork() failed: can't run EVAL in debugging mode: Corvid cannot fork a debugging session, use SCRIPT DEBUG SYNC (redis-cli --ldb-sync-mode) instead\r\n"
        );
        assert_eq!(c.cmd(&["EVAL", "return 2", "0"]), ":2\r\n");
    } else {
        // Redis: the session runs in a forked child, whose changes are
        // rolled back when it exits.
        assert!(r.starts_with("*2\r\n+* Stopped at 1, stop reason = step over\r\n"), "{r}");
        c.send(&multibulk(&["c"]));
        assert_eq!(c.read_to_close(), "*1\r\n+<endsession>\r\n:1\r\n");
    }
    let mut c = server.raw();
    assert_eq!(c.cmd(&["EXISTS", "forked"]), ":0\r\n");
}
