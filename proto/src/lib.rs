//! Corvid's wire: everything a client, a node, a sentinel and a proxy must
//! agree on byte for byte.
//!
//! # Layout
//! - [`resp`]: RESP2/RESP3 request parser and reply encoder.
//! - [`command_table`]: the Redis 7.0 command table as data (arity, flags,
//!   key specs and legacy key range, ACL categories, docs), key extraction
//!   and the `COMMAND INFO`/`COMMAND DOCS` entries; read by the node's
//!   dispatcher and `COMMAND`, and by the proxy's router.
//! - [`slot`]: `key_hash_slot`, CRC16-XMODEM mod 16384 with hash tags.

pub mod command_table;
pub mod resp;
pub mod slot;
