//! HyperLogLog in Redis 7.0's exact byte format (hyperloglog.c), kept in a
//! plain string value so that GET/SET, DUMP/RESTORE, RDB files and the
//! replication stream carry it unchanged between Corvid and Redis.
//!
//! # Format
//! A 16-byte header, `"HYLL"`, one encoding byte (0 dense, 1 sparse), three
//! unused bytes and the cached cardinality as a little-endian u64 whose top
//! bit marks it stale; then the 16384 registers (P = 14):
//! - dense: 6 bits each, packed from the least significant bit of each byte
//!   upwards, 12288 bytes;
//! - sparse: run-length opcodes, `00xxxxxx` ZERO (1..64 zero registers),
//!   `01xxxxxx yyyyyyyy` XZERO (1..16384 zero registers), `1vvvvvxx` VAL
//!   (1..4 registers holding 1..32).
//!
//! An element is hashed with MurmurHash64A (seed 0xadc83b19): the low 14
//! bits pick the register, the run of zeros above them (plus one) is the
//! value the register keeps the maximum of. The count is Ertl's improved
//! raw estimator over the register histogram (7.0's hllSigma/hllTau).
//!
//! A sparse value is untrusted input: anyone can SETRANGE it. Every reader
//! here stays inside the buffer and reports [`HllError::Corrupted`] where
//! Redis does: opcodes that do not cover exactly the 16384 registers, any
//! run reaching past the last one (Redis 7.0.15 as Debian ships it, with the
//! CVE-2025-32023 fix; the upstream tarball only checked VAL runs). Where
//! Redis reads the byte after the string (its sds always ends in a NUL), a
//! zero is read, so a damaged value evolves as in Redis.

use std::fmt;

/// Bytes before the registers.
pub const HEADER_LEN: usize = 16;
/// log2 of the register count.
const P: u32 = 14;
pub const REGISTERS: usize = 1 << P;
/// Hash bits left for the zero run once the index is taken.
const Q: usize = 64 - P as usize;
const BITS: usize = 6;
const REGISTER_MAX: u32 = (1 << BITS) - 1;
/// A dense value's exact length.
pub const DENSE_LEN: usize = HEADER_LEN + (REGISTERS * BITS).div_ceil(8);

const DENSE: u8 = 0;
const SPARSE: u8 = 1;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;

const HASH_SEED: u64 = 0xadc83b19;
/// 0.5 / ln 2, the estimator's constant for m → ∞.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// How a valid value stores its registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    /// The name PFDEBUG ENCODING replies with.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// Why a string cannot be used as a HyperLogLog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HllError {
    /// The header is wrong: not an HLL at all (a WRONGTYPE error).
    NotHll,
    /// The header is right but the registers are damaged.
    Corrupted,
}

impl fmt::Display for HllError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HllError::NotHll => "WRONGTYPE Key is not a valid HyperLogLog string value.",
            HllError::Corrupted => "INVALIDOBJ Corrupted HLL object detected",
        })
    }
}

/// Check a string's header (isHLLObjectOrReply): the magic, a known
/// encoding, and the exact length for dense.
pub fn check(s: &[u8]) -> Result<Encoding, HllError> {
    if s.len() < HEADER_LEN || &s[..4] != b"HYLL" {
        return Err(HllError::NotHll);
    }
    match s[4] {
        DENSE if s.len() == DENSE_LEN => Ok(Encoding::Dense),
        SPARSE => Ok(Encoding::Sparse),
        _ => Err(HllError::NotHll),
    }
}

/// An empty HyperLogLog: sparse, every register in one XZERO
/// (createHLLObject). Its cached cardinality, 0, is valid.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_LEN + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.resize(HEADER_LEN, 0);
    let mut all = Split::default();
    all.zeros(XZERO_MAX_LEN);
    v.extend_from_slice(all.as_slice());
    v
}

/// The cached cardinality, unless a change made it stale.
pub fn cached_count(s: &[u8]) -> Option<u64> {
    (s[15] & 0x80 == 0).then(|| u64::from_le_bytes(s[8..16].try_into().expect("8 header bytes")))
}

pub fn set_cached_count(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// MurmurHash2, 64-bit version, reading words little-endian whatever the
/// host (Redis's endian-neutral variant).
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the value it offers there: the
/// length of the `0…01` run above the index bits (hllPatLen), 1..=Q+1.
pub fn register_of(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    // The sentinel bit bounds the run at Q zeros.
    let run = (hash >> P) | (1u64 << Q);
    (index, run.trailing_zeros() as u8 + 1)
}

// ---- dense registers ---------------------------------------------------------------

/// Register `i` of packed 6-bit registers. The last register's second
/// byte lies past the end: it reads as zero, as Redis reads the NUL there.
#[inline]
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u32::from(regs[byte]);
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX) as u8
}

#[inline]
fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u32::from(val);
    regs[byte] &= !(REGISTER_MAX << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !(REGISTER_MAX >> (8 - fb)) as u8;
        *next |= (v >> (8 - fb)) as u8;
    }
}

/// Raise dense register `i` to `count`; true if it grew (hllDenseSet).
#[inline]
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

fn dense_histogram(regs: &[u8], hist: &mut [u64; 64]) {
    // Four registers in every three bytes.
    for c in regs[..REGISTERS * BITS / 8].chunks_exact(3) {
        let (b0, b1, b2) = (u32::from(c[0]), u32::from(c[1]), u32::from(c[2]));
        hist[(b0 & 63) as usize] += 1;
        hist[((b0 >> 6 | b1 << 2) & 63) as usize] += 1;
        hist[((b1 >> 4 | b2 << 4) & 63) as usize] += 1;
        hist[(b2 >> 2) as usize] += 1;
    }
}

// ---- sparse opcodes ----------------------------------------------------------------

/// One sparse opcode as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `len` zero registers, one byte.
    Zero(usize),
    /// `len` zero registers, two bytes.
    XZero(usize),
    /// `len` registers holding `value`, one byte.
    Val(u8, usize),
}

impl Op {
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    fn bytes(self) -> usize {
        if matches!(self, Op::XZero(_)) { 2 } else { 1 }
    }
}

/// The opcode at `p` (< s.len()). An XZERO cut short by the end of the
/// string takes a zero second byte.
#[inline]
fn op_at(s: &[u8], p: usize) -> Op {
    let b = s[p];
    match b & 0xc0 {
        0x00 => Op::Zero(usize::from(b & 0x3f) + 1),
        0x40 => Op::XZero(((usize::from(b & 0x3f) << 8) | usize::from(s.get(p + 1).copied().unwrap_or(0))) + 1),
        _ => Op::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 0x3) + 1),
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len as u8 - 1)
}

/// The opcodes replacing a split run: at most XZERO, VAL, XZERO.
#[derive(Default)]
struct Split {
    bytes: [u8; 5],
    len: usize,
}

impl Split {
    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    fn zeros(&mut self, len: usize) {
        if len > ZERO_MAX_LEN {
            let l = len - 1;
            self.push(0x40 | (l >> 8) as u8);
            self.push(l as u8);
        } else {
            self.push(len as u8 - 1);
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Register `index` of a sparse value raised to `count`, in place when the
/// opcodes allow it, else by promoting to dense (hllSparseSet): when the
/// value needs more than 32, or when the value would grow past
/// `max_bytes`. True if the register grew.
fn sparse_raise(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, HllError> {
    if count > VAL_MAX_VALUE {
        return promote_and_raise(s, index, count);
    }
    // Find the opcode covering `index`.
    let end = s.len();
    let (mut p, mut first, mut prev) = (HEADER_LEN, 0usize, None);
    let mut op = None;
    while p < end {
        let o = op_at(s, p);
        if index < first + o.span() {
            op = Some(o);
            break;
        }
        prev = Some(p);
        p += o.bytes();
        first += o.span();
    }
    // The opcodes end before `index`.
    let Some(op) = op else { return Err(HllError::Corrupted) };
    let has_next = p + op.bytes() < end;

    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => s[p] = val_byte(count, 1),
        _ => {
            // Split the run around `index`.
            let last = first + op.span() - 1;
            let mut split = Split::default();
            match op {
                Op::Val(cur, _) => {
                    if index != first {
                        split.push(val_byte(cur, index - first));
                    }
                    split.push(val_byte(count, 1));
                    if index != last {
                        split.push(val_byte(cur, last - index));
                    }
                }
                Op::Zero(_) | Op::XZero(_) => {
                    if index != first {
                        split.zeros(index - first);
                    }
                    split.push(val_byte(count, 1));
                    if index != last {
                        split.zeros(last - index);
                    }
                }
            }
            let seq = split.as_slice();
            let delta = seq.len() as isize - op.bytes() as isize;
            if delta > 0 && end + delta as usize > max_bytes {
                return promote_and_raise(s, index, count);
            }
            if has_next {
                s.splice(p..p + op.bytes(), seq.iter().copied());
            } else {
                // The last opcode: the new length is what Redis's length
                // arithmetic gives, also for an XZERO cut short.
                s.truncate(p);
                s.extend_from_slice(seq);
                s.truncate(end.saturating_add_signed(delta));
            }
        }
    }

    // Merge equal VAL neighbours around the change: up to five opcodes
    // from the one before it.
    let mut p = prev.unwrap_or(HEADER_LEN);
    let mut budget = 5;
    while p < s.len() && budget > 0 {
        budget -= 1;
        match op_at(s, p) {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, l1) => {
                if p + 1 < s.len() {
                    if let Op::Val(v2, l2) = op_at(s, p + 1) {
                        if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                            s[p + 1] = val_byte(v1, l1 + l2);
                            s.remove(p);
                            // Try the merged run against its right neighbour.
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
    invalidate_cache(s);
    Ok(true)
}

fn promote_and_raise(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, HllError> {
    to_dense(s)?;
    // The register was below `count`, so it grows: the caller counts a change.
    Ok(dense_raise(&mut s[HEADER_LEN..], index, count))
}

/// Rewrite a sparse value as dense, header (cached count included) kept
/// (hllSparseToDense); a dense one is left alone. Corrupted when the
/// opcodes do not cover exactly the 16384 registers.
pub fn to_dense(s: &mut Vec<u8>) -> Result<(), HllError> {
    if s[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&s[..HEADER_LEN]);
    dense[4] = DENSE;
    let regs = &mut dense[HEADER_LEN..];
    let (mut idx, mut p) = (0usize, HEADER_LEN);
    while p < s.len() {
        let op = op_at(s, p);
        if idx + op.span() > REGISTERS {
            return Err(HllError::Corrupted);
        }
        if let Op::Val(v, n) = op {
            for i in idx..idx + n {
                dense_put(regs, i, v);
            }
        }
        idx += op.span();
        p += op.bytes();
    }
    if idx != REGISTERS {
        return Err(HllError::Corrupted);
    }
    *s = dense;
    Ok(())
}

fn sparse_histogram(s: &[u8], hist: &mut [u64; 64]) -> Result<(), HllError> {
    let (mut idx, mut p) = (0usize, HEADER_LEN);
    while p < s.len() {
        let op = op_at(s, p);
        if idx + op.span() > REGISTERS {
            return Err(HllError::Corrupted);
        }
        let value = if let Op::Val(v, _) = op { usize::from(v) } else { 0 };
        hist[value] += op.span() as u64;
        idx += op.span();
        p += op.bytes();
    }
    if idx != REGISTERS {
        return Err(HllError::Corrupted);
    }
    Ok(())
}

// ---- the operations commands use ---------------------------------------------------

/// Add one element (hllAdd); true if a register grew. `s` passed [`check`].
pub fn add(s: &mut Vec<u8>, element: &[u8], max_bytes: usize) -> Result<bool, HllError> {
    let (index, count) = register_of(element);
    raise(s, index, count, max_bytes)
}

/// Raise register `index` to `count` in either encoding (PFADD's and
/// PFMERGE's write). The cached count goes stale on sparse changes only:
/// callers invalidate it once after a batch.
pub fn raise(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, HllError> {
    match s[4] {
        DENSE => Ok(dense_raise(&mut s[HEADER_LEN..], index, count)),
        SPARSE => sparse_raise(s, index, count, max_bytes),
        _ => Err(HllError::Corrupted),
    }
}

/// The estimated cardinality of a value that passed [`check`] (hllCount),
/// ignoring the cache.
pub fn count(s: &[u8]) -> Result<u64, HllError> {
    let mut hist = [0u64; 64];
    match s[4] {
        DENSE => dense_histogram(&s[HEADER_LEN..], &mut hist),
        SPARSE => sparse_histogram(s, &mut hist)?,
        _ => return Err(HllError::Corrupted),
    }
    Ok(estimate(&hist))
}

/// Registers as one byte each, for merging several values (PFCOUNT with
/// several keys, PFMERGE).
pub struct Registers(pub Box<[u8; REGISTERS]>);

impl Default for Registers {
    fn default() -> Self {
        Registers(Box::new([0; REGISTERS]))
    }
}

impl Registers {
    /// Keep the maximum of each register and `s`'s (hllMerge). `s` passed
    /// [`check`]; a damaged sparse value may leave some registers merged.
    pub fn merge(&mut self, s: &[u8]) -> Result<(), HllError> {
        let max = &mut self.0;
        if s[4] == DENSE {
            let regs = &s[HEADER_LEN..];
            for (i, m) in max.iter_mut().enumerate() {
                *m = (*m).max(dense_get(regs, i));
            }
            return Ok(());
        }
        let (mut i, mut p) = (0usize, HEADER_LEN);
        while p < s.len() {
            let op = op_at(s, p);
            if i + op.span() > REGISTERS {
                return Err(HllError::Corrupted);
            }
            if let Op::Val(v, n) = op {
                for m in &mut max[i..i + n] {
                    *m = (*m).max(v);
                }
            }
            i += op.span();
            p += op.bytes();
        }
        if i != REGISTERS {
            return Err(HllError::Corrupted);
        }
        Ok(())
    }

    pub fn count(&self) -> u64 {
        let mut hist = [0u64; 64];
        for &r in self.0.iter() {
            hist[usize::from(r)] += 1;
        }
        estimate(&hist)
    }
}

/// Ertl's improved raw estimator ("New cardinality estimation algorithms
/// for HyperLogLog sketches", arXiv:1702.01284) from the register
/// histogram, rounded half away from zero as Redis's llroundl does.
fn estimate(hist: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - hist[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += hist[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(hist[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z == before {
            return z / 3.0;
        }
    }
}

// ---- debugging (PFDEBUG) -----------------------------------------------------------

/// Every register of a dense value (PFDEBUG GETREG after conversion).
pub fn dense_registers(s: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let regs = &s[HEADER_LEN..];
    (0..REGISTERS).map(move |i| dense_get(regs, i))
}

/// The opcodes of a sparse value as PFDEBUG DECODE prints them:
/// `z:<len>`, `Z:<len>`, `v:<value>,<len>`, space-separated.
pub fn decode_sparse(s: &[u8]) -> String {
    let mut out = Vec::new();
    let mut p = HEADER_LEN;
    while p < s.len() {
        let op = op_at(s, p);
        out.push(match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        });
        p += op.bytes();
    }
    out.join(" ")
}

/// PFSELFTEST's checks, with `random` as the source of randomness:
/// packed registers read back what was written, and over ten million
/// distinct elements a dense and a sparse value agree with each other and
/// stay within six standard errors of the truth. The error is Redis's
/// TESTFAILED message.
pub fn self_test(max_bytes: usize, mut random: impl FnMut() -> u64) -> Result<(), String> {
    const CYCLES: usize = 1000;
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..4].copy_from_slice(b"HYLL");
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..CYCLES {
        let regs = &mut dense[HEADER_LEN..];
        for (i, e) in expected.iter_mut().enumerate() {
            *e = (random() & u64::from(REGISTER_MAX)) as u8;
            dense_put(regs, i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = dense_get(regs, i);
            if got != e {
                return Err(format!("TESTFAILED Register {i} should be {e} but is {got}"));
            }
        }
    }

    dense[HEADER_LEN..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = random();
    for j in 1..=10_000_000u64 {
        let element = (j ^ seed).to_le_bytes();
        let (index, run) = register_of(&element);
        dense_raise(&mut dense[HEADER_LEN..], index, run);
        raise(&mut sparse, index, run, max_bytes).map_err(|_| "TESTFAILED corrupted sparse value".to_string())?;
        if j != checkpoint {
            continue;
        }
        if j < (max_bytes / 2) as u64 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let estimated = count(&dense).unwrap_or(0);
        if count(&sparse).ok() != Some(estimated) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        // Ten elements may collide in one register often enough to be off by one.
        let max_err = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64).ceil() as u64 };
        let abs_err = checkpoint.abs_diff(estimated);
        if abs_err > max_err {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abs_err}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 3000;

    fn from_sparse_ops(ops: &[u8]) -> Vec<u8> {
        let mut v = new_sparse();
        v.truncate(HEADER_LEN);
        v.extend_from_slice(ops);
        v
    }

    #[test]
    fn elements_land_where_redis_puts_them() {
        // From PFADD + PFDEBUG DECODE on redis-server 7.0: the empty
        // element, short ones (tail bytes only) and one past a full word.
        assert_eq!(register_of(b"a"), (12711, 2));
        assert_eq!(register_of(b"foo"), (7348, 5));
        assert_eq!(register_of(b""), (5938, 2));
        assert_eq!(register_of(b"hello world!!"), (5226, 1));
        assert_eq!(murmur64a(b"", 0), 0);
    }

    #[test]
    fn empty_value_layout() {
        let v = new_sparse();
        assert_eq!(v.len(), 18);
        assert_eq!(&v[..5], b"HYLL\x01");
        assert_eq!(&v[16..], &[0x7f, 0xff]);
        assert_eq!(check(&v), Ok(Encoding::Sparse));
        assert_eq!(cached_count(&v), Some(0));
        assert_eq!(count(&v), Ok(0));
        assert_eq!(decode_sparse(&v), "Z:16384");
    }

    #[test]
    fn header_checks() {
        assert_eq!(check(b"HYLL"), Err(HllError::NotHll));
        let mut v = new_sparse();
        v[4] = 2;
        assert_eq!(check(&v), Err(HllError::NotHll));
        v[4] = DENSE;
        assert_eq!(check(&v), Err(HllError::NotHll), "dense needs its exact length");
        v[0] = b'h';
        assert_eq!(check(&v), Err(HllError::NotHll));
        let mut d = new_sparse();
        to_dense(&mut d).unwrap();
        assert_eq!(d.len(), DENSE_LEN);
        assert_eq!(check(&d), Ok(Encoding::Dense));
    }

    #[test]
    fn dense_registers_do_not_disturb_neighbours() {
        let mut regs = vec![0u8; DENSE_LEN - HEADER_LEN];
        for i in 0..REGISTERS {
            dense_put(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
        }
        dense_put(&mut regs, REGISTERS - 1, 63);
        dense_put(&mut regs, REGISTERS - 2, 0);
        assert_eq!(dense_get(&regs, REGISTERS - 1), 63);
        assert_eq!(dense_get(&regs, REGISTERS - 3), ((REGISTERS - 3) % 64) as u8);
    }

    #[test]
    fn sparse_split_and_merge() {
        let mut v = new_sparse();
        assert_eq!(sparse_raise(&mut v, 1000, 2, MAX), Ok(true));
        assert_eq!(decode_sparse(&v), "Z:1000 v:2,1 Z:15383");
        assert_eq!(sparse_raise(&mut v, 1000, 2, MAX), Ok(false));
        assert_eq!(sparse_raise(&mut v, 1001, 2, MAX), Ok(true));
        assert_eq!(decode_sparse(&v), "Z:1000 v:2,2 Z:15382");
        assert_eq!(sparse_raise(&mut v, 1003, 2, MAX), Ok(true));
        assert_eq!(decode_sparse(&v), "Z:1000 v:2,2 z:1 v:2,1 Z:15380");
        // Filling the gap merges three runs into one VAL of four.
        assert_eq!(sparse_raise(&mut v, 1002, 2, MAX), Ok(true));
        assert_eq!(decode_sparse(&v), "Z:1000 v:2,4 Z:15380");
        // Raising inside a VAL run splits it.
        assert_eq!(sparse_raise(&mut v, 1001, 5, MAX), Ok(true));
        assert_eq!(decode_sparse(&v), "Z:1000 v:2,1 v:5,1 v:2,2 Z:15380");
        assert_eq!(cached_count(&v), None, "a change makes the cache stale");
        // Short zero runs use ZERO, long ones XZERO.
        let mut w = new_sparse();
        sparse_raise(&mut w, 64, 1, MAX).unwrap();
        assert_eq!(decode_sparse(&w), "z:64 v:1,1 Z:16319");
        sparse_raise(&mut w, 0, 1, MAX).unwrap();
        assert_eq!(decode_sparse(&w), "v:1,1 z:63 v:1,1 Z:16319");
        sparse_raise(&mut w, REGISTERS - 1, 3, MAX).unwrap();
        assert_eq!(decode_sparse(&w), "v:1,1 z:63 v:1,1 Z:16318 v:3,1");
    }

    #[test]
    fn promotion_rules() {
        let mut v = new_sparse();
        assert_eq!(raise(&mut v, 5, 33, MAX), Ok(true), "33 does not fit a VAL");
        assert_eq!(check(&v), Ok(Encoding::Dense));
        assert_eq!(dense_registers(&v).nth(5), Some(33));
        // A value may not grow past max_bytes.
        let mut w = new_sparse();
        let mut i = 0;
        while w[4] == SPARSE {
            raise(&mut w, i, 1, 40).unwrap();
            i += 2;
        }
        assert!(i < 40, "promoted after a few opcodes");
        assert_eq!(dense_registers(&w).filter(|&r| r == 1).count(), i / 2);
    }

    #[test]
    fn dense_and_sparse_count_alike() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        to_dense(&mut dense).unwrap();
        for n in 0..3000u32 {
            let e = format!("element:{n}");
            let a = add(&mut sparse, e.as_bytes(), 100_000).unwrap();
            let b = add(&mut dense, e.as_bytes(), 100_000).unwrap();
            assert_eq!(a, b);
            if n % 97 == 0 {
                assert_eq!(count(&sparse), count(&dense));
            }
        }
        assert_eq!(sparse[4], SPARSE);
        let mut converted = sparse.clone();
        to_dense(&mut converted).unwrap();
        assert_eq!(&converted[HEADER_LEN..], &dense[HEADER_LEN..]);
        let estimate = count(&dense).unwrap();
        assert!(estimate.abs_diff(3000) < 100, "{estimate}");
        let mut merged = Registers::default();
        merged.merge(&sparse).unwrap();
        merged.merge(&dense).unwrap();
        assert_eq!(merged.count(), estimate);
    }

    #[test]
    fn corrupted_sparse_values_are_errors_not_panics() {
        // Too few registers covered.
        let short = from_sparse_ops(&[0x7f, 0xfe]);
        assert_eq!(count(&short), Err(HllError::Corrupted));
        let mut s = short.clone();
        assert_eq!(to_dense(&mut s), Err(HllError::Corrupted));
        assert_eq!(Registers::default().merge(&short), Err(HllError::Corrupted));
        let mut s = short.clone();
        assert_eq!(sparse_raise(&mut s, REGISTERS - 1, 1, MAX), Err(HllError::Corrupted));
        // Too many; an XZERO cut short; no opcodes at all.
        assert_eq!(count(&from_sparse_ops(&[0x7f, 0xff, 0x00])), Err(HllError::Corrupted));
        assert_eq!(count(&from_sparse_ops(&[0x7f])), Err(HllError::Corrupted));
        assert_eq!(count(&from_sparse_ops(&[])), Err(HllError::Corrupted));
        let mut cut = from_sparse_ops(&[0x00, 0x7f]);
        let _ = sparse_raise(&mut cut, 0, 3, MAX);
        let _ = sparse_raise(&mut cut, 100, 3, MAX);
        let mut empty = from_sparse_ops(&[]);
        assert_eq!(sparse_raise(&mut empty, 0, 1, MAX), Err(HllError::Corrupted));
        // A VAL run past the last register; any run after all of them (the
        // CVE-2025-32023 rule: even a VAL that would be skipped).
        let over = from_sparse_ops(&[0x7f, 0xfe, 0x83]);
        assert_eq!(Registers::default().merge(&over), Err(HllError::Corrupted));
        for extra in [0x80, 0x00, 0x40] {
            let after = from_sparse_ops(&[0x7f, 0xff, extra, 0x00]);
            assert_eq!(Registers::default().merge(&after), Err(HllError::Corrupted));
            assert_eq!(count(&after), Err(HllError::Corrupted));
            assert_eq!(to_dense(&mut after.clone()), Err(HllError::Corrupted));
        }
        // Every single-byte damage of a small value: whatever happens, no panic.
        let mut base = new_sparse();
        for n in 0..50u32 {
            add(&mut base, &n.to_le_bytes(), MAX).unwrap();
        }
        for pos in HEADER_LEN..base.len() {
            for byte in [0x00, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xff] {
                let mut v = base.clone();
                v[pos] = byte;
                let _ = count(&v);
                let _ = Registers::default().merge(&v);
                for e in 0..20u32 {
                    let _ = add(&mut v, &e.to_be_bytes(), MAX);
                }
                let _ = to_dense(&mut v);
            }
        }
    }

    #[test]
    fn estimator_edges() {
        let mut hist = [0u64; 64];
        hist[0] = REGISTERS as u64;
        assert_eq!(estimate(&hist), 0);
        let mut full = [0u64; 64];
        full[Q + 1] = REGISTERS as u64;
        assert_eq!(sigma(0.0), 0.0);
        assert_eq!(tau(0.0), 0.0);
        let _ = estimate(&full);
    }

    #[test]
    fn cache_bits() {
        let mut v = new_sparse();
        set_cached_count(&mut v, 0x0102);
        assert_eq!(&v[8..16], &[2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(cached_count(&v), Some(0x0102));
        invalidate_cache(&mut v);
        assert_eq!(v[15], 0x80);
        assert_eq!(cached_count(&v), None);
    }
}
