//! Replays the cases under `tests/cases/` and compares each answer with what
//! a real Redis 7.0.15 answered for the same line (recorded by
//! `cases/record.py`). Each case runs through `cases/prelude.lua`, which
//! renders results and errors as text identically on both sides, and all
//! cases of one file share one Lua state, in order, as they shared one Redis.

use std::path::Path;

use mlua::Lua;

fn replay(file: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let prelude = std::fs::read_to_string(dir.join("prelude.lua")).unwrap();
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let lua = Lua::new();
    corvid_lualibs::open_all(&lua).unwrap();
    let mut failures = Vec::new();
    let mut lines = text.lines().peekable();
    let mut count = 0;
    while let Some(case) = lines.next() {
        if case.trim().is_empty() || case.starts_with("--") {
            continue;
        }
        let expected = lines.next().and_then(|l| l.strip_prefix("=> ")).unwrap_or_else(|| panic!("{file}: no recorded answer for {case}"));
        if std::env::var_os("CASES_TRACE").is_some() {
            eprintln!("running: {case}");
        }
        let script = prelude.replace("CASE", case);
        let got = match lua.load(&script).set_name("@user_script").eval::<String>() {
            Ok(s) => s,
            Err(e) => format!("redis-error: {e}"),
        };
        count += 1;
        if got != expected {
            failures.push(format!("case:     {case}\nexpected: {expected}\ngot:      {got}\n"));
        }
    }
    assert!(count > 0, "{file} holds no cases");
    assert!(failures.is_empty(), "{} of {count} cases in {file} differ from Redis:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn bit_matches_redis() {
    replay("bit.lua");
}

#[test]
fn cjson_matches_redis() {
    replay("cjson.lua");
}

#[test]
fn cmsgpack_matches_redis() {
    replay("cmsgpack.lua");
}

#[test]
fn struct_matches_redis() {
    replay("struct.lua");
}
