//! The 28 bits of access bookkeeping every key carries, as Redis keeps 24 of
//! them in `robj.lru`: an LRU clock under the LRU policies, or an LFU pair
//! (16-bit minutes of the last decrement, 8-bit logarithmic counter) under
//! the LFU policies. Used by lookups, OBJECT IDLETIME/FREQ, RESTORE
//! IDLETIME/FREQ and eviction.
//!
//! Redis's LRU clock ticks once a second in 24 bits (wrapping after 194
//! days). Ours ticks sixteen times a second in 28 bits: the same 194 days,
//! but keys touched within the same second are no longer tied, so the
//! sampled eviction tells more of them apart and keeps more hot keys.

/// Bits of the access field (LRU clock; LFU uses the low 24).
pub const ACCESS_BITS: u32 = 28;
pub const LRU_CLOCK_MAX: u32 = (1 << ACCESS_BITS) - 1;
/// LRU clock ticks per second.
const LRU_TICKS_PER_SEC: i64 = 16;
/// Counter of a new key under LFU, so that fresh keys are not evicted at once.
pub const LFU_INIT_VAL: u32 = 5;

/// The LRU clock at `now_ms`.
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms * LRU_TICKS_PER_SEC / 1000) as u32) & LRU_CLOCK_MAX
}

/// Redis's own 24-bit, one-second LRU clock at `now_ms` (INFO's
/// `lru_clock`); an LRU field shifted right by four reads the same way
/// (DEBUG OBJECT's `lru:`).
pub fn redis_lru_clock(now_ms: i64) -> u32 {
    lru_clock(now_ms) >> 4
}

/// Milliseconds since the key's last access (estimateObjectIdleTime).
pub fn idle_ms(lru: u32, now_ms: i64) -> i64 {
    let clock = lru_clock(now_ms);
    let ticks = if clock >= lru { clock - lru } else { clock + (LRU_CLOCK_MAX - lru) } as i64;
    ticks * 1000 / LRU_TICKS_PER_SEC
}

fn minutes(now_ms: i64) -> u32 {
    ((now_ms / 1000 / 60) as u32) & 0xffff
}

/// The access policy in force, from `maxmemory-policy` and the LFU knobs.
#[derive(Debug, Clone, Copy)]
pub struct AccessPolicy {
    pub lfu: bool,
    /// An LRU or LFU maxmemory-policy: RDB files carry each key's idle
    /// time or counter (rdbSaveKeyValuePair's savelru / savelfu).
    pub saved: bool,
    pub lfu_log_factor: i64,
    pub lfu_decay_time: i64,
}

impl AccessPolicy {
    /// The bits a newly created key starts with.
    pub fn initial(&self, now_ms: i64) -> u32 {
        if self.lfu {
            (minutes(now_ms) << 8) | LFU_INIT_VAL
        } else {
            lru_clock(now_ms)
        }
    }

    /// The bits after one access (updateLFU / LRU_CLOCK()).
    pub fn touched(&self, lru: u32, now_ms: i64, rng: &mut impl rand::Rng) -> u32 {
        if self.lfu {
            let counter = self.lfu_decayed(lru, now_ms);
            let counter = lfu_log_incr(counter, self.lfu_log_factor, rng);
            (minutes(now_ms) << 8) | counter
        } else {
            lru_clock(now_ms)
        }
    }

    /// The LFU counter after applying the decay for the time elapsed
    /// (LFUDecrAndReturn); what OBJECT FREQ reports.
    pub fn lfu_decayed(&self, lru: u32, now_ms: i64) -> u32 {
        let ldt = lru >> 8;
        let counter = lru & 255;
        let now = minutes(now_ms);
        let elapsed = if now >= ldt { now - ldt } else { 65535 - ldt + now };
        let periods = if self.lfu_decay_time > 0 { elapsed as i64 / self.lfu_decay_time } else { 0 };
        if periods > 0 {
            if periods > counter as i64 {
                0
            } else {
                counter - periods as u32
            }
        } else {
            counter
        }
    }

    /// RESTORE's IDLETIME / FREQ (objectSetLRUOrLFU): None when the option
    /// does not apply to the policy in force.
    pub fn restored(&self, freq: Option<u32>, idle_secs: Option<i64>, now_ms: i64) -> Option<u32> {
        if self.lfu {
            freq.map(|f| (minutes(now_ms) << 8) | f.min(255))
        } else {
            idle_secs.map(|idle| {
                let mut abs = lru_clock(now_ms) as i64 - idle * LRU_TICKS_PER_SEC;
                if abs < 0 {
                    abs += LRU_CLOCK_MAX as i64;
                }
                (abs as u32) & LRU_CLOCK_MAX
            })
        }
    }
}

/// Logarithmic increment: the higher the counter, the less likely it grows.
fn lfu_log_incr(counter: u32, log_factor: i64, rng: &mut impl rand::Rng) -> u32 {
    if counter == 255 {
        return 255;
    }
    let r: f64 = rng.random();
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_wraps() {
        let now = 5_000_000i64 * 1000;
        let lru = lru_clock(now - 10_000);
        assert_eq!(idle_ms(lru, now), 10_000);
        // An access recorded just before the 28-bit clock wrapped.
        // (Redis's formula counts one tick short across the wrap.)
        let wrapped_now = (LRU_CLOCK_MAX as i64 + 81) * 1000 / LRU_TICKS_PER_SEC;
        assert_eq!(idle_ms(LRU_CLOCK_MAX, wrapped_now), 5000);
        // Accesses an eighth of a second apart are told apart.
        assert!(lru_clock(now + 125) > lru_clock(now));
        assert_eq!(redis_lru_clock(now), ((now / 1000) as u32) & ((1 << 24) - 1));
    }

    #[test]
    fn lfu_counter_grows_then_decays() {
        let p = AccessPolicy { lfu: true, saved: false, lfu_log_factor: 10, lfu_decay_time: 1 };
        let mut rng = rand::rng();
        let now = 1_700_000_000_000i64;
        let mut v = p.initial(now);
        assert_eq!(v & 255, LFU_INIT_VAL);
        for _ in 0..100 {
            v = p.touched(v, now, &mut rng);
        }
        assert!(v & 255 > LFU_INIT_VAL);
        let later = now + 3 * 60 * 1000;
        assert_eq!(p.lfu_decayed(v, later), (v & 255) - 3);
    }

    #[test]
    fn restore_sets_idle_and_freq() {
        let now = 1_700_000_000_000i64;
        let lru = AccessPolicy { lfu: false, saved: false, lfu_log_factor: 10, lfu_decay_time: 1 };
        let v = lru.restored(Some(3), Some(1000), now).unwrap();
        assert_eq!(idle_ms(v, now), 1_000_000);
        let lfu = AccessPolicy { lfu: true, ..lru };
        assert_eq!(lfu.restored(Some(100), None, now).unwrap() & 255, 100);
        assert_eq!(lfu.restored(None, Some(5), now), None);
    }
}
