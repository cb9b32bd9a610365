//! One key's allocation: the chain pointer, the access bits, the optional
//! expiry, the key bytes and, when small, the value itself, in one block of
//! memory so that a key with a short string value costs one allocation.
//!
//! ```text
//! offset  size  field
//! 0       8     next: the following entry in the same bucket (null at the end)
//! 8       4     meta: LRU/LFU bits (28) | value kind (2) | VOLATILE | LONG_KEY
//! 12      8+4   expire_at (ms) and index in the segment's volatile list, only if VOLATILE
//! ..      1|4   key length: one byte, or four with LONG_KEY
//! ..            value: Int → i64; Embstr → length byte + bytes; Heap → pointer
//! ..            key bytes
//! ```
//!
//! Every field after `next` is read and written unaligned, so no padding is
//! spent. The memory bench's 16-byte keys with 16-byte values come to 46
//! bytes, jemalloc's 48-byte class (Redis spends ~120 bytes on the same key).

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::{self, NonNull};

use super::{HeapValue, ValueRef};

/// Longest value kept inside the entry (Redis's embstr limit is 44; a
/// length byte could say more, but longer strings are `raw` in Redis and
/// are usually appended to).
pub const EMBSTR_MAX: usize = 44;

const OFF_META: usize = 8;
const OFF_EXPIRE: usize = 12;
const VOLATILE_BYTES: usize = 12;

const LRU_MASK: u32 = crate::access::LRU_CLOCK_MAX;
const KIND_SHIFT: u32 = crate::access::ACCESS_BITS;
const KIND_MASK: u32 = 0x3 << KIND_SHIFT;
const VOLATILE: u32 = 1 << 30;
const LONG_KEY: u32 = 1 << 31;

const KIND_INT: u32 = 0;
const KIND_EMBSTR: u32 = 1;
const KIND_HEAP: u32 = 2;

/// A value as it is written into a new entry.
pub enum Payload<'a> {
    Int(i64),
    /// Kept inline; at most 255 bytes (callers use it up to [`EMBSTR_MAX`]).
    Embstr(&'a [u8]),
    /// Owned by the entry from now on.
    Heap(Box<HeapValue>),
}

/// A pointer to one entry. Copyable and unchecked: the segment that links
/// an entry owns it, and every use happens under that ownership.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EntryPtr(NonNull<u8>);

impl EntryPtr {
    /// Allocate an entry. `expire` is `(expire_at_ms, volatile_index)`.
    pub fn new(key: &[u8], value: Payload<'_>, expire: Option<(i64, u32)>, lru: u32) -> EntryPtr {
        let long_key = key.len() > u8::MAX as usize;
        let key_len_bytes = if long_key { 4 } else { 1 };
        let value_bytes = match &value {
            Payload::Int(_) | Payload::Heap(_) => 8,
            Payload::Embstr(s) => {
                assert!(s.len() <= u8::MAX as usize, "embedded strings are at most 255 bytes");
                1 + s.len()
            }
        };
        let head = if expire.is_some() { OFF_EXPIRE + VOLATILE_BYTES } else { OFF_EXPIRE };
        let size = head + key_len_bytes + value_bytes + key.len();
        let layout = layout(size);
        // SAFETY: layout has a non-zero size; every write below stays inside
        // `size` bytes, computed from the same field sizes.
        unsafe {
            let p = alloc(layout);
            if p.is_null() {
                handle_alloc_error(layout);
            }
            ptr::write(p as *mut *mut u8, ptr::null_mut());
            let kind = match value {
                Payload::Int(_) => KIND_INT,
                Payload::Embstr(_) => KIND_EMBSTR,
                Payload::Heap(_) => KIND_HEAP,
            };
            let mut meta = (lru & LRU_MASK) | (kind << KIND_SHIFT);
            if expire.is_some() {
                meta |= VOLATILE;
            }
            if long_key {
                meta |= LONG_KEY;
            }
            ptr::write_unaligned(p.add(OFF_META) as *mut u32, meta);
            if let Some((at, index)) = expire {
                ptr::write_unaligned(p.add(OFF_EXPIRE) as *mut i64, at);
                ptr::write_unaligned(p.add(OFF_EXPIRE + 8) as *mut u32, index);
            }
            let mut off = head;
            if long_key {
                ptr::write_unaligned(p.add(off) as *mut u32, key.len() as u32);
            } else {
                *p.add(off) = key.len() as u8;
            }
            off += key_len_bytes;
            match value {
                Payload::Int(n) => ptr::write_unaligned(p.add(off) as *mut i64, n),
                Payload::Embstr(s) => {
                    *p.add(off) = s.len() as u8;
                    ptr::copy_nonoverlapping(s.as_ptr(), p.add(off + 1), s.len());
                }
                Payload::Heap(b) => ptr::write_unaligned(p.add(off) as *mut *mut HeapValue, Box::into_raw(b)),
            }
            off += value_bytes;
            ptr::copy_nonoverlapping(key.as_ptr(), p.add(off), key.len());
            EntryPtr(NonNull::new_unchecked(p))
        }
    }

    /// A copy of this entry with another value (or expiry), keeping the key,
    /// the access bits and the chain link. The old entry's heap value, if
    /// any, is dropped unless `value` moved it over (see [`Self::take_heap`]).
    pub fn rebuilt(self, value: Payload<'_>, expire: Option<(i64, u32)>) -> EntryPtr {
        let new = EntryPtr::new(self.key(), value, expire, self.lru());
        new.set_next(self.next());
        new
    }

    /// The start of the allocation (for prefetching).
    #[inline]
    pub fn as_ptr(self) -> *const u8 {
        self.0.as_ptr()
    }

    #[inline]
    fn meta(self) -> u32 {
        // SAFETY: every entry has its meta word at OFF_META.
        unsafe { ptr::read_unaligned(self.0.as_ptr().add(OFF_META) as *const u32) }
    }

    #[inline]
    fn set_meta(self, meta: u32) {
        // SAFETY: as in `meta`.
        unsafe { ptr::write_unaligned(self.0.as_ptr().add(OFF_META) as *mut u32, meta) }
    }

    #[inline]
    pub fn next(self) -> Option<EntryPtr> {
        // SAFETY: offset 0 is the aligned next pointer of every entry.
        NonNull::new(unsafe { ptr::read(self.0.as_ptr() as *const *mut u8) }).map(EntryPtr)
    }

    #[inline]
    pub fn set_next(self, next: Option<EntryPtr>) {
        let p = next.map_or(ptr::null_mut(), |n| n.0.as_ptr());
        // SAFETY: as in `next`.
        unsafe { ptr::write(self.0.as_ptr() as *mut *mut u8, p) }
    }

    /// Where the next pointer lives, so a chain can be relinked in place.
    #[inline]
    pub fn next_slot(self) -> *mut Option<EntryPtr> {
        // Option<EntryPtr> has the layout of a nullable pointer (NonNull niche).
        self.0.as_ptr() as *mut Option<EntryPtr>
    }

    #[inline]
    pub fn lru(self) -> u32 {
        self.meta() & LRU_MASK
    }

    #[inline]
    pub fn set_lru(self, lru: u32) {
        self.set_meta((self.meta() & !LRU_MASK) | (lru & LRU_MASK));
    }

    #[inline]
    fn kind(self) -> u32 {
        (self.meta() & KIND_MASK) >> KIND_SHIFT
    }

    #[inline]
    pub fn is_volatile(self) -> bool {
        self.meta() & VOLATILE != 0
    }

    #[inline]
    pub fn expire_at(self) -> Option<i64> {
        if self.is_volatile() {
            // SAFETY: a VOLATILE entry has its expiry at OFF_EXPIRE.
            Some(unsafe { ptr::read_unaligned(self.0.as_ptr().add(OFF_EXPIRE) as *const i64) })
        } else {
            None
        }
    }

    /// Change the expiry of an entry that already has one.
    pub fn set_expire_at(self, at: i64) {
        debug_assert!(self.is_volatile());
        // SAFETY: as in `expire_at`.
        unsafe { ptr::write_unaligned(self.0.as_ptr().add(OFF_EXPIRE) as *mut i64, at) }
    }

    /// The entry's place in its segment's list of volatile entries.
    pub fn volatile_index(self) -> u32 {
        debug_assert!(self.is_volatile());
        // SAFETY: as in `expire_at`.
        unsafe { ptr::read_unaligned(self.0.as_ptr().add(OFF_EXPIRE + 8) as *const u32) }
    }

    pub fn set_volatile_index(self, index: u32) {
        debug_assert!(self.is_volatile());
        // SAFETY: as in `expire_at`.
        unsafe { ptr::write_unaligned(self.0.as_ptr().add(OFF_EXPIRE + 8) as *mut u32, index) }
    }

    /// Offset of the key length field.
    #[inline]
    fn off_key_len(self, meta: u32) -> usize {
        if meta & VOLATILE != 0 {
            OFF_EXPIRE + VOLATILE_BYTES
        } else {
            OFF_EXPIRE
        }
    }

    #[inline]
    fn key_len_at(self, meta: u32, off: usize) -> (usize, usize) {
        // SAFETY: the key length field sits at `off`, 4 bytes with LONG_KEY.
        unsafe {
            if meta & LONG_KEY != 0 {
                (ptr::read_unaligned(self.0.as_ptr().add(off) as *const u32) as usize, 4)
            } else {
                (*self.0.as_ptr().add(off) as usize, 1)
            }
        }
    }

    /// (offset of the value, key length, offset of the key).
    #[inline]
    fn offsets(self) -> (usize, usize, usize) {
        let meta = self.meta();
        let off = self.off_key_len(meta);
        let (key_len, width) = self.key_len_at(meta, off);
        let value_off = off + width;
        let value_len = match (meta & KIND_MASK) >> KIND_SHIFT {
            KIND_EMBSTR => {
                // SAFETY: an embstr value starts with its length byte.
                1 + unsafe { *self.0.as_ptr().add(value_off) } as usize
            }
            _ => 8,
        };
        (value_off, key_len, value_off + value_len)
    }

    #[inline]
    pub fn key<'a>(self) -> &'a [u8] {
        let (_, len, off) = self.offsets();
        // SAFETY: the key bytes end the allocation; the caller ties 'a to
        // the table that owns the entry.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(off), len) }
    }

    #[inline]
    pub fn value<'a>(self) -> ValueRef<'a> {
        let (off, _, _) = self.offsets();
        // SAFETY: the value field at `off` has the layout its kind says.
        unsafe {
            let p = self.0.as_ptr().add(off);
            match self.kind() {
                KIND_INT => ValueRef::Int(ptr::read_unaligned(p as *const i64)),
                KIND_EMBSTR => {
                    ValueRef::Str(std::slice::from_raw_parts(p.add(1), *p as usize), super::StrEncoding::Embstr)
                }
                _ => (*ptr::read_unaligned(p as *const *const HeapValue)).as_ref(),
            }
        }
    }

    /// Overwrite an `int` value in place; false (and no change) when the
    /// entry holds another kind, whose slot has another size.
    pub fn set_int(self, n: i64) -> bool {
        if self.kind() != KIND_INT {
            return false;
        }
        let (off, _, _) = self.offsets();
        // SAFETY: an int entry has an 8-byte value slot at `off`.
        unsafe { ptr::write_unaligned(self.0.as_ptr().add(off) as *mut i64, n) };
        true
    }

    /// Overwrite an inline string value with one of the same length, in
    /// place; false (and no change) when the entry holds another kind or
    /// length.
    pub fn set_embstr_same_len(self, bytes: &[u8]) -> bool {
        if self.kind() != KIND_EMBSTR {
            return false;
        }
        let (off, _, _) = self.offsets();
        // SAFETY: an embstr entry holds its length byte at `off`, then that
        // many bytes; the new bytes are as many.
        unsafe {
            let p = self.0.as_ptr().add(off);
            if *p as usize != bytes.len() {
                return false;
            }
            ptr::copy_nonoverlapping(bytes.as_ptr(), p.add(1), bytes.len());
        }
        true
    }

    /// The heap value, for changing it in place.
    pub fn heap_mut<'a>(self) -> Option<&'a mut HeapValue> {
        if self.kind() != KIND_HEAP {
            return None;
        }
        let (off, _, _) = self.offsets();
        // SAFETY: a heap entry holds a Box<HeapValue> pointer at `off`; the
        // caller holds the table mutably.
        unsafe { Some(&mut *ptr::read_unaligned(self.0.as_ptr().add(off) as *const *mut HeapValue)) }
    }

    /// Move the heap value out, leaving the entry to be released with
    /// [`Self::free_shell`] only.
    pub fn take_heap(self) -> Option<Box<HeapValue>> {
        if self.kind() != KIND_HEAP {
            return None;
        }
        let (off, _, _) = self.offsets();
        // SAFETY: the pointer came from Box::into_raw in `new`; the caller
        // must not free the entry with `free` afterwards.
        unsafe { Some(Box::from_raw(ptr::read_unaligned(self.0.as_ptr().add(off) as *const *mut HeapValue))) }
    }

    /// Bytes the allocation spans.
    pub fn size(self) -> usize {
        let (_, key_len, key_off) = self.offsets();
        key_off + key_len
    }

    /// Release the entry and its heap value.
    ///
    /// # Safety
    /// The entry must be unlinked and never used again.
    pub unsafe fn free(self) {
        drop(self.take_heap());
        self.free_shell();
    }

    /// Release the entry's own block only (its heap value was moved out).
    ///
    /// # Safety
    /// As for [`Self::free`].
    pub unsafe fn free_shell(self) {
        let size = self.size();
        dealloc(self.0.as_ptr(), layout(size));
    }
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("entry sizes are small")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let e = EntryPtr::new(b"key:000000000001", Payload::Embstr(b"0123456789abcdef"), None, 77);
        assert_eq!(e.key(), b"key:000000000001");
        assert!(matches!(e.value(), ValueRef::Str(b"0123456789abcdef", _)));
        assert_eq!(e.lru(), 77);
        assert_eq!(e.expire_at(), None);
        assert_eq!(e.size(), 46);
        e.set_lru(LRU_MASK);
        assert_eq!(e.lru(), LRU_MASK);
        assert_eq!(e.key(), b"key:000000000001");
        unsafe { e.free() };
    }

    #[test]
    fn long_keys_ints_and_expiry() {
        let key = vec![b'k'; 300];
        let e = EntryPtr::new(&key, Payload::Int(-42), Some((1234, 9)), 5);
        assert_eq!(e.key(), &key[..]);
        assert!(matches!(e.value(), ValueRef::Int(-42)));
        assert_eq!(e.expire_at(), Some(1234));
        assert_eq!(e.volatile_index(), 9);
        e.set_expire_at(99);
        e.set_volatile_index(3);
        assert_eq!(e.expire_at(), Some(99));
        assert_eq!(e.volatile_index(), 3);
        let h = EntryPtr::new(b"h", Payload::Heap(Box::new(HeapValue::Raw(b"x".repeat(100)))), None, 0);
        assert!(matches!(h.value(), ValueRef::Str(s, _) if s.len() == 100));
        let r = h.rebuilt(Payload::Int(1), Some((5, 0)));
        assert_eq!(r.key(), b"h");
        unsafe {
            h.free();
            r.free();
            e.free();
        }
    }
}
