//! The crate's public entry points, and hostile input: whatever bytes a
//! script passes, the libraries answer with a value or a Lua error, never a
//! panic or an abort.

use mlua::{Lua, Table, Value};

fn lua() -> Lua {
    let lua = Lua::new();
    corvid_lualibs::open_all(&lua).unwrap();
    lua
}

#[test]
fn open_all_sets_the_four_globals() {
    let lua = lua();
    for name in ["cjson", "cmsgpack", "bit", "struct"] {
        assert!(matches!(lua.globals().get::<Value>(name).unwrap(), Value::Table(_)), "{name}");
    }
}

#[test]
fn open_functions_return_independent_tables() {
    let lua = Lua::new();
    let cjson = corvid_lualibs::open_cjson(&lua).unwrap();
    let other = corvid_lualibs::open_cjson(&lua).unwrap();
    let precision = |t: &Table, p: Option<i64>| t.get::<mlua::Function>("encode_number_precision").unwrap().call::<i64>(p).unwrap();
    assert_eq!(precision(&cjson, Some(3)), 3);
    assert_eq!(precision(&other, None), 14, "settings are per table");
    assert!(cjson.get::<Value>("null").unwrap() == Value::LightUserData(mlua::LightUserData(std::ptr::null_mut())));
    let bit = corvid_lualibs::open_bit(&lua).unwrap();
    assert_eq!(bit.get::<mlua::Function>("bxor").unwrap().call::<i64>((5, 3)).unwrap(), 6);
    let mp = corvid_lualibs::open_cmsgpack(&lua).unwrap();
    assert_eq!(mp.get::<mlua::Function>("pack").unwrap().call::<mlua::LuaString>(1).unwrap().as_bytes().to_vec(), vec![1]);
    let st = corvid_lualibs::open_struct(&lua).unwrap();
    assert_eq!(st.get::<mlua::Function>("size").unwrap().call::<i64>("i").unwrap(), 4);
}

#[test]
fn errors_are_plain_strings_with_the_caller_position() {
    let lua = lua();
    let err: String = lua
        .load("local ok, e = pcall(function() return cjson.decode('x') end) assert(not ok) return e")
        .set_name("@user_script")
        .eval()
        .unwrap();
    assert_eq!(err, "user_script:1: Expected value but found invalid token at character 1");
    // Called straight from pcall there is no Lua caller, so no position.
    let err: String = lua.load("return select(2, pcall(cjson.decode, 'x'))").eval().unwrap();
    assert_eq!(err, "Expected value but found invalid token at character 1");
    // An uncaught error reaches Rust as a runtime error with the same text.
    let e = lua.load("return bit.tobit()").set_name("@user_script").exec().unwrap_err();
    assert!(e.to_string().contains("user_script:1: bad argument #1 to 'tobit' (number expected, got no value)"), "{e}");
}

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, alphabet: &[u8], max: usize) -> Vec<u8> {
        let len = (self.next() as usize) % max;
        (0..len).map(|_| alphabet[(self.next() as usize) % alphabet.len()]).collect()
    }
}

#[test]
fn random_input_never_panics() {
    let lua = lua();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let all: Vec<u8> = (0..=255).collect();
    let json: &[u8] = b"{}[],:\"\\/ubfnrt0123456789.eE+-xXinfaNIlsuD\x00\xff ";
    let fmt: &[u8] = b"bBhHlLTiIfdxcs<>!= 0123456789";
    let call = |lib: &str, f: &str, args: Vec<Value>| {
        let func: mlua::Function = lua.globals().get::<Table>(lib).unwrap().get(f).unwrap();
        // Ok or Err are both fine; reaching here without a panic is the test.
        let _ = func.call::<mlua::MultiValue>(mlua::MultiValue::from_iter(args));
    };
    for _ in 0..3000 {
        let s = |b: Vec<u8>| Value::String(lua.create_string(b).unwrap());
        call("cjson", "decode", vec![s(rng.bytes(json, 40))]);
        call("cmsgpack", "unpack", vec![s(rng.bytes(&all, 40))]);
        let offset = Value::Number((rng.next() % 50) as f64 - 5.0);
        call("cmsgpack", "unpack_one", vec![s(rng.bytes(&all, 40)), offset.clone()]);
        call("cmsgpack", "unpack_limit", vec![s(rng.bytes(&all, 40)), Value::Number((rng.next() % 4) as f64), offset]);
        call("struct", "unpack", vec![s(rng.bytes(fmt, 12)), s(rng.bytes(&all, 40))]);
        call("struct", "pack", vec![s(rng.bytes(fmt, 12)), Value::Number(rng.next() as f64), s(rng.bytes(&all, 8))]);
        call("struct", "size", vec![s(rng.bytes(fmt, 12))]);
    }
}

#[test]
fn huge_declared_counts_fail_without_allocating() {
    let lua = lua();
    // Array, map and string headers claiming 4 GiB of content.
    for input in ["\\221\\255\\255\\255\\255", "\\223\\255\\255\\255\\255", "\\219\\255\\255\\255\\255"] {
        let err: String = lua.load(format!("return select(2, pcall(cmsgpack.unpack, '{input}'))")).eval().unwrap();
        assert_eq!(err, "Missing bytes in input.");
    }
    // Deep nesting stops where the C code runs out of Lua stack (Redis
    // 7.0.15 answers the same).
    let err: String = lua
        .load("return select(2, pcall(cmsgpack.unpack, string.rep('\\145', 100000)))")
        .eval()
        .unwrap();
    assert_eq!(err, "stack overflow (in function mp_decode_to_lua_array)");
    let err: String = lua.load("return select(2, pcall(cjson.decode, string.rep('[', 100000)))").eval().unwrap();
    assert_eq!(err, "Found too many nested data structures (1001) at character 1001");
}

#[test]
fn encoding_runs_on_a_small_thread_stack() {
    // Nesting is walked iteratively: the deepest input the limits allow
    // must not need a deep native stack.
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let lua = lua();
            let n: i64 = lua
                .load("cjson.encode_max_depth(100000) cjson.decode_max_depth(100000) local t = {} for i = 1, 7000 do t = {t} end return #cjson.encode(t) + #cjson.encode(cjson.decode(cjson.encode(t)))")
                .eval()
                .unwrap();
            assert_eq!(n, 4 * 7001);
        })
        .unwrap()
        .join()
        .unwrap();
}
