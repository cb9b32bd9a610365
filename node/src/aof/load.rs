//! Loading the AOF files (loadAppendOnlyFiles): the base, which may be an
//! RDB image, then each incremental file, command by command, run through
//! a client of their own as Redis's fake AOF client runs them.
//!
//! Files are read in chunks, so memory grows with the longest command, not
//! with the file (an RDB base is read whole, as RDB files are). A file that
//! ends inside a command or a MULTI is truncated at the last whole command
//! when it is the last file and `aof-load-truncated` is on; anything else
//! wrong stops the load with the file and offset named.

use std::io::{Read, Seek};

use corvid_proto::resp::{Limits, Parsed, RequestParser};

use super::manifest::Manifest;
use super::Paths;
use crate::client::{Client, ClientId};
use crate::server::Server;

/// How a load ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No AOF files at all (AOF_NOT_EXIST).
    NotExist,
    /// Files exist but hold nothing (AOF_EMPTY).
    Empty,
    Loaded,
    /// The last file ended mid-command and was cut back (AOF_TRUNCATED).
    Truncated,
}

/// Why a load failed; the message names the file (and offset).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

/// Bytes read from an incremental file at a time.
const CHUNK: usize = 1 << 20;

/// Read the manifest from `appenddirname`, if there is one
/// (aofLoadManifestFromDisk); a missing directory or manifest is an empty
/// manifest.
pub fn read_manifest(paths: &Paths) -> Result<Manifest, LoadError> {
    let path = paths.file(&paths.manifest_name());
    match std::fs::read(&path) {
        Ok(text) => Manifest::parse(&text).map_err(|e| LoadError(format!("Bad AOF manifest {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(LoadError(format!("Fatal error: can't open the AOF manifest file {} for reading: {e}", path.display()))),
    }
}

/// An `appendfilename` file in the working directory comes from a Redis
/// before 7.0: move it into the directory as the base
/// (aofUpgradePrepare).
fn upgrade_old_style(srv: &mut Server, paths: &Paths) -> Result<(), LoadError> {
    let old = std::path::Path::new(&paths.filename);
    if !old.is_file() {
        return Ok(());
    }
    let m = &srv.aof.manifest;
    let upgrade = !paths.dir.is_dir()
        || m.is_empty()
        || (m.incr.is_empty()
            && m.base.as_ref().is_some_and(|b| b.name == paths.filename)
            && !paths.file(&paths.filename).exists());
    if !upgrade {
        return Ok(());
    }
    std::fs::create_dir_all(&paths.dir).map_err(|e| LoadError(format!("Can't open or create append-only dir {}: {e}", paths.dir.display())))?;
    let m = Manifest {
        base: Some(super::manifest::AofFile { name: paths.filename.clone(), seq: 1, kind: super::manifest::FileType::Base }),
        base_seq: 1,
        ..Default::default()
    };
    m.persist(&paths.dir, &paths.manifest_name()).map_err(|e| LoadError(format!("Can't write the AOF manifest: {e}")))?;
    std::fs::rename(old, paths.file(&paths.filename))
        .map_err(|e| LoadError(format!("Error trying to move the old AOF file {} into dir {}: {e}", paths.filename, paths.dir.display())))?;
    srv.aof.manifest = m;
    tracing::info!("Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).", paths.filename, paths.dir.display());
    Ok(())
}

/// Load every file the manifest names, base first.
pub fn load_all(srv: &mut Server) -> Result<Outcome, LoadError> {
    let paths = Paths::of(&srv.config);
    upgrade_old_style(srv, &paths)?;
    let manifest = srv.aof.manifest.clone();
    if manifest.is_empty() {
        return Ok(Outcome::NotExist);
    }
    let mut total = 0u64;
    for f in manifest.load_order() {
        match std::fs::metadata(paths.file(&f.name)) {
            Ok(m) => total += m.len(),
            Err(e) => return Err(LoadError(format!("The append log file {} doesn't exist or can't be read: {e}", f.name))),
        }
    }
    if total == 0 {
        return Ok(Outcome::Empty);
    }
    let id = loading_client(srv);
    srv.db.loading = true;
    let count = manifest.load_order().count();
    let mut outcome = Outcome::Loaded;
    let mut result = Ok(());
    for (i, f) in manifest.load_order().enumerate() {
        let started = std::time::Instant::now();
        let last = i + 1 == count;
        match load_file(srv, id, &paths, &f.name) {
            Ok(FileOutcome::Truncated) if !last => {
                result = Err(LoadError(format!("Fatal error: the truncated file {} is not the last file", f.name)));
                break;
            }
            Ok(FileOutcome::Truncated) => outcome = Outcome::Truncated,
            Ok(_) => {}
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        let kind = if manifest.base.as_ref() == Some(f) { "base" } else { "incr" };
        tracing::info!("DB loaded from {kind} file {}: {:.3} seconds", f.name, started.elapsed().as_secs_f64());
    }
    srv.clients.map.remove(&id);
    srv.db.loading = false;
    result?;
    srv.aof.current_size = total;
    srv.aof.base_size = manifest.base.as_ref().and_then(|b| std::fs::metadata(paths.file(&b.name)).ok()).map_or(0, |m| m.len());
    Ok(outcome)
}

/// The client AOF commands run as (createAOFClient): no connection,
/// authenticated, database 0.
fn loading_client(srv: &mut Server) -> ClientId {
    let id = srv.clients.next_id();
    let none: std::net::SocketAddr = ([0, 0, 0, 0], 0).into();
    let mut c = Client::new(id, none, none, -1, crate::clock::now_ms(), true);
    // The file is replayed whatever the ACLs say.
    c.user = crate::acl::SUPERUSER;
    srv.clients.map.insert(id, c);
    id
}

enum FileOutcome {
    Empty,
    Loaded,
    Truncated,
}

/// Load one file (loadSingleAppendOnlyFile).
fn load_file(srv: &mut Server, client: ClientId, paths: &Paths, name: &str) -> Result<FileOutcome, LoadError> {
    let path = paths.file(name);
    let mut file = std::fs::File::open(&path).map_err(|e| LoadError(format!("Fatal error: can't open the append log file {name} for reading: {e}")))?;
    let len = file.metadata().map_err(|e| LoadError(format!("Can't stat {name}: {e}")))?.len();
    if len == 0 {
        return Ok(FileOutcome::Empty);
    }
    let mut head = [0u8; 5];
    let is_rdb = file.read_exact(&mut head).is_ok() && &head == b"REDIS";
    let mut start = 0u64;
    let mut tail = Vec::new();
    if !is_rdb {
        file.seek(std::io::SeekFrom::Start(0)).map_err(|e| LoadError(format!("Unrecoverable error reading the append only file {name}: {e}")))?;
    } else {
        // An RDB base, or an old-style AOF with an RDB preamble and
        // commands after it.
        let mut image = head.to_vec();
        file.read_to_end(&mut image).map_err(|e| LoadError(format!("Unrecoverable error reading the append only file {name}: {e}")))?;
        let limits = crate::rdb::object::EncodingLimits::from_config(&srv.config);
        // Keys with a TTL in the past are kept and expire as usual, as
        // Redis loads a preamble.
        let now = crate::clock::now_ms();
        let mut functions = Vec::new();
        let used = crate::rdb::file::load_prefix(&image, &mut srv.db, &mut functions, &limits, now)
            .map_err(|e| e.to_string())
            .and_then(|used| srv.scripting.install_libraries(&functions, false).map(|_| used))
            .map_err(|e| LoadError(format!("Error reading the RDB base file {name}, AOF loading aborted: {e}")))?;
        start = used as u64;
        tail = image.split_off(used);
    }
    let mut reader = Commands { file, buf: tail, offset: start, eof: false, name };
    reader.run(srv, client, &path)
}

/// The command part of a file, read chunk by chunk.
struct Commands<'a> {
    file: std::fs::File,
    /// Unconsumed bytes; `offset` is where `buf[0]` sits in the file.
    buf: Vec<u8>,
    offset: u64,
    eof: bool,
    name: &'a str,
}

impl Commands<'_> {
    /// Read another chunk; false at end of file.
    fn fill(&mut self) -> Result<bool, LoadError> {
        if self.eof {
            return Ok(false);
        }
        let have = self.buf.len();
        self.buf.resize(have + CHUNK, 0);
        let n = self.file.read(&mut self.buf[have..]).map_err(|e| LoadError(format!("Unrecoverable error reading the append only file {}: {e}", self.name)))?;
        self.buf.truncate(have + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn run(&mut self, srv: &mut Server, client: ClientId, path: &std::path::Path) -> Result<FileOutcome, LoadError> {
        let limits = Limits { max_bulk_len: i64::MAX, auth_required: false };
        let mut parser = RequestParser::new();
        // File offset after the last whole command (and before an open MULTI).
        let mut valid_up_to = self.offset;
        let mut before_multi = None;
        // An open MULTI's commands, RESP-encoded, run at its EXEC.
        let mut queued: Vec<u8> = Vec::new();
        let mut scratch = corvid_proto::resp::Reply::new(false);
        loop {
            let cur = parser.parsed_len();
            if cur == self.buf.len() || self.buf[cur] == b'#' {
                // Drop what was run; an annotation line is skipped whole.
                parser.consume(cur);
                self.buf.drain(..cur);
                self.offset += cur as u64;
                if self.buf.first() == Some(&b'#') {
                    match self.buf.iter().position(|&b| b == b'\n') {
                        Some(n) => {
                            self.buf.drain(..=n);
                            self.offset += n as u64 + 1;
                            if before_multi.is_none() {
                                valid_up_to = self.offset;
                            }
                            continue;
                        }
                        None if self.fill()? => continue,
                        None => break,
                    }
                }
                if self.buf.is_empty() && !self.fill()? {
                    break;
                }
                continue;
            }
            if self.buf[cur] != b'*' {
                return Err(self.format_error(cur));
            }
            let parsed = parser.parse(&self.buf, &limits).map_err(|_| self.format_error(cur))?;
            let cmd = match parsed {
                Parsed::Command(c) if c.argc() > 0 => c,
                Parsed::Command(_) => return Err(self.format_error(cur)),
                Parsed::Incomplete { .. } => {
                    let consumed = parser.parsed_len();
                    parser.consume(consumed);
                    self.buf.drain(..consumed);
                    self.offset += consumed as u64;
                    if self.fill()? {
                        continue;
                    }
                    break;
                }
            };
            let end = parser.parsed_len();
            let args = parser.args(&self.buf, cmd);
            let name = args.get(0);
            if before_multi.is_some() && !name.eq_ignore_ascii_case(b"exec") {
                queued.extend_from_slice(&self.buf[cur..end]);
            } else if name.eq_ignore_ascii_case(b"multi") {
                before_multi = Some(valid_up_to);
            } else if name.eq_ignore_ascii_case(b"exec") && before_multi.is_some() {
                before_multi = None;
                run_queued(srv, client, &queued, &mut scratch).map_err(|name| self.unknown(&name))?;
                queued.clear();
            } else {
                crate::dispatch::execute_loaded(srv, client, &args, &mut scratch).map_err(|_| self.unknown(name))?;
            }
            scratch.buf.clear();
            if before_multi.is_none() {
                valid_up_to = self.offset + end as u64;
            }
        }
        // End of file: anything left over is a command cut short, or an
        // open MULTI (reverted as a short read, as Redis does).
        let cut_short = !self.buf.is_empty() || before_multi.is_some();
        if !cut_short {
            return Ok(FileOutcome::Loaded);
        }
        if before_multi.is_some() {
            tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {}", self.name);
        }
        if !srv.config.get_bool("aof-load-truncated") {
            return Err(LoadError(format!(
                "Unexpected end of file reading the append only file {}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                self.name
            )));
        }
        tracing::warn!("!!! Warning: short read while loading the AOF file {}!!!", self.name);
        tracing::warn!("!!! Truncating the AOF {} at offset {valid_up_to} !!!", self.name);
        let f = std::fs::OpenOptions::new().write(true).open(path).map_err(|e| LoadError(format!("Error truncating the AOF file {}: {e}", self.name)))?;
        f.set_len(valid_up_to).map_err(|e| LoadError(format!("Error truncating the AOF file {}: {e}", self.name)))?;
        tracing::warn!("AOF {} loaded anyway because aof-load-truncated is enabled", self.name);
        Ok(FileOutcome::Truncated)
    }

    fn format_error(&self, at: usize) -> LoadError {
        LoadError(format!(
            "Bad file format reading the append only file {} at offset {}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>",
            self.name,
            self.offset + at as u64
        ))
    }

    /// A command (or subcommand) the table does not have; Redis's text.
    fn unknown(&self, name: &[u8]) -> LoadError {
        LoadError(format!("Unknown command '{}' reading the append only file {}", String::from_utf8_lossy(name), self.name))
    }
}

/// Run a transaction's commands, kept as RESP, back to back; the name of
/// a command the table does not have stops it.
fn run_queued(srv: &mut Server, client: ClientId, queued: &[u8], out: &mut corvid_proto::resp::Reply) -> Result<(), Vec<u8>> {
    let limits = Limits { max_bulk_len: i64::MAX, auth_required: false };
    let mut parser = RequestParser::new();
    while let Ok(Parsed::Command(cmd)) = parser.parse(queued, &limits) {
        let args = parser.args(queued, cmd);
        crate::dispatch::execute_loaded(srv, client, &args, out).map_err(|_| args.get(0).to_vec())?;
        out.buf.clear();
    }
    Ok(())
}
