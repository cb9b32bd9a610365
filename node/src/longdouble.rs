//! INCRBYFLOAT's long double addition, done in C (`longdouble.c`) because
//! Redis's results depend on x87 extended precision.

#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    NotFloat,
    NanOrInfinity,
}

extern "C" {
    fn corvid_ld_add(a: *const u8, alen: usize, b: *const u8, blen: usize, out: *mut u8, cap: usize, out_len: *mut usize) -> i32;
}

/// `a + b` as Redis's INCRBYFLOAT computes and prints it.
pub fn add(a: &[u8], b: &[u8]) -> Result<Vec<u8>, AddError> {
    let mut out = vec![0u8; 5 * 1024 + 64];
    let mut len = 0usize;
    // SAFETY: the pointers and lengths describe live slices; the C side
    // writes at most `cap` bytes into `out` and sets `len` ≤ cap.
    let rc = unsafe { corvid_ld_add(a.as_ptr(), a.len(), b.as_ptr(), b.len(), out.as_mut_ptr(), out.len(), &mut len) };
    match rc {
        0 => {
            out.truncate(len);
            Ok(out)
        }
        2 => Err(AddError::NanOrInfinity),
        _ => Err(AddError::NotFloat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_redis() {
        assert_eq!(add(b"1", b"-1.1").unwrap(), b"-0.1");
        assert_eq!(add(b"10", b"0.5").unwrap(), b"10.5");
        assert_eq!(add(b"0", b"3.0e3").unwrap(), b"3000");
        assert_eq!(add(b"5.0e3", b"2.0e2").unwrap(), b"5200");
        assert_eq!(add(b"1", b" 1"), Err(AddError::NotFloat));
        assert_eq!(add(b"1", b"nan"), Err(AddError::NotFloat));
        assert_eq!(add(b"1", b"1e5000"), Err(AddError::NotFloat));
        assert!(add(b"1.7e308", b"1.7e308").unwrap().len() > 300);
        assert_eq!(add(b"1", b"inf"), Err(AddError::NanOrInfinity));
    }
}
