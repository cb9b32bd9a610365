//! Function libraries (Redis's functions.c and function_lua.c): FUNCTION
//! LOAD runs a library's code once, in a VM of its own, to collect the
//! functions it registers; FCALL calls them.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use mlua::{Function, Lua, Table, Value, Variadic};

use super::{raise, ScriptFlags, Vm};

/// FUNCTION LOAD's time limit for running a library's code (LOAD_TIMEOUT_MS).
pub const LOAD_TIMEOUT_MS: u128 = 500;

/// A registered function.
pub struct FunctionInfo {
    pub name: String,
    pub desc: Option<Vec<u8>>,
    pub flags: ScriptFlags,
    pub func: Function,
}

/// A library: its code and its functions, by name.
pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: BTreeMap<String, FunctionInfo>,
}

/// Every library, and every function by lowercase name (FCALL's names are
/// case-insensitive).
#[derive(Default)]
pub struct Libraries {
    pub libs: BTreeMap<String, Library>,
    by_function: HashMap<String, String>,
}

impl Libraries {
    pub fn function_count(&self) -> usize {
        self.by_function.len()
    }

    /// The function FCALL names, if any.
    pub fn find(&self, name: &[u8]) -> Option<&FunctionInfo> {
        let key = String::from_utf8_lossy(name).to_lowercase();
        let lib = self.by_function.get(&key)?;
        self.libs.get(lib)?.functions.values().find(|f| f.name.to_lowercase() == key)
    }

    fn link(&mut self, lib: Library) {
        for f in lib.functions.values() {
            self.by_function.insert(f.name.to_lowercase(), lib.name.clone());
        }
        self.libs.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.libs.remove(name)?;
        for f in lib.functions.values() {
            self.by_function.remove(&f.name.to_lowercase());
        }
        Some(lib)
    }

    /// The first of `lib`'s functions another library already has.
    fn collision(&self, lib: &Library) -> Option<String> {
        lib.functions.values().find(|f| self.by_function.contains_key(&f.name.to_lowercase())).map(|f| f.name.clone())
    }

    /// Add `lib`, replacing a library of the same name if `replace`
    /// (functionsCreateWithLibraryCtx's checks, after compiling).
    pub fn add(&mut self, lib: Library, replace: bool) -> Result<(), String> {
        let old = if self.libs.contains_key(&lib.name) {
            if !replace {
                return Err(format!("Library '{}' already exists", lib.name));
            }
            self.unlink(&lib.name)
        } else {
            None
        };
        if let Some(f) = self.collision(&lib) {
            if let Some(old) = old {
                self.link(old);
            }
            return Err(format!("Function {f} already exists"));
        }
        self.link(lib);
        Ok(())
    }

    pub fn delete(&mut self, name: &str) -> bool {
        self.unlink(name).is_some()
    }

    /// Merge `other` in (libraryJoin): on a library name collision, fail or
    /// replace; on a function collision, fail. Nothing changes on failure.
    pub fn join(&mut self, other: Libraries, replace: bool) -> Result<(), String> {
        let mut replaced = Vec::new();
        for name in other.libs.keys() {
            if self.libs.contains_key(name) {
                if !replace {
                    for lib in replaced {
                        self.link(lib);
                    }
                    return Err(format!("Library {name} already exists"));
                }
                replaced.extend(self.unlink(name));
            }
        }
        for lib in other.libs.values() {
            if let Some(f) = self.collision(lib) {
                for lib in replaced {
                    self.link(lib);
                }
                return Err(format!("Function {f} already exists"));
            }
        }
        for (_, lib) in other.libs {
            self.link(lib);
        }
        Ok(())
    }
}

/// What register_function collects while a library loads (loadCtx).
pub struct LoadState {
    start: Instant,
    functions: BTreeMap<String, FunctionInfo>,
}

impl LoadState {
    pub fn timed_out(&self) -> bool {
        self.start.elapsed().as_millis() > LOAD_TIMEOUT_MS
    }
}

/// Names of libraries and functions: letters, digits and underscores.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// A library's engine, name, and code after the shebang line.
type Metadata<'a> = (Vec<u8>, Vec<u8>, &'a [u8]);

/// The `#!<engine> name=<name>` line of a library: (engine, name, the code
/// after the shebang line, newline included) (functionExtractLibMetaData).
fn metadata(code: &[u8]) -> Result<Metadata<'_>, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = corvid_proto::resp::split_args(&code[..end]).unwrap_or_default();
    let Some(first) = parts.first() else {
        return Err("Invalid library metadata".into());
    };
    let engine = first[2..].to_vec();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".into());
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(part)));
    }
    let name = name.ok_or_else(|| "Library name was not given".to_string())?;
    Ok((engine, name, &code[end..]))
}

/// Compile and run a library's code in the functions VM, collecting what
/// it registers. The error is FUNCTION LOAD's reply text.
pub fn create(vm: &Vm, code: &[u8]) -> Result<Library, String> {
    let (engine, name, body) = metadata(code)?;
    if !valid_name(&name) {
        return Err(BAD_NAME.into());
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!("Engine '{}' not found", String::from_utf8_lossy(&engine)));
    }
    let func = vm.compile(body, "@user_function").map_err(|e| format!("Error compiling function: {e}"))?;
    let set_loading = vm.set_loading.as_ref().expect("the functions VM can load libraries");
    vm.lua.set_app_data(LoadState { start: Instant::now(), functions: BTreeMap::new() });
    let result = set_loading.call::<()>(true).and_then(|_| vm.run.call::<(bool, Value)>(func));
    let _ = set_loading.call::<()>(false);
    let state = vm.lua.remove_app_data::<LoadState>().expect("set above");
    if state.timed_out() {
        vm.reset_hook();
    }
    match result {
        Ok((true, _)) => {}
        Ok((false, err)) => {
            let msg = match &err {
                Value::Table(t) => match t.raw_get::<Value>("err") {
                    Ok(Value::String(s)) => s.to_string_lossy(),
                    _ => String::new(),
                },
                other => format!("{other:?}"),
            };
            return Err(format!("Error registering functions: {msg}"));
        }
        Err(e) => return Err(format!("Error registering functions: {e}")),
    }
    if state.functions.is_empty() {
        return Err("No functions registered".into());
    }
    Ok(Library { name: String::from_utf8_lossy(&name).into_owned(), code: code.to_vec(), functions: state.functions })
}

/// redis.register_function(name, callback) or
/// redis.register_function{function_name=, callback=, flags=, description=}.
pub fn api_register_function(lua: &Lua, args: Variadic<Value>) -> mlua::Result<()> {
    if lua.app_data_ref::<LoadState>().is_none() {
        return Err(raise("redis.register_function can only be called on FUNCTION LOAD command"));
    }
    let f = match args.as_slice() {
        [Value::Table(t)] => named_args(lua, t)?,
        [_] => {
            return Err(raise(
                "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
            ))
        }
        [name, callback] => {
            let name = string_of(name).ok_or_else(|| raise("first argument to redis.register_function must be a string"))?;
            let Value::Function(func) = callback else {
                return Err(raise("second argument to redis.register_function must be a function"));
            };
            FunctionInfo { name, desc: None, flags: ScriptFlags::default(), func: func.clone() }
        }
        _ => return Err(raise("wrong number of arguments to redis.register_function")),
    };
    if !valid_name(f.name.as_bytes()) {
        return Err(raise(BAD_NAME));
    }
    let mut st = lua.app_data_mut::<LoadState>().expect("checked above");
    if st.functions.contains_key(&f.name) {
        return Err(raise("Function already exists in the library"));
    }
    st.functions.insert(f.name.clone(), f);
    Ok(())
}

/// lua_isstring's strings: strings and numbers.
fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string_lossy()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Number(n) => Some(corvid_proto::resp::format_g(*n, 14)),
        _ => None,
    }
}

fn named_args(lua: &Lua, t: &Table) -> mlua::Result<FunctionInfo> {
    let (mut name, mut desc, mut func, mut flags) = (None, None, None, ScriptFlags::default());
    let (flat, entries) = super::convert::flat_pairs(lua, t)?;
    for i in (1..=2 * entries).step_by(2) {
        let (k, v): (Value, Value) = (flat.raw_get(i)?, flat.raw_get(i + 1)?);
        let Some(key) = string_of(&k) else {
            return Err(raise("named argument key given to redis.register_function is not a string"));
        };
        match key.to_ascii_lowercase().as_str() {
            "function_name" => {
                name = Some(string_of(&v).ok_or_else(|| raise("function_name argument given to redis.register_function must be a string"))?);
            }
            "description" => {
                let d = match &v {
                    Value::String(s) => s.as_bytes().to_vec(),
                    other => string_of(other).ok_or_else(|| raise("description argument given to redis.register_function must be a string"))?.into_bytes(),
                };
                desc = Some(d);
            }
            "callback" => {
                let Value::Function(f) = v else {
                    return Err(raise("callback argument given to redis.register_function must be a function"));
                };
                func = Some(f);
            }
            "flags" => {
                let Value::Table(list) = v else {
                    return Err(raise("flags argument to redis.register_function must be a table representing function flags"));
                };
                for i in 1.. {
                    match list.get::<Value>(i)? {
                        Value::Nil => break,
                        item => {
                            let known = string_of(&item).is_some_and(|s| flags.set(s.to_ascii_lowercase().as_bytes()));
                            if !known {
                                return Err(raise("unknown flag given"));
                            }
                        }
                    }
                }
            }
            _ => return Err(raise("unknown argument given to redis.register_function")),
        }
    }
    let name = name.ok_or_else(|| raise("redis.register_function must get a function name argument"))?;
    let func = func.ok_or_else(|| raise("redis.register_function must get a callback argument"))?;
    Ok(FunctionInfo { name, desc, flags, func })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_metadata() {
        let (engine, name, body) = metadata(b"#!lua name=mylib\nreturn 1").unwrap();
        assert_eq!((engine.as_slice(), name.as_slice(), body), (&b"lua"[..], &b"mylib"[..], &b"\nreturn 1"[..]));
        assert_eq!(metadata(b"return 1").unwrap_err(), "Missing library metadata");
        assert_eq!(metadata(b"#!lua name=a").unwrap_err(), "Invalid library metadata");
        assert_eq!(metadata(b"#!lua\n").unwrap_err(), "Library name was not given");
        assert_eq!(metadata(b"#!lua name=a name=b\n").unwrap_err(), "Invalid metadata value, name argument was given multiple times");
        assert_eq!(metadata(b"#!lua foo=bar\n").unwrap_err(), "Invalid metadata value given: foo=bar");
    }

    #[test]
    fn names() {
        assert!(valid_name(b"abc_09"));
        assert!(!valid_name(b""));
        assert!(!valid_name(b"a-b"));
        assert!(!valid_name(b"bad\0name"));
    }
}
