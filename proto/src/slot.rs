//! Redis Cluster hash slots: which of the 16384 slots a key belongs to
//! (Redis's `keyHashSlot`), shared by the node's cluster checks and the
//! proxy's router.

/// Number of hash slots in a Redis Cluster.
pub const SLOTS: u16 = 16384;

/// The slot of `key`: CRC16-XMODEM of the key modulo 16384, or of its hash
/// tag when it has one. The tag is what lies between the first '{' and the
/// first '}' after it, if that is not empty; otherwise the whole key is
/// hashed ("foo{}{bar}" hashes entirely, "foo{{bar}}" hashes "{bar").
pub fn key_hash_slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key).unwrap_or(key)) & (SLOTS - 1)
}

/// The non-empty hash tag of `key`, if any.
fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let rest = &key[open + 1..];
    let close = rest.iter().position(|&b| b == b'}')?;
    (close > 0).then(|| &rest[..close])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_xmodem_check_value() {
        // The CRC16-XMODEM check value, also in Redis's crc16.c.
        assert_eq!(crc16::State::<crc16::XMODEM>::calculate(b"123456789"), 0x31C3);
        // 0x31C3 = 12739 < 16384: the slot is the CRC itself.
        assert_eq!(key_hash_slot(b"123456789"), 12739);
    }

    #[test]
    fn matches_cluster_keyslot() {
        // CLUSTER KEYSLOT answers of a Redis 7.0.15 server.
        let answers: [(&[u8], u16); 14] = [
            (b"123456789", 12739),
            (b"foo", 12182),
            (b"bar", 5061),
            (b"", 0),
            (b"{user1000}.following", 3443),
            (b"{user1000}.followers", 3443),
            (b"user1000", 3443),
            // An empty tag: the whole key is hashed.
            (b"foo{}{bar}", 8363),
            // The tag ends at the first '}' after the first '{'.
            (b"foo{{bar}}zap", 4015),
            (b"{bar", 4015),
            (b"foo{bar}{zap}", 5061),
            // No closing brace: the whole key.
            (b"foo{bar", 15278),
            (b"}{x}", 16287),
            (b"x", 16287),
        ];
        for (key, slot) in answers {
            assert_eq!(key_hash_slot(key), slot, "{}", String::from_utf8_lossy(key));
        }
    }
}
