//! The LZF compressed format (liblzf 3.6), as RDB stores long strings (`RDB_ENC_LZF`).
//!
//! The stream is a sequence of items, each starting with a control byte:
//! - `000LLLLL` + `L+1` bytes: a literal run of 1..=32 bytes;
//! - `LLLooooo oooooooo`: copy `L+2` (3..=8) bytes from `o+1` (1..=8192) bytes back;
//! - `111ooooo LLLLLLLL oooooooo`: copy `L+9` (9..=264) bytes from `o+1` bytes back.
//!
//! [`decompress`] is written for hostile input: `RESTORE` hands it whatever a client
//! sent. [`compress`] follows liblzf's match finder exactly (hash, table, search and
//! output-space checks as Redis builds it: `HLOG` 16, `VERY_FAST`), because the point is
//! that `DUMP` and RDB files come out byte-identical to Redis's, which tools and tests
//! compare. The only liberty liblzf takes that we do not is reading its hash table
//! uninitialised; we start from an empty one, which is what liblzf's output amounts to
//! whenever no stale slot happens to name a matching position.

use std::cell::RefCell;

use super::RdbError;

/// Longest literal run one control byte describes.
const MAX_LIT: usize = 1 << 5;
/// Farthest a back reference reaches.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference (`7 + 255 + 2`).
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// Most output one input byte can produce: the long back reference, 3 bytes for 264.
/// Bounds the length a decompression may claim before anything is allocated.
const MAX_EXPANSION: usize = MAX_REF / 3;

/// `HLOG`: liblzf's hash table has 2^16 slots.
const HASH_BITS: u32 = 16;
const HASH_SLOTS: usize = 1 << HASH_BITS;

/// Compresses `input` as Redis does before storing a string (`rdbSaveLzfStringObject`):
/// only worth it if it saves at least 4 bytes, so `None` for inputs of 4 bytes or less and
/// whenever the result would be longer than `input.len() - 4`.
pub fn compress(input: &[u8]) -> Option<Vec<u8>> {
    if input.len() <= 4 {
        return None;
    }
    compress_within(input, input.len() - 4)
}

/// Compresses `input` into at most `max_len` bytes, or `None` if liblzf's
/// `lzf_compress(input, max_len)` would fail. liblzf gives up conservatively (it wants room
/// for a worst-case item before writing one), so which inputs "fit" depends on these exact
/// checks, not only on the final length.
pub fn compress_within(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    if input.is_empty() || max_len == 0 || input.len() > MAX_POSITION {
        return None;
    }
    HASH_TABLE.with(|table| {
        let mut table = table.borrow_mut();
        table.reset();
        compress_with(&mut table, input, max_len)
    })
}

fn compress_with(table: &mut HashTable, input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    // liblzf writes into a buffer of exactly `max_len`; never reserve more than the
    // result can be, whatever the caller allows.
    let mut out = Vec::with_capacity(max_len.min(in_len + in_len / MAX_LIT + 1));
    // The literal run being built: its control byte is a placeholder at
    // `out[out.len() - lit - 1]`, filled in when the run ends.
    let mut lit = 0usize;
    out.push(0);

    let mut ip = 0usize;
    let mut hval = if in_len >= 2 { first_hash(input, 0) } else { 0 };
    while ip + 2 < in_len {
        hval = next_hash(hval, input, ip);
        let slot = hash_slot(hval);
        let candidate = table.get(slot);
        table.set(slot, ip);

        // liblzf never refers back to position 0 (its test is `ref > in_data`), since a
        // zero slot means "empty" to it.
        let matched = candidate.filter(|&r| {
            r > 0
                && ip - r - 1 < MAX_OFF
                && input[r + 2] == input[ip + 2]
                && input[r] == input[ip]
                && input[r + 1] == input[ip + 1]
        });
        match matched {
            Some(r) => {
                let off = ip - r - 1;
                // Room for the longest back reference plus the next run's control byte,
                // counting the current run's placeholder only if the run is non-empty.
                let op = out.len();
                if op + 4 >= max_len && op - usize::from(lit == 0) + 4 >= max_len {
                    return None;
                }
                close_run(&mut out, lit);

                let len = match_length(input, r, ip);
                // Encoded as octets - 2 (a match is at least 3 bytes long).
                let code = len - 2;
                if code < 7 {
                    out.push(((off >> 8) + (code << 5)) as u8);
                } else {
                    out.push(((off >> 8) + (7 << 5)) as u8);
                    out.push((code - 7) as u8);
                }
                out.push(off as u8);
                lit = 0;
                out.push(0);

                ip += len;
                if ip + 2 >= in_len {
                    break;
                }
                // VERY_FAST: of the positions the match covered, hash only the last two.
                ip -= 2;
                hval = first_hash(input, ip);
                hval = next_hash(hval, input, ip);
                table.set(hash_slot(hval), ip);
                ip += 1;
                hval = next_hash(hval, input, ip);
                table.set(hash_slot(hval), ip);
                ip += 1;
            }
            None => {
                if out.len() >= max_len {
                    return None;
                }
                push_literal(&mut out, &mut lit, input[ip]);
                ip += 1;
            }
        }
    }

    // At most two input bytes remain, plus possibly a new run's control byte.
    if out.len() + 3 > max_len {
        return None;
    }
    for &b in &input[ip..] {
        push_literal(&mut out, &mut lit, b);
    }
    close_run(&mut out, lit);
    Some(out)
}

/// Appends one literal byte to the open run, starting a new run when this one is full.
fn push_literal(out: &mut Vec<u8>, lit: &mut usize, byte: u8) {
    *lit += 1;
    out.push(byte);
    if *lit == MAX_LIT {
        close_run(out, *lit);
        out.push(0);
        *lit = 0;
    }
}

/// Ends the open literal run: fills in its control byte, or drops the placeholder of a
/// run that got no bytes.
fn close_run(out: &mut Vec<u8>, lit: usize) {
    if lit == 0 {
        out.pop();
    } else {
        let header = out.len() - lit - 1;
        out[header] = (lit - 1) as u8;
    }
}

/// How many bytes at `ip` repeat those at `r` (the first three are known to), searched the
/// way liblzf does: at most `MAX_REF`, and not into the last two input bytes — except that
/// liblzf's unrolled first 16 comparisons run without that limit, so a match that reaches
/// them may cover the whole rest of the input.
fn match_length(input: &[u8], r: usize, ip: usize) -> usize {
    let maxlen = (input.len() - ip - 2).min(MAX_REF);
    let mut len = 2;
    if maxlen > 16 {
        for _ in 0..16 {
            len += 1;
            if input[r + len] != input[ip + len] {
                return len;
            }
        }
    }
    loop {
        len += 1;
        if !(len < maxlen && input[r + len] == input[ip + len]) {
            return len;
        }
    }
}

/// The hash state holds the last bytes seen; only the three at the current position
/// affect the slot.
fn first_hash(input: &[u8], ip: usize) -> u32 {
    (u32::from(input[ip]) << 8) | u32::from(input[ip + 1])
}

fn next_hash(hval: u32, input: &[u8], ip: usize) -> u32 {
    (hval << 8) | u32::from(input[ip + 2])
}

/// liblzf's `VERY_FAST` slot function.
fn hash_slot(h: u32) -> usize {
    ((h >> (24 - HASH_BITS)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HASH_SLOTS - 1)
}

/// Positions are stored in 40 bits, leaving 24 for the epoch; longer inputs (a terabyte)
/// are simply not compressed.
const POSITION_BITS: u32 = 40;
const MAX_POSITION: usize = (1 << POSITION_BITS) - 1;
const EPOCH_LIMIT: u64 = 1 << (64 - POSITION_BITS);

/// The match finder's table of last positions per hash slot, kept per thread so that each
/// compression does not clear 2^16 slots: a slot written under an older epoch reads as
/// empty, and the table is wiped only when the epoch counter wraps.
struct HashTable {
    slots: Box<[u64]>,
    epoch: u64,
}

thread_local! {
    static HASH_TABLE: RefCell<HashTable> =
        RefCell::new(HashTable { slots: vec![0; HASH_SLOTS].into_boxed_slice(), epoch: 0 });
}

impl HashTable {
    fn reset(&mut self) {
        self.epoch += 1;
        if self.epoch == EPOCH_LIMIT {
            self.slots.fill(0);
            self.epoch = 1;
        }
    }

    fn get(&self, slot: usize) -> Option<usize> {
        let entry = self.slots[slot];
        (entry >> POSITION_BITS == self.epoch).then_some((entry & MAX_POSITION as u64) as usize)
    }

    fn set(&mut self, slot: usize, pos: usize) {
        self.slots[slot] = (self.epoch << POSITION_BITS) | pos as u64;
    }
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes (RDB stores the
/// length beside the data). Corrupt input — truncated items, references before the start
/// or past `out_len`, a different final length — is an error. At most `out_len` bytes are
/// allocated, and only if `input` could expand that far at all.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, RdbError> {
    if out_len > input.len().saturating_mul(MAX_EXPANSION) {
        return Err(RdbError::LzfCorrupt(
            "declared length beyond what the data can expand to",
        ));
    }
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while let Some(&ctrl) = input.get(ip) {
        ip += 1;
        let ctrl = usize::from(ctrl);
        if ctrl < MAX_LIT {
            let run = ctrl + 1;
            if run > out_len - out.len() {
                return Err(RdbError::LzfCorrupt("literal past the declared length"));
            }
            let bytes = input
                .get(ip..ip + run)
                .ok_or(RdbError::LzfCorrupt("literal run cut short"))?;
            out.extend_from_slice(bytes);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let extra = *input
                    .get(ip)
                    .ok_or(RdbError::LzfCorrupt("back reference cut short"))?;
                len += usize::from(extra);
                ip += 1;
            }
            let low = *input
                .get(ip)
                .ok_or(RdbError::LzfCorrupt("back reference cut short"))?;
            ip += 1;
            let distance = ((ctrl & 0x1f) << 8) + usize::from(low) + 1;
            let len = len + 2;
            if len > out_len - out.len() {
                return Err(RdbError::LzfCorrupt(
                    "back reference past the declared length",
                ));
            }
            if distance > out.len() {
                return Err(RdbError::LzfCorrupt("back reference before the start"));
            }
            let start = out.len() - distance;
            if distance >= len {
                out.extend_from_within(start..start + len);
            } else {
                // Overlapping copy: the reference reads bytes this item is writing, which is
                // how a run of one repeated byte is encoded.
                for i in start..start + len {
                    let b = out[i];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != out_len {
        return Err(RdbError::LzfCorrupt(
            "data shorter than the declared length",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic generator, so the fuzz cases are reproducible without a crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn bytes_from(&mut self, alphabet: &[u8], len: usize) -> Vec<u8> {
            (0..len)
                .map(|_| alphabet[self.below(alphabet.len())])
                .collect()
        }
    }

    fn round_trip(data: &[u8]) {
        let Some(c) = compress_within(data, data.len() + data.len() / 16 + 64) else {
            panic!(
                "incompressible under a generous bound: {} bytes",
                data.len()
            );
        };
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn liblzf_outputs() {
        // Produced by Debian's liblzf 3.6 (the one its redis-server links), lzf_compress with
        // out_len = len - 4, as rdbSaveLzfStringObject calls it.
        let cases: [(Vec<u8>, &str); 4] = [
            (b"a".repeat(21), "016161e00a00"),
            (b"a".repeat(100), "016161e05700016161"),
            (b"abc".repeat(8), "0361626361e00a020063"),
            (
                [b"a".repeat(36), b"b".to_vec()].concat(),
                "016161e01800016162",
            ),
        ];
        for (input, hex) in cases {
            let expected: Vec<u8> = hex
                .as_bytes()
                .chunks(2)
                .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
                .collect();
            assert_eq!(
                compress(&input).unwrap(),
                expected,
                "input {:?}",
                String::from_utf8_lossy(&input)
            );
            assert_eq!(decompress(&expected, input.len()).unwrap(), input);
        }
    }

    #[test]
    fn refuses_what_would_not_shrink() {
        assert_eq!(compress(b""), None);
        assert_eq!(compress(b"aaaa"), None);
        assert_eq!(compress(b"abcdefghijklmnopqrstuvwxyz"), None);
        let mut rng = XorShift(0x9e3779b97f4a7c15);
        let noise: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
        assert_eq!(compress(&noise), None);
        assert_eq!(compress_within(b"abc", 0), None);
    }

    #[test]
    fn round_trips() {
        round_trip(b"a");
        round_trip(b"ab");
        round_trip(b"abc");
        round_trip(&b"a".repeat(100_000));
        round_trip(&b"hello world ".repeat(1000));
        round_trip(&(0..=255u8).cycle().take(50_000).collect::<Vec<_>>());
        let mut rng = XorShift(1);
        for case in 0..2000 {
            let alphabet: &[u8] = match case % 4 {
                0 => b"ab",
                1 => b"abcdefgh",
                2 => b"the quick brown fox ",
                _ => &[0, 1, 2, 3, 255],
            };
            let len = 1 + rng.below(if case % 10 == 0 { 20_000 } else { 600 });
            let data = rng.bytes_from(alphabet, len);
            round_trip(&data);
            if let Some(c) = compress(&data) {
                assert!(c.len() <= data.len() - 4);
                assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }
    }

    #[test]
    fn tight_bounds_never_overflow() {
        // Every bound from 1 up: either None or an output within the bound that decodes.
        let mut rng = XorShift(99);
        for _ in 0..200 {
            let len = 1 + rng.below(200);
            let data = rng.bytes_from(b"aab", len);
            for max_len in 1..len + 8 {
                if let Some(c) = compress_within(&data, max_len) {
                    assert!(c.len() <= max_len);
                    assert_eq!(decompress(&c, data.len()).unwrap(), data);
                }
            }
        }
    }

    #[test]
    fn corrupt_input_is_an_error() {
        // Literal run longer than the data.
        assert!(decompress(&[5, b'a', b'b'], 6).is_err());
        // Back reference before the start.
        assert!(decompress(&[0, b'a', 0x20, 0x05], 4).is_err());
        // Back reference missing its offset byte, or its length byte.
        assert!(decompress(&[0, b'a', 0x20], 4).is_err());
        assert!(decompress(&[0, b'a', 0xe0], 12).is_err());
        assert!(decompress(&[0, b'a', 0xe0, 0x00], 12).is_err());
        // Output longer, or shorter, than declared.
        assert!(decompress(&[1, b'a', b'b'], 1).is_err());
        assert!(decompress(&[1, b'a', b'b'], 3).is_err());
        assert!(decompress(&[0, b'a', 0x20, 0x00], 3).is_err());
        // A claim no input could expand to is refused before allocating.
        assert!(decompress(&[0, b'a'], usize::MAX).is_err());
        assert!(decompress(&[0, b'a'], 1 << 40).is_err());
        // Empty is empty.
        assert_eq!(decompress(&[], 0).unwrap(), Vec::<u8>::new());
        assert!(decompress(&[], 1).is_err());
    }

    #[test]
    fn maximal_expansion_is_accepted() {
        // One literal, then long references of 264 bytes each: the densest encoding.
        let mut input = vec![0, b'z'];
        for _ in 0..100 {
            input.extend_from_slice(&[0xe0, 0xff, 0x00]);
        }
        let out = decompress(&input, 1 + 100 * 264).unwrap();
        assert!(out.iter().all(|&b| b == b'z'));
    }

    #[test]
    fn fuzzed_garbage_never_panics() {
        let mut rng = XorShift(0xdeadbeef);
        for _ in 0..50_000 {
            let len = rng.below(64);
            let garbage: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let out_len = rng.below(512);
            if let Ok(out) = decompress(&garbage, out_len) {
                assert_eq!(out.len(), out_len);
            }
        }
        // Mutations of valid streams hit the deeper paths more often than pure noise.
        let data = b"hello hello hello world, hello world hello!".repeat(20);
        let valid = compress(&data).unwrap();
        for _ in 0..50_000 {
            let mut bent = valid.clone();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(bent.len());
                bent[i] ^= 1 << rng.below(8);
            }
            if rng.below(4) == 0 {
                bent.truncate(rng.below(bent.len()));
            }
            let declared = if rng.below(2) == 0 {
                data.len()
            } else {
                rng.below(2 * data.len())
            };
            let _ = decompress(&bent, declared);
        }
    }
}
