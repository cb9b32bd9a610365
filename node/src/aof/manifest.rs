//! The multi-part AOF's manifest (Redis 7.0's `appendonly.aof.manifest`):
//! one line per file, the base first, then history files awaiting deletion,
//! then the incremental files in load order:
//!
//! ```text
//! file appendonly.aof.1.base.rdb seq 1 type b
//! file appendonly.aof.1.incr.aof seq 1 type i
//! ```
//!
//! Read strictly (a damaged manifest stops the start, as in Redis, since
//! loading the wrong files would serve wrong data); written to a temporary
//! file, fsynced and renamed, so a crash leaves the old manifest or the new.

use std::path::Path;

use crate::config::syntax::{needs_repr, repr, split_args};

/// Longest manifest line Redis reads (MANIFEST_MAX_LINE).
const MAX_LINE: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: i64,
    pub kind: FileType,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub history: Vec<AofFile>,
    pub incr: Vec<AofFile>,
    pub base_seq: i64,
    pub incr_seq: i64,
}

/// Why a manifest was refused, with the line it was refused at.
#[derive(Debug, thiserror::Error)]
#[error("{reason}{}", line.as_ref().map(|(n, l)| format!(" (line {n}: '{l}')")).unwrap_or_default())]
pub struct ManifestError {
    pub reason: &'static str,
    pub line: Option<(usize, String)>,
}

impl Manifest {
    /// Parse a manifest's bytes (aofLoadManifestFromFile).
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut max_incr_seq = 0;
        let mut lines = 0;
        let mut rest = text;
        while !rest.is_empty() {
            lines += 1;
            let (raw, complete) = match rest.iter().position(|&b| b == b'\n') {
                Some(n) => (&rest[..=n], true),
                None => (rest, false),
            };
            rest = &rest[raw.len()..];
            let err = |reason| ManifestError { reason, line: Some((lines, String::from_utf8_lossy(raw).trim().to_string())) };
            if raw.first() == Some(&b'#') {
                continue;
            }
            if raw.len() > MAX_LINE || !complete {
                return Err(err("The AOF manifest file contains too long line"));
            }
            let line = trim(raw);
            if line.is_empty() {
                return Err(err("Invalid AOF manifest file format"));
            }
            let words = split_args(line).filter(|w| w.len() >= 6 && w.len() % 2 == 0).ok_or_else(|| err("Invalid AOF manifest file format"))?;
            let (mut name, mut seq, mut kind) = (None, 0i64, None);
            for pair in words.chunks(2) {
                let key = &pair[0];
                if key.eq_ignore_ascii_case(b"file") {
                    let n = String::from_utf8(pair[1].clone()).map_err(|_| err("Invalid AOF manifest file format"))?;
                    if n.is_empty() || n.contains('/') {
                        return Err(err("File can't be a path, just a filename"));
                    }
                    name = Some(n);
                } else if key.eq_ignore_ascii_case(b"seq") {
                    seq = leading_i64(&pair[1]);
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind = pair[1].first().copied();
                }
                // Other keys are skipped for forward compatibility.
            }
            let (Some(name), Some(kind)) = (name, kind) else {
                return Err(err("Invalid AOF manifest file format"));
            };
            if seq == 0 {
                return Err(err("Invalid AOF manifest file format"));
            }
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err(err("Found duplicate base file information"));
                    }
                    m.base_seq = seq;
                    m.base = Some(AofFile { name, seq, kind: FileType::Base });
                }
                b'h' => m.history.push(AofFile { name, seq, kind: FileType::History }),
                b'i' => {
                    if seq <= max_incr_seq {
                        return Err(err("Found a non-monotonic sequence number"));
                    }
                    max_incr_seq = seq;
                    m.incr_seq = seq;
                    m.incr.push(AofFile { name, seq, kind: FileType::Incr });
                }
                _ => return Err(err("Unknown AOF file type")),
            }
        }
        if lines == 0 {
            return Err(ManifestError { reason: "Found an empty AOF manifest", line: None });
        }
        Ok(m)
    }

    /// The manifest's text (getAofManifestAsString).
    pub fn format(&self) -> String {
        let mut s = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incr) {
            let name = if needs_repr(f.name.as_bytes()) { repr(f.name.as_bytes()) } else { f.name.clone() };
            s.push_str(&format!("file {name} seq {} type {}\n", f.seq, f.kind.letter()));
        }
        s
    }

    /// Base and incremental files, in load order.
    pub fn load_order(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(&self.incr)
    }

    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.incr.is_empty()
    }

    /// Make a new base the current one; the old base becomes history
    /// (getNewBaseFileNameAndMarkPreAsHistory).
    pub fn new_base(&mut self, filename: &str, rdb: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let name = format!("{filename}.{}.base.{}", self.base_seq, if rdb { "rdb" } else { "aof" });
        self.base = Some(AofFile { name: name.clone(), seq: self.base_seq, kind: FileType::Base });
        name
    }

    /// Append a new incremental file (getNewIncrAofName).
    pub fn new_incr(&mut self, filename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{filename}.{}.incr.aof", self.incr_seq);
        self.incr.push(AofFile { name: name.clone(), seq: self.incr_seq, kind: FileType::Incr });
        name
    }

    /// Every incremental file becomes history: a rewrite's base holds what
    /// they hold (markRewrittenIncrAofAsHistory).
    pub fn retire_incr(&mut self) {
        for mut f in self.incr.drain(..).rev() {
            f.kind = FileType::History;
            self.history.insert(0, f);
        }
    }

    /// The incremental files older than sequence `seq` (all of them for
    /// None) become history: a background rewrite's base holds what they
    /// hold, and the file opened when it began holds the rest.
    pub fn retire_incr_before(&mut self, seq: Option<i64>) {
        let keep = self.incr.iter().position(|f| seq.is_some_and(|s| f.seq >= s)).unwrap_or(self.incr.len());
        for mut f in self.incr.drain(..keep).rev() {
            f.kind = FileType::History;
            self.history.insert(0, f);
        }
    }

    /// Write the manifest into `dir` as `name` through a temporary file.
    pub fn persist(&self, dir: &Path, name: &str) -> std::io::Result<()> {
        crate::rdb::file::write_atomically(&dir.join(name), self.format().as_bytes())?;
        // The directory entry of the rename (and of new files) must reach
        // the disk too.
        std::fs::File::open(dir)?.sync_all()
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let is_blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|b| !is_blank(b)).unwrap_or(line.len());
    let end = line.iter().rposition(|b| !is_blank(b)).map_or(start, |e| e + 1);
    &line[start..end]
}

/// `atoll`: the leading decimal digits, 0 when there are none.
fn leading_i64(s: &[u8]) -> i64 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    if neg {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_redis_manifests() {
        let text = b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.incr.len(), 2);
        assert_eq!((m.base_seq, m.incr_seq), (1, 2));
        assert_eq!(m.format().as_bytes(), text);
        // Comments are skipped; extra keys are kept for compatibility.
        let m2 = Manifest::parse(b"# hi\nfile a seq 3 type i newkey x\n").unwrap();
        assert_eq!(m2.incr[0].seq, 3);
    }

    #[test]
    fn refuses_damaged_manifests() {
        for bad in [
            &b""[..],
            b"\n",
            b"file a seq 1\n",
            b"file a seq 1 type b\nfile b seq 2 type b\n",
            b"file a seq 2 type i\nfile b seq 1 type i\n",
            b"file a seq 1 type x\n",
            b"file ../a seq 1 type b\n",
            b"file a seq 0 type b\n",
            b"file a seq 1 type b",
        ] {
            assert!(Manifest::parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let long = format!("file {} seq 1 type b\n", "a".repeat(2000));
        assert!(Manifest::parse(long.as_bytes()).is_err());
    }

    #[test]
    fn rewrite_moves_files_to_history() {
        let mut m = Manifest::default();
        m.new_base("x.aof", true);
        m.new_incr("x.aof");
        m.new_incr("x.aof");
        // As a rewrite does it: the new base first, then the old incrs.
        let base = m.new_base("x.aof", false);
        m.retire_incr();
        assert_eq!(base, "x.aof.2.base.aof");
        m.new_incr("x.aof");
        assert_eq!(
            m.format(),
            "file x.aof.2.base.aof seq 2 type b\nfile x.aof.1.incr.aof seq 1 type h\nfile x.aof.2.incr.aof seq 2 type h\nfile x.aof.1.base.rdb seq 1 type h\nfile x.aof.3.incr.aof seq 3 type i\n"
        );
        let names = |m: &Manifest| m.format().replace(' ', "_");
        let m2 = Manifest::parse(m.format().as_bytes()).unwrap();
        assert_eq!(names(&m2), names(&m));
        // A name with a space is quoted and read back unchanged.
        let mut q = Manifest::default();
        q.new_base("my file", true);
        assert_eq!(Manifest::parse(q.format().as_bytes()).unwrap(), q);
    }
}
