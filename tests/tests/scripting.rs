//! Lua scripting through the real door: EVAL/EVALSHA and their conversions,
//! the sandbox, errors from redis.call, a busy script answered with BUSY
//! and stopped by SCRIPT KILL while other clients (old and new) are
//! served, FUNCTION libraries and FCALL, functions surviving DEBUG RELOAD,
//! and a script's writes reaching the replication stream as one
//! transaction. Each assertion holds for Redis 7.0 too.

use std::time::Duration;

use corvid_tests::Server;

#[test]
fn eval_conversions_and_the_script_cache() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["EVAL", "return {1, 'two', {3.9, false}, true, {ok='fine'}}", "0"]), "*5\r\n:1\r\n$3\r\ntwo\r\n*2\r\n:3\r\n$-1\r\n:1\r\n+fine\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    let script = "return redis.call('get', KEYS[1]) .. ARGV[1]";
    assert_eq!(c.cmd(&["EVAL", script, "1", "k", "!"]), "$2\r\nv!\r\n");
    let sha = "0000000000000000000000000000000000000000";
    let loaded = c.cmd(&["SCRIPT", "LOAD", script]).text();
    let loaded = loaded.lines().nth(1).unwrap().to_string();
    assert_eq!(loaded.len(), 40);
    assert_eq!(c.cmd(&["EVALSHA", &loaded.to_uppercase(), "1", "k", "?"]), "$2\r\nv?\r\n");
    assert_eq!(c.cmd(&["SCRIPT", "EXISTS", &loaded, sha]), "*2\r\n:1\r\n:0\r\n");
    assert_eq!(c.cmd(&["EVALSHA", sha, "0"]), "-NOSCRIPT No matching script. Please use EVAL.\r\n");
    assert_eq!(c.cmd(&["SCRIPT", "FLUSH"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SCRIPT", "EXISTS", &loaded]), "*1\r\n:0\r\n");
    // Redis replies become Lua values and back.
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["EVAL", "local t = redis.call('lrange', KEYS[1], 0, -1) return #t .. t[2]", "1", "l"]), "$2\r\n2b\r\n");
    assert_eq!(c.cmd(&["EVAL", "return redis.pcall('incr', KEYS[1])['err']", "1", "l"]), "$65\r\nWRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(c.cmd(&["EVAL", "return redis.sha1hex('')", "0"]), "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n");
    assert_eq!(c.cmd(&["EVAL", "return cjson.encode({a={1,2}})", "0"]), "$11\r\n{\"a\":[1,2]}\r\n");
    assert_eq!(c.cmd(&["EVAL", "return redis.call('get', 'nosuch') == false", "0"]), ":1\r\n");
    assert_eq!(c.cmd(&["EVAL", "return 1", "-1"]), "-ERR Number of keys can't be negative\r\n");
}

#[test]
fn redis_call_arguments_and_replies_convert_as_redis_does() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // Numbers reach commands as "%.17g", -0 with its sign.
    let script = "redis.call('set', 'a', -0.0) redis.call('set', 'b', 0.1) redis.call('set', 'c', 2^53) return {redis.call('get', 'a'), redis.call('get', 'b'), redis.call('get', 'c')}";
    assert_eq!(c.cmd(&["EVAL", script, "0"]), "*3\r\n$2\r\n-0\r\n$19\r\n0.10000000000000001\r\n$16\r\n9007199254740992\r\n");
    assert!(c.cmd(&["EVAL", "return redis.call('get', {})", "0"]).starts_with("-ERR Lua redis lib command arguments must be strings or integers script: "));
    assert_eq!(c.cmd(&["EVAL", "return redis.pcall()['err']", "0"]), "$64\r\nERR Please specify at least one argument for this redis lib call\r\n");
    // Thousands of arguments, and a reply as large.
    let many = "local a = {} for i = 1, 7999 do a[i] = i end redis.call('rpush', 'l', unpack(a)) return #redis.call('lrange', 'l', 0, -1)";
    assert_eq!(c.cmd(&["EVAL", many, "0"]), ":7999\r\n");
    // Replies of every RESP3 type as Lua sees them.
    assert_eq!(c.cmd(&["HSET", "h", "f", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["EVAL", "redis.setresp(3) local m = redis.call('hgetall', 'h').map return m.f", "0"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["EVAL", "local t = redis.call('set', 'x', 1) return t.ok", "0"]), "$2\r\nOK\r\n");
    // Numbers a script returns are cast as C casts them (out of range: the least integer).
    assert_eq!(c.cmd(&["EVAL", "return {3.99, -3.99, 1e20}", "0"]), "*3\r\n:3\r\n:-3\r\n:-9223372036854775808\r\n");
}

#[test]
fn sandbox_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert!(c.cmd(&["EVAL", "x = 1", "0"]).contains("Attempt to modify a readonly table"));
    assert!(c.cmd(&["EVAL", "return undefined_thing", "0"]).contains("Script attempted to access nonexistent global variable 'undefined_thing'"));
    assert!(c.cmd(&["EVAL", "redis.call = nil", "0"]).contains("Attempt to modify a readonly table"));
    assert!(c.cmd(&["EVAL", "return os.time()", "0"]).contains("nonexistent global variable 'os'"));
    assert!(c.cmd(&["EVAL", "return loadfile('/etc/passwd')", "0"]).contains("nonexistent global variable 'loadfile'"));
    let e = c.cmd(&["EVAL", "return redis.call('nosuchcmd')", "0"]).text();
    assert!(e.starts_with("-ERR Unknown Redis command called from script script: "), "{e}");
    assert!(c.cmd(&["EVAL", "return redis.call('set', 'x')", "0"]).starts_with("-ERR Wrong number of args calling Redis command from script"));
    assert!(c.cmd(&["EVAL", "return redis.call('eval', 'return 1', 0)", "0"]).starts_with("-ERR This Redis command is not allowed from script"));
    assert!(c.cmd(&["EVAL_RO", "return redis.call('set', 'x', 1)", "0"]).starts_with("-ERR Write commands are not allowed from read-only scripts."));
    assert_eq!(c.cmd(&["EVAL", "return redis.error_reply('MY custom')", "0"]), "-MY custom\r\n");
    // Redis 7's pcall hands scripts the error's text.
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), ":1\r\n");
    assert!(c.cmd(&["EVAL", "local ok, e = pcall(redis.call, 'incr', 'l') return e", "0"]).starts_with("$65\r\nWRONGTYPE"));
    // Errors inside the script are counted once, by the command that failed.
    let stats = c.cmd(&["INFO", "errorstats"]).text();
    assert!(stats.contains("errorstat_ERR"), "{stats}");
}

#[test]
fn a_busy_script_is_answered_busy_and_can_be_killed() {
    let server = Server::start(&[]);
    let mut admin = server.raw();
    assert_eq!(admin.cmd(&["CONFIG", "SET", "busy-reply-threshold", "10"]), "+OK\r\n");
    let mut runner = server.raw();
    runner.send(&corvid_tests::multibulk(&["EVAL", "while true do end", "0"]));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(admin.cmd(&["PING"]), "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
    // A client that connects now is served too.
    let mut late = server.raw();
    assert_eq!(late.cmd(&["GET", "k"]), "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
    assert_eq!(late.cmd(&["FUNCTION", "KILL"]), "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
    assert_eq!(late.cmd(&["SCRIPT", "KILL"]), "+OK\r\n");
    assert!(runner.read_reply().starts_with("-ERR Script killed by user with SCRIPT KILL..."));
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(late.cmd(&["SET", "k", "v"]), "+OK\r\n");
    // A script that wrote cannot be killed (it runs for a second or more, to
    // be still running when SCRIPT KILL comes after 200 ms).
    runner.send(&corvid_tests::multibulk(&["EVAL", "redis.call('set', 'k', 'w') local i = 0 while i < 200000000 do i = i + 1 end return i", "0"]));
    std::thread::sleep(Duration::from_millis(200));
    assert!(admin.cmd(&["SCRIPT", "KILL"]).starts_with("-UNKILLABLE Sorry the script already executed write commands"));
    assert_eq!(runner.read_reply(), ":200000000\r\n");
    assert_eq!(admin.cmd(&["GET", "k"]), "$1\r\nw\r\n");
}

#[test]
fn functions_load_call_list_and_survive_reload() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.raw();
    let lib = "#!lua name=mylib\nredis.register_function('myset', function(keys, args) return redis.call('set', keys[1], args[1]) end)\nredis.register_function{function_name='myget', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), "$5\r\nmylib\r\n");
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), "-ERR Library 'mylib' already exists\r\n");
    assert_eq!(c.cmd(&["FCALL", "myset", "1", "k", "v1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["FCALL_RO", "MYGET", "1", "k"]), "$2\r\nv1\r\n");
    assert_eq!(c.cmd(&["FCALL_RO", "myset", "1", "k", "v"]), "-ERR Can not execute a script with write flag using *_ro command.\r\n");
    assert_eq!(c.cmd(&["FCALL", "nosuch", "0"]), "-ERR Function not found\r\n");
    let list = c.cmd(&["FUNCTION", "LIST"]).text();
    assert!(list.contains("mylib") && list.contains("myget") && list.contains("reads") && list.contains("+no-writes"), "{list}");
    // During load only register_function, log and the version are there.
    let e = c.cmd(&["FUNCTION", "LOAD", "#!lua name=bad\nredis.call('ping')"]).text();
    assert!(e.starts_with("-ERR Error registering functions: ") && e.contains("nonexistent global variable 'call'"), "{e}");
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", "#!lua name=empty\nlocal x = 1"]), "-ERR No functions registered\r\n");
    // Libraries go into the RDB file and come back.
    let dump = c.cmd(&["FUNCTION", "DUMP"]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(c.cmd(&["FCALL", "myget", "1", "k"]), "$2\r\nv1\r\n");
    assert_eq!(c.cmd(&["FUNCTION", "FLUSH"]), "+OK\r\n");
    assert_eq!(c.cmd(&["FCALL", "myget", "1", "k"]), "-ERR Function not found\r\n");
    let payload = dump.as_bytes();
    let start = payload.iter().position(|&b| b == b'\n').unwrap() + 1;
    let body = &payload[start..payload.len() - 2];
    assert_eq!(c.cmd_bytes(&[&b"FUNCTION"[..], b"RESTORE", body]), "+OK\r\n");
    assert_eq!(c.cmd(&["FCALL", "myget", "1", "k"]), "$2\r\nv1\r\n");
    let stats = c.cmd(&["FUNCTION", "STATS"]).text();
    assert!(stats.contains("libraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2"), "{stats}");
}

#[test]
fn a_scripts_writes_reach_the_aof_as_one_transaction() {
    let server = Server::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["EVAL", "redis.call('set', 'a', 1) redis.call('incr', 'a') return redis.call('get', 'a')", "0"]), "$1\r\n2\r\n");
    // A single write goes alone; redis.set_repl(REPL_NONE) keeps one out.
    assert_eq!(c.cmd(&["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'hidden', 1) redis.set_repl(redis.REPL_ALL) return redis.call('set', 'b', 2)", "0"]), "+OK\r\n");
    let manifest = std::fs::read_to_string(server.dir().join("appendonlydir/appendonly.aof.manifest")).unwrap();
    let incr = manifest.lines().find(|l| l.contains("type i")).and_then(|l| l.split(' ').nth(1)).unwrap().to_string();
    let aof = std::fs::read_to_string(server.dir().join("appendonlydir").join(incr)).unwrap();
    let words: Vec<&str> = aof.split("\r\n").filter(|w| !w.starts_with('*') && !w.starts_with('$')).collect();
    assert_eq!(words, ["SELECT", "0", "MULTI", "set", "a", "1", "incr", "a", "EXEC", "set", "b", "2", ""], "{aof}");
}
