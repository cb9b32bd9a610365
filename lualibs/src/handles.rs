//! Walking and building nested Lua tables while holding few mlua handles.
//!
//! Every live mlua `Table`/`String`/... handle occupies a slot of mlua's
//! auxiliary Lua stack, which holds at most 8000 (`LUAI_MAXCSTACK`); running
//! out panics inside mlua. So the walkers never hold one handle per entry or
//! per nesting level: a table's entries are listed into one Lua sequence and
//! read one at a time, and the tables of enclosing levels are parked in a Lua
//! table while the innermost one is worked on.

use mlua::{Lua, Table, Value};

use crate::arg::exact_get;
use crate::error::Result;

/// Lists tables' entries in `next` order with exact numbers.
///
/// mlua's `Table::pairs` feeds each key it converted back to `lua_next`, and
/// a number key it rounded (`1e-20` became `0`) makes `lua_next` raise
/// "invalid key to 'next'" outside any protected call. So the walk happens in
/// Lua, which keeps its own keys, and the entries come back in a sequence
/// from which `exact_get` reads every number unrounded.
#[derive(Clone)]
pub(crate) struct EntryLister(mlua::Function);

const LIST_ENTRIES: &str = r#"
local next = next
return function(t)
  local out, n = {}, 0
  for k, v in next, t do
    out[n + 1] = k
    out[n + 2] = v
    n = n + 2
  end
  return out, n / 2
end
"#;

impl EntryLister {
    pub(crate) fn new(lua: &Lua) -> mlua::Result<Self> {
        Ok(EntryLister(lua.load(LIST_ENTRIES).set_name("=corvid_lualibs").call(())?))
    }

    /// The raw listing: the sequence and the number of entries.
    pub(crate) fn entries(&self, t: &Table) -> mlua::Result<(Table, usize)> {
        self.0.call(t)
    }

    pub(crate) fn list(&self, t: &Table) -> Result<Entries> {
        let (seq, count): (Table, usize) = self.0.call(t)?;
        Ok(Entries { seq, count })
    }
}

/// One table's entries, as listed by `EntryLister`.
pub(crate) struct Entries {
    pub(crate) seq: Table,
    pub(crate) count: usize,
}

impl Entries {
    /// Key of entry `i` (0-based).
    pub(crate) fn key(&self, i: usize) -> Result<Value> {
        Ok(exact_get(&self.seq, Value::Number((2 * i + 1) as f64))?)
    }

    pub(crate) fn value(&self, i: usize) -> Result<Value> {
        Ok(exact_get(&self.seq, Value::Number((2 * i + 2) as f64))?)
    }
}

/// A stack of values (tables, keys) of open nesting levels: the innermost
/// is held as a handle, the others are parked in one Lua table.
pub(crate) struct OpenStack {
    top: Value,
    parked: Table,
    len: usize,
}

impl OpenStack {
    pub(crate) fn new(lua: &Lua) -> Result<Self> {
        Ok(OpenStack { top: Value::Nil, parked: lua.create_table()?, len: 0 })
    }

    pub(crate) fn push(&mut self, v: Value) -> Result<()> {
        if self.len > 0 {
            let outer = std::mem::replace(&mut self.top, Value::Nil);
            self.parked.raw_set(self.len as i64, outer)?;
        }
        self.top = v;
        self.len += 1;
        Ok(())
    }

    /// The innermost value (nil when empty).
    pub(crate) fn top(&self) -> &Value {
        &self.top
    }

    pub(crate) fn set_top(&mut self, v: Value) {
        self.top = v;
    }

    pub(crate) fn pop(&mut self) -> Result<Value> {
        if self.len == 0 {
            return Ok(Value::Nil);
        }
        self.len -= 1;
        let next_top = if self.len > 0 {
            let v = exact_get(&self.parked, Value::Number(self.len as f64))?;
            self.parked.raw_set(self.len as i64, Value::Nil)?;
            v
        } else {
            Value::Nil
        };
        Ok(std::mem::replace(&mut self.top, next_top))
    }
}
