//! The RDB snapshot file (Redis's rdbSaveRio / rdbLoadRioWithLoadingCtx):
//!
//! ```text
//! "REDIS0010" | AUX fields | per database: SELECTDB n, RESIZEDB sizes,
//!   [EXPIRETIME_MS t] [IDLE s | FREQ f] type key value ... | EOF | CRC64 (LE)
//! ```
//!
//! The whole image is built in memory and written to a temporary file that is
//! renamed over the target, so a crash never leaves half a snapshot; loading
//! reads the whole file and checks every byte as RESTORE does, so a corrupt
//! file is refused with what is wrong and nothing half-loaded.

use std::io::Write;
use std::path::Path;

use super::crc64::crc64;
use super::encoding::{self, Reader};
use super::object::{to_owned_value, EncodingLimits};
use super::value::{self, ValueType};
use super::{RdbError, RDB_VERSION};
use crate::db::Databases;

const OPCODE_FUNCTION2: u8 = 245;
const OPCODE_MODULE_AUX: u8 = 247;
const OPCODE_IDLE: u8 = 248;
const OPCODE_FREQ: u8 = 249;
const OPCODE_AUX: u8 = 250;
const OPCODE_RESIZEDB: u8 = 251;
const OPCODE_EXPIRETIME_MS: u8 = 252;
const OPCODE_EXPIRETIME: u8 = 253;
const OPCODE_SELECTDB: u8 = 254;
const OPCODE_EOF: u8 = 255;

/// Why a file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("Wrong signature trying to load DB from file")]
    Signature,
    #[error("Can't handle RDB format version {0}")]
    Version(u16),
    #[error("Wrong RDB checksum expected: ({expected:016x}) got: ({got:016x})")]
    Checksum { expected: u64, got: u64 },
    #[error("FATAL: Data file was created with a Redis server configured to handle more than {0} databases")]
    DbIndex(u64),
    #[error("Unsupported RDB opcode {0}")]
    Opcode(u8),
    #[error("Short read or OOM loading DB: {0:?}")]
    Data(#[from] RdbError),
    /// A key's value that does not decode (Redis's rdbReportCorruptRDB):
    /// where it starts in the file, the key, its type byte, the check that failed.
    #[error("Internal error in RDB reading offset {offset}, key '{}' -> {}", String::from_utf8_lossy(key), error.reason())]
    Value { offset: usize, key: Vec<u8>, type_byte: u8, error: RdbError },
}

impl LoadError {
    /// The lines to log before giving up on a corrupt file: the error, then
    /// a report in the form redis-check-rdb gives (Redis runs it at this
    /// point), which operators and tests look for.
    pub fn report(&self) -> Vec<String> {
        if let LoadError::Checksum { .. } = self {
            return vec![
                format!("{self}. Aborting now."),
                "Internal error in RDB reading: RDB CRC error".into(),
                "Terminating server after rdb file reading failure.".into(),
            ];
        }
        let LoadError::Value { offset, key, type_byte, error } = self else {
            return vec![format!("Fatal error loading the DB: {self}. Exiting.")];
        };
        vec![
            self.to_string(),
            "--- RDB ERROR DETECTED ---".into(),
            format!("[offset {offset}] {}", error.reason()),
            "[additional info] While doing: read-object-value".into(),
            format!("[additional info] Reading key '{}'", String::from_utf8_lossy(key)),
            format!("[additional info] Reading type {type_byte}"),
            "Terminating server after rdb file reading failure.".into(),
        ]
    }
}

/// Aux fields written at the top of the file (what Redis writes, less the
/// replication ones until replication arrives).
pub struct AuxInfo {
    pub ctime_secs: i64,
    pub used_mem: u64,
    /// The image is an AOF base file (aux field aof-base 1).
    pub aof_base: bool,
    /// The replication history the dataset is at (repl-id, repl-offset,
    /// repl-stream-db), so a restart can continue it.
    pub repl: Option<ReplAux>,
}

/// Where in a replication history a saved dataset stands (rdbSaveInfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplAux {
    pub id: String,
    pub offset: u64,
    /// The database the stream had selected.
    pub stream_db: usize,
}

impl AuxInfo {
    /// The fields as of now.
    pub fn current(aof_base: bool) -> AuxInfo {
        AuxInfo { ctime_secs: crate::clock::now_secs(), used_mem: crate::cmd::info::memory_stats().allocated as u64, aof_base, repl: None }
    }
}

/// The repl-* aux fields as they are read; a history is usable only with
/// all three (loadDataFromDisk's rsi checks).
#[derive(Debug, Default)]
pub struct ReplAuxReader {
    id: Option<String>,
    offset: Option<i64>,
    stream_db: Option<i64>,
}

impl ReplAuxReader {
    pub fn note(&mut self, key: &[u8], value: &[u8]) {
        let int = || std::str::from_utf8(value).ok().and_then(|v| v.parse::<i64>().ok());
        match key {
            b"repl-id" if value.len() == 40 => self.id = std::str::from_utf8(value).ok().map(str::to_string),
            b"repl-offset" => self.offset = int(),
            b"repl-stream-db" => self.stream_db = int(),
            _ => {}
        }
    }

    pub fn finish(self) -> Option<ReplAux> {
        match (self.id, self.offset, self.stream_db) {
            (Some(id), Some(offset), Some(db)) if offset >= 0 && db >= 0 => Some(ReplAux { id, offset: offset as u64, stream_db: db as usize }),
            _ => None,
        }
    }
}

/// The file image of every database.
/// `functions` are the function libraries' codes (rdbSaveFunctions).
pub fn serialize(dbs: &Databases, functions: &[&[u8]], aux: &AuxInfo, compress: bool, checksum: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    serialize_to(&mut out, dbs, functions, aux, compress, checksum, None).expect("a Vec takes every write");
    out
}

/// Bytes [`serialize_to`] gathers before a write.
const WRITE_AT: usize = 1 << 20;

/// [`serialize`], written to `w` a buffer at a time as it is made, so a
/// foreground save (SAVE, SHUTDOWN's) needs no image of the whole dataset
/// in memory. `key_delay` is `rdb-key-save-delay`, a sleep after each key
/// (a test knob: it blocks the node, as in Redis).
pub fn serialize_to(
    w: &mut dyn Write,
    dbs: &Databases,
    functions: &[&[u8]],
    aux: &AuxInfo,
    compress: bool,
    checksum: bool,
    key_delay: Option<std::time::Duration>,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(WRITE_AT + (WRITE_AT >> 2));
    let mut crc = 0;
    let mut emit = |out: &mut Vec<u8>, w: &mut dyn Write| -> std::io::Result<()> {
        if checksum {
            crc = crc64(crc, out);
        }
        w.write_all(out)?;
        out.clear();
        Ok(())
    };
    write_header(&mut out, aux, functions);
    for (index, table) in dbs.dbs.iter().enumerate() {
        if table.is_empty() {
            continue;
        }
        write_select(&mut out, index, Some((table.len(), table.volatile_len())));
        let now = crate::clock::now_ms();
        for e in table.iter() {
            write_key(&mut out, &e, compress, &dbs.policy, now);
            if out.len() >= WRITE_AT {
                emit(&mut out, w)?;
            }
            if let Some(d) = key_delay {
                std::thread::sleep(d);
            }
        }
    }
    write_eof(&mut out);
    emit(&mut out, w)?;
    w.write_all(&crc.to_le_bytes())
}

/// The signature, the aux fields and the function libraries: what comes
/// before the first database.
pub fn write_header(out: &mut Vec<u8>, aux: &AuxInfo, functions: &[&[u8]]) {
    out.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    let aux_field = |out: &mut Vec<u8>, k: &str, v: &[u8]| {
        out.push(OPCODE_AUX);
        encoding::write_string(out, k.as_bytes(), false);
        encoding::write_string(out, v, false);
    };
    aux_field(out, "redis-ver", crate::cmd::info::REDIS_VERSION.as_bytes());
    aux_field(out, "redis-bits", b"64");
    aux_field(out, "ctime", aux.ctime_secs.to_string().as_bytes());
    aux_field(out, "used-mem", aux.used_mem.to_string().as_bytes());
    if let Some(r) = &aux.repl {
        aux_field(out, "repl-stream-db", r.stream_db.to_string().as_bytes());
        aux_field(out, "repl-id", r.id.as_bytes());
        aux_field(out, "repl-offset", r.offset.to_string().as_bytes());
    }
    aux_field(out, "aof-base", if aux.aof_base { b"1" } else { b"0" });
    for code in functions {
        out.push(OPCODE_FUNCTION2);
        encoding::write_string(out, code, false);
    }
}

/// Switch to database `db`, with its (keys, keys with an expiry) as the
/// loader's sizing hint when given. A file may switch back and forth:
/// loaders take each key into the last database selected.
pub fn write_select(out: &mut Vec<u8>, db: usize, sizes: Option<(usize, usize)>) {
    out.push(OPCODE_SELECTDB);
    encoding::write_len(out, db as u64);
    if let Some((keys, volatile)) = sizes {
        out.push(OPCODE_RESIZEDB);
        encoding::write_len(out, keys as u64);
        encoding::write_len(out, volatile as u64);
    }
}

/// One key: its expiry, its idle time or LFU counter when the policy
/// saves them, type, name and value.
pub fn write_key(out: &mut Vec<u8>, e: &crate::keyspace::Entry<'_>, compress: bool, access: &crate::access::AccessPolicy, now_ms: i64) {
    if let Some(at) = e.expire_at() {
        out.push(OPCODE_EXPIRETIME_MS);
        out.extend_from_slice(&at.to_le_bytes());
    }
    if access.saved {
        if access.lfu {
            out.push(OPCODE_FREQ);
            out.push(access.lfu_decayed(e.lru(), now_ms) as u8);
        } else {
            out.push(OPCODE_IDLE);
            encoding::write_len(out, (crate::access::idle_ms(e.lru(), now_ms) / 1000).max(0) as u64);
        }
    }
    let v = e.value();
    out.push(ValueType::of_value(&v).byte());
    encoding::write_string(out, e.key(), compress);
    value::write_value_ref(out, &v, compress);
}

/// The end of the data. The file's last 8 bytes follow: the CRC64 (LE) of
/// everything up to and including this byte, or 0 with `rdbchecksum no`.
pub fn write_eof(out: &mut Vec<u8>) {
    out.push(OPCODE_EOF);
}

/// Write `image` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, image: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |f| f.write_all(image))
}

/// Write `path` with `write` through a temporary file, synced, and a
/// rename (rdbSave's temp-<pid>.rdb: a crash never leaves half a file,
/// and a second SIGINT removes it, see `crate::shutdown`).
pub fn write_atomically_with(path: &Path, write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) -> std::io::Result<()> {
    let tmp = path.with_file_name(format!("temp-{}.rdb", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A parsed image: the bytes it took, its function libraries, how many
/// keys were dropped as already expired and as empty, and the checksum it
/// ends with (None before RDB version 5), not checked yet.
type Parsed = (usize, Vec<Vec<u8>>, usize, usize, Option<u64>);

/// What a load stored (INFO's rdb_last_load_keys_loaded and _expired).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadCounts {
    pub loaded: usize,
    /// Keys in the file whose TTL had passed, not loaded.
    pub expired: usize,
    /// The replication history the file was saved at, if it says.
    pub repl: Option<ReplAux>,
}

/// A key read from the file, before it goes into a database.
pub struct Loaded {
    db: usize,
    key: Vec<u8>,
    value: crate::keyspace::OwnedValue,
    expire_at: Option<i64>,
    lru: Option<u32>,
    /// Bytes of the file read once this key was.
    pub end: usize,
}

/// Load a whole file image, storing keys as they are read (a corrupt file
/// leaves what came before it: callers stop the start, or reload into an
/// emptied dataset, as Redis does). Keys already expired at `now_ms` are
/// dropped, as a master does. The function libraries' codes found go to
/// `functions`. The checksum is computed on another thread while the
/// keys are read: on a large file it is a fifth of the work.
pub fn load(image: &[u8], dbs: &mut Databases, functions: &mut Vec<Vec<u8>>, limits: &EncodingLimits, now_ms: i64) -> Result<LoadCounts, LoadError> {
    let (db_count, policy) = (dbs.dbs.len(), dbs.policy);
    let mut loaded = 0;
    let mut repl = ReplAuxReader::default();
    let (codes, expired) = decode(image, db_count, limits, now_ms, policy, 0, &mut |item| {
        loaded += matches!(item, Item::Key(_)) as usize;
        if let Item::Aux(k, v) = &item {
            repl.note(k, v);
        }
        store(item, dbs)
    })?;
    *functions = codes;
    Ok(LoadCounts { loaded, expired, repl: repl.finish() })
}

/// Store what [`decode`] read.
pub fn store(item: Item, dbs: &mut Databases) {
    match item {
        Item::Key(k) => store_one(k, dbs),
        Item::Sizes(db, keys) => dbs.dbs[db].reserve(keys),
        Item::Aux(..) | Item::Expired(..) => {}
    }
}

/// Read a whole file image, handing every key to `out` as it is read,
/// and check its checksum, computed on another thread meanwhile (on a
/// large file it is a fifth of the work). `key_delay_us` (the hidden
/// `key-load-delay`, for tests) sleeps that long after each key. The
/// function libraries and how many keys were dropped as expired come back.
pub fn decode(
    image: &[u8],
    db_count: usize,
    limits: &EncodingLimits,
    now_ms: i64,
    policy: crate::access::AccessPolicy,
    key_delay_us: u64,
    out: &mut dyn FnMut(Item),
) -> Result<(Vec<Vec<u8>>, usize), LoadError> {
    let body = image.len().saturating_sub(8);
    std::thread::scope(|scope| {
        let crc = scope.spawn(|| crc64(0, &image[..body]));
        let mut loaded = 0;
        let parsed = parse(image, db_count, limits, now_ms, false, policy, &mut |item| {
            if let Item::Key(_) = item {
                loaded += 1;
                if key_delay_us > 0 {
                    std::thread::sleep(std::time::Duration::from_micros(key_delay_us));
                }
            }
            out(item)
        });
        let (used, codes, expired, empty, stored) = parsed?;
        if let Some(expected) = stored.filter(|&c| c != 0) {
            // The sum covers everything before its own 8 bytes.
            let got = if used == image.len() { crc.join().expect("crc thread") } else { crc64(0, &image[..used - 8]) };
            if expected != got {
                return Err(LoadError::Checksum { expected, got });
            }
        }
        log_done(loaded, expired, empty);
        Ok((codes, expired))
    })
}

/// Load an RDB image at the start of `image` (an AOF base or preamble) and
/// say how many bytes it took; nothing is stored unless all of it is
/// valid. Keys whose TTL has passed are kept, to expire as usual, as Redis
/// loads a preamble.
pub fn load_prefix(image: &[u8], dbs: &mut Databases, functions: &mut Vec<Vec<u8>>, limits: &EncodingLimits, now_ms: i64) -> Result<usize, LoadError> {
    let mut keys = Vec::new();
    let (used, codes, expired, empty, stored) = parse(image, dbs.dbs.len(), limits, now_ms, true, dbs.policy, &mut |item| {
        if let Item::Key(k) = item {
            keys.push(k);
        }
    })?;
    if let Some(expected) = stored.filter(|&c| c != 0) {
        let got = crc64(0, &image[..used - 8]);
        if expected != got {
            return Err(LoadError::Checksum { expected, got });
        }
    }
    *functions = codes;
    log_done(keys.len(), expired, empty);
    for k in keys {
        store_one(k, dbs);
    }
    Ok(used)
}

fn log_done(loaded: usize, expired: usize, empty: usize) {
    if empty > 0 {
        tracing::info!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}, empty keys skipped: {empty}.");
    } else {
        tracing::info!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}.");
    }
}

fn store_one(k: Loaded, dbs: &mut Databases) {
    dbs.set_owned(k.db, &k.key, k.value, k.expire_at);
    if let Some(lru) = k.lru {
        dbs.dbs[k.db].set_lru(&k.key, lru);
    }
}

/// What [`parse`] hands over as it reads.
pub enum Item {
    Key(Loaded),
    /// RESIZEDB: about this many keys are coming for this database.
    Sizes(usize, usize),
    /// An aux field the loader's caller may want (the repl-* ones).
    Aux(Vec<u8>, Vec<u8>),
    /// A key dropped because its TTL had passed (a master tells its
    /// replicas with a DEL).
    Expired(usize, Vec<u8>),
}

fn parse(
    image: &[u8],
    db_count: usize,
    limits: &EncodingLimits,
    now_ms: i64,
    keep_expired: bool,
    policy: crate::access::AccessPolicy,
    out: &mut dyn FnMut(Item),
) -> Result<Parsed, LoadError> {
    if image.len() < 9 || &image[..5] != b"REDIS" {
        return Err(LoadError::Signature);
    }
    let version: u16 = std::str::from_utf8(&image[5..9]).ok().and_then(|v| v.parse().ok()).ok_or(LoadError::Signature)?;
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(LoadError::Version(version));
    }
    let mut r = Reader::new(&image[9..]);
    let mut functions = Vec::new();
    let mut db = 0usize;
    let (mut expire_at, mut idle, mut freq) = (None, None, None);
    let (mut expired, mut empty_skipped) = (0usize, 0usize);
    loop {
        let op = r.read_u8()?;
        match op {
            OPCODE_EOF => break,
            OPCODE_SELECTDB => {
                let n = r.read_len()?;
                db = usize::try_from(n).ok().filter(|&d| d < db_count).ok_or(LoadError::DbIndex(n))?;
            }
            OPCODE_RESIZEDB => {
                // A hint, from any source: no more keys than bytes left.
                let keys = r.read_len()?.min(r.remaining() as u64) as usize;
                r.read_len()?;
                out(Item::Sizes(db, keys));
            }
            OPCODE_AUX => {
                let key = r.read_string()?;
                let value = r.read_string()?;
                if key.starts_with(b"repl-") {
                    out(Item::Aux(key, value));
                }
            }
            OPCODE_EXPIRETIME_MS => expire_at = Some(i64::from_le_bytes(r.read_bytes(8)?.try_into().expect("8"))),
            OPCODE_EXPIRETIME => {
                let secs = i32::from_le_bytes(r.read_bytes(4)?.try_into().expect("4"));
                expire_at = Some(secs as i64 * 1000);
            }
            OPCODE_IDLE => idle = Some(r.read_len()?),
            OPCODE_FREQ => freq = Some(r.read_u8()?),
            OPCODE_FUNCTION2 => functions.push(r.read_string()?),
            OPCODE_MODULE_AUX => return Err(LoadError::Opcode(op)),
            type_byte => {
                let ty = ValueType::from_byte(type_byte).ok_or(RdbError::UnknownType(type_byte))?;
                let key = r.read_string()?;
                let offset = 9 + r.position();
                let value = match value::read_value(&mut r, ty).and_then(|v| to_owned_value(v, limits)) {
                    Ok(value) => value,
                    Err(RdbError::EmptyValue) => {
                        // An empty collection (written by a buggy or older
                        // writer) is skipped and the load goes on, as in Redis:
                        // the reader has consumed all of it.
                        if empty_skipped < 10 {
                            tracing::warn!("rdbLoadObject skipping empty key: {}", String::from_utf8_lossy(&key));
                        }
                        empty_skipped += 1;
                        (expire_at, idle, freq) = (None, None, None);
                        continue;
                    }
                    Err(error) => return Err(LoadError::Value { offset, key, type_byte, error }),
                };
                let lru = policy.restored(freq.take().map(u32::from), idle.take().map(|s| s as i64), now_ms);
                let expire = expire_at.take();
                if !keep_expired && expire.is_some_and(|at| at <= now_ms) {
                    expired += 1;
                    out(Item::Expired(db, key));
                    continue;
                }
                out(Item::Key(Loaded { db, key, value, expire_at: expire, lru, end: 9 + r.position() }));
            }
        }
    }
    let stored = if version >= 5 { Some(u64::from_le_bytes(r.read_bytes(8)?.try_into().expect("8"))) } else { None };
    Ok((image.len() - r.remaining(), functions, expired, empty_skipped, stored))
}

/// Read and load the file at `path` (DEBUG RELOAD, start-up).
///
/// The file is mapped rather than read: a copy of a snapshot the size of
/// the dataset would double the memory a start-up needs and add the time
/// to fill it.
pub fn load_file(path: &Path, dbs: &mut Databases, functions: &mut Vec<Vec<u8>>, limits: &EncodingLimits, now_ms: i64) -> Result<LoadCounts, LoadError> {
    let file = std::fs::File::open(path)?;
    load(&map(&file)?, dbs, functions, limits, now_ms)
}

/// A snapshot file's bytes, mapped for a load.
pub fn map(file: &std::fs::File) -> Result<Mapped, LoadError> {
    if file.metadata()?.len() == 0 {
        return Ok(Mapped::Empty);
    }
    // SAFETY: the map is read-only and lives only for the load. The file
    // is the node's own snapshot in its own directory; a BGSAVE replaces
    // it by rename, which leaves the mapped inode intact. Only another
    // process truncating it in place could fault the reads, as it could
    // corrupt a read() of it.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(file)? };
    Ok(Mapped::Map(map))
}

/// What [`map`] gives: an empty file cannot be mapped.
pub enum Mapped {
    Empty,
    Map(memmap2::Mmap),
}

impl std::ops::Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Mapped::Empty => &[],
            Mapped::Map(m) => m,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{NewValue, StrEncoding};

    fn limits() -> EncodingLimits {
        EncodingLimits {
            list_fill: -2,
            max_intset: 512,
            hash: crate::hash::Limits { max_entries: 128, max_value: 64 },
            zset_entries: 128,
            zset_value: 64,
        }
    }

    fn dbs() -> Databases {
        Databases::new(16, crate::access::AccessPolicy { lfu: false, saved: false, lfu_log_factor: 10, lfu_decay_time: 1 })
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// Files from Redis's test suite (tests/assets), written by old versions.
    #[test]
    fn loads_old_encodings_from_redis_files() {
        // hash-zipmap.rdb (RDB 3, no checksum): hash {f1: v1, f2: v2} as a zipmap.
        let image = hex("524544495330303033fe0009046861736810020266310200763102663202007632ffff");
        let mut b = dbs();
        assert_eq!(load(&image, &mut b, &mut Vec::new(), &limits(), 1).unwrap().loaded, 1);
        let crate::keyspace::OwnedValue::Hash(h) = b.dbs[0].get(b"hash").unwrap().value().to_owned() else { panic!() };
        assert!(matches!(h, crate::hash::Hash::Listpack(_)));
        assert_eq!(h.len(), 2);
        // With a value limit of 1 byte it becomes a hash table.
        let mut tight = limits();
        tight.hash.max_value = 1;
        let mut b = dbs();
        load(&image, &mut b, &mut Vec::new(), &tight, 1).unwrap();
        let crate::keyspace::OwnedValue::Hash(h) = b.dbs[0].get(b"hash").unwrap().value().to_owned() else { panic!() };
        assert!(matches!(h, crate::hash::Hash::Table(_)));
        // list-quicklist.rdb (Redis 4.0): list [7] as a quicklist of ziplists, x = 7.
        let image = hex("524544495330303038fa0972656469732d76657205342e302e39fa0a72656469732d62697473c040fa056374696d65c29f062661fa08757365642d6d656dc280920700fa0c616f662d707265616d626c65c000fe00fb02000e046c697374010d0d0000000a000000010000f8ff000178c007ff3572f8541ac4d740");
        let mut b = dbs();
        assert_eq!(load(&image, &mut b, &mut Vec::new(), &limits(), 1).unwrap().loaded, 2);
        let crate::keyspace::OwnedValue::List(l) = b.dbs[0].get(b"list").unwrap().value().to_owned() else { panic!() };
        assert_eq!(l.iter().map(|v| v.to_bytes()).collect::<Vec<_>>(), [b"7".to_vec()]);
    }

    /// corrupt_empty_keys.rdb: nine empty collections of every encoding,
    /// each skipped (Redis loads the file with no keys).
    #[test]
    fn empty_keys_are_skipped() {
        let image = hex("524544495330303130fa0972656469732d7665720b3235352e3235352e323535fa0a72656469732d62697473c040fa056374696d65c27a181561fa08757365642d6d656dc280311000fa0c616f662d707265616d626c65c000fe00fb0900020373657400040468617368000a0c6c6973745f7a69706c6973740b0b0000000a0000000000ff05047a73657400110d7a7365745f6c6973747061636b07070000000000ff100c686173685f7a69706c69737407070000000000ff0e0e6c6973745f717569636b6c697374000c0c7a7365745f7a69706c6973740b0b0000000a0000000000ff0e1c6c6973745f717569636b6c6973745f656d7074795f7a69706c697374010b0b0000000a0000000000fffff0f506ddc66e6183");
        let mut b = dbs();
        assert_eq!(load(&image, &mut b, &mut Vec::new(), &limits(), 1).unwrap().loaded, 0);
        assert!(b.dbs[0].is_empty());
    }

    #[test]
    fn a_corrupt_value_names_its_key() {
        // list-quicklist.rdb with the ziplist's entry count changed to 2.
        let mut image = hex("524544495330303038fe00fb02000e046c697374010d0d0000000a000000010000f8ff000178c007ff0000000000000000");
        let at = image.windows(4).position(|w| w == [0x0a, 0, 0, 0]).unwrap() + 4;
        image[at] = 2;
        let err = load(&image, &mut dbs(), &mut Vec::new(), &limits(), 1).unwrap_err();
        let LoadError::Value { key, type_byte: 14, error: RdbError::BadZiplist(_, _), .. } = &err else { panic!("{err:?}") };
        assert_eq!(key, b"list");
        let report = err.report();
        assert!(report[0].contains("Ziplist integrity check failed"), "{report:?}");
        assert_eq!(report.last().unwrap(), "Terminating server after rdb file reading failure.");
    }

    #[test]
    fn round_trip_keeps_keys_expiry_and_types() {
        let mut a = dbs();
        a.set(0, b"s", NewValue::Str(b"hello", StrEncoding::Embstr), None);
        a.set(3, b"n", NewValue::Int(42), Some(i64::MAX / 2));
        let mut set = crate::set::Set::for_member(b"1");
        set.insert(b"1", 512);
        set.insert(b"x", 512);
        a.set_owned(0, b"set", crate::keyspace::OwnedValue::Set(set), None);
        let image = serialize(&a, &[b"#!lua name=lib\nredis.register_function('f', function() end)"], &AuxInfo { ctime_secs: 0, used_mem: 0, aof_base: false, repl: None }, true, true);
        let mut b = dbs();
        let mut functions = Vec::new();
        assert_eq!(load(&image, &mut b, &mut functions, &limits(), 1).unwrap(), LoadCounts { loaded: 3, expired: 0, repl: None });
        assert_eq!(functions.len(), 1);
        assert_eq!(b.dbs[3].get(b"n").unwrap().expire_at(), Some(i64::MAX / 2));
        assert_eq!(b.dbs[0].get(b"set").unwrap().value().to_owned(), a.dbs[0].get(b"set").unwrap().value().to_owned());
        // Every truncation is refused.
        for cut in 0..image.len() {
            assert!(load(&image[..cut], &mut dbs(), &mut Vec::new(), &limits(), 1).is_err(), "cut at {cut}");
        }
        let mut bad = image.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(load(&bad, &mut dbs(), &mut Vec::new(), &limits(), 1), Err(LoadError::Checksum { .. })));
    }
}
