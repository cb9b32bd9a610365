//! The C libraries Redis 7.0 exposes to Lua scripts, rebuilt in Rust on
//! mlua: `cjson`, `cmsgpack`, `bit` and `struct`. Each behaves as the copy in
//! Redis's deps/lua/src does: same functions, same results, same error texts.
//!
//! The caller installs the tables as globals (or uses `open_all`) and makes
//! them read-only; nothing here touches other globals.
//!
//! # Layout
//! - `bit`: LuaBitOp (`bit.band`, `bit.tohex`, ...).
//! - `cjson`: Lua CJSON 2.1.0 (`cjson.encode`, `cjson.decode`, settings).
//! - `cmsgpack`: lua-cmsgpack 0.4.0 (`cmsgpack.pack`, `cmsgpack.unpack`, ...).
//! - `structpack`: Roberto Ierusalimschy's `struct` (`struct.pack`, ...).
//! - `number`: C's `%.14g` formatting and `strtod` parsing, which JSON uses.
//! - `callback`: how a Rust body becomes a Lua function raising string errors.
//! - `arg`: `luaL_check*` argument reading.
//! - `handles`: walking nested tables with few live mlua handles.
//! - `error`: the error messages.

mod arg;
mod bit;
mod callback;
mod cjson;
mod cmsgpack;
mod error;
mod handles;
mod number;
mod structpack;

pub use bit::open_bit;
pub use cjson::open_cjson;
pub use cmsgpack::open_cmsgpack;
pub use structpack::open_struct;

/// Lists a table's entries in `next` order without mlua's `Table::pairs`,
/// which feeds the keys it converted back to `lua_next` and makes it raise
/// outside any protected call when a number key did not round-trip (see
/// [`handles`]). For code outside this crate that walks scripts' tables.
pub struct TableWalker(handles::EntryLister);

impl TableWalker {
    pub fn new(lua: &Lua) -> mlua::Result<TableWalker> {
        handles::EntryLister::new(lua).map(TableWalker).map_err(mlua::Error::external)
    }

    /// `t`'s entries as one sequence {k1, v1, k2, v2, ...} and the number
    /// of entries: read it by index, one entry at a time (every live mlua
    /// handle takes one of a few thousand slots).
    pub fn entries(&self, t: &mlua::Table) -> mlua::Result<(mlua::Table, usize)> {
        self.0.entries(t)
    }
}

use mlua::Lua;

/// Sets the globals `cjson`, `cmsgpack`, `bit` and `struct`.
pub fn open_all(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set("cjson", open_cjson(lua)?)?;
    globals.set("cmsgpack", open_cmsgpack(lua)?)?;
    globals.set("bit", open_bit(lua)?)?;
    globals.set("struct", open_struct(lua)?)?;
    Ok(())
}
