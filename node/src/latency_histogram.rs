//! Per-command latency histograms (`latency-tracking`, INFO latencystats).
//!
//! As Redis does (server.c `updateCommandLatencyHistogram`), each command
//! or subcommand gets an HdrHistogram the first time it is timed while
//! `latency-tracking` is on, covering 1 ns to 1 s at 2 significant figures;
//! durations are taken in microseconds and recorded in nanoseconds, clamped
//! into that range. Recording is one bucket increment, no allocation.
//! CONFIG RESETSTAT drops them all. INFO reads percentiles with the
//! rounding of hdr_histogram's C `hdr_value_at_percentile`, which Redis
//! links, so the figures match Redis's for the same samples.

use hdrhistogram::Histogram;

/// The smallest value tracked, in nanoseconds (LATENCY_HISTOGRAM_MIN_VALUE).
const MIN_NS: u64 = 1;
/// The largest value tracked, in nanoseconds (LATENCY_HISTOGRAM_MAX_VALUE).
const MAX_NS: u64 = 1_000_000_000;
/// Significant figures kept across the range (LATENCY_HISTOGRAM_PRECISION).
const PRECISION: u8 = 2;

/// One command's latency samples, in nanoseconds.
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    pub fn new() -> Self {
        LatencyHistogram(Histogram::new_with_bounds(MIN_NS, MAX_NS, PRECISION).expect("valid histogram bounds"))
    }

    /// Add one sample of `ns` nanoseconds, clamped into the tracked range.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.0.saturating_record(ns.clamp(MIN_NS, MAX_NS));
    }

    /// Samples recorded.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value at `percentile` (0 to 100) as hdr_histogram's C
    /// `hdr_value_at_percentile` gives it: the sample rank is rounded to
    /// the nearest (at least 1), and the answer is the highest value
    /// equivalent to that sample's bucket, the lowest one for p0. (The
    /// Rust port rounds the rank up instead, which differs for some counts.)
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let requested = if percentile < 100.0 { percentile } else { 100.0 };
        let rank = ((requested / 100.0) * self.0.len() as f64 + 0.5) as i64;
        let rank = rank.max(1) as u64;
        let mut seen = 0u64;
        for v in self.0.iter_recorded() {
            seen += v.count_at_value();
            if seen >= rank {
                let value = v.value_iterated_to();
                return if percentile == 0.0 { self.0.lowest_equivalent(value) } else { self.0.highest_equivalent(value) };
            }
        }
        0
    }

    /// LATENCY HISTOGRAM's buckets (fillCommandCDF): walking the buckets
    /// with hdr_histogram's logarithmic iterator from 1024 ns, doubling,
    /// each step that adds samples gives (its bucket's highest value in
    /// microseconds, samples so far). As in C, the step that crosses a
    /// boundary reports the bucket it stopped on, that bucket included.
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let h = &self.0;
        let total = h.len();
        let mut out = Vec::new();
        let mut level = 1024u64;
        let mut level_low = h.lowest_equivalent(level);
        let (mut cumulative, mut reported) = (0u64, 0u64);
        for v in h.iter_all() {
            if reported == total {
                break;
            }
            cumulative += v.count_at_value();
            let value = v.value_iterated_to();
            let (low, high) = (h.lowest_equivalent(value), h.highest_equivalent(value));
            while low >= level_low {
                if cumulative > reported {
                    out.push((high / 1000, cumulative));
                    reported = cumulative;
                }
                level = level.saturating_mul(2);
                level_low = h.lowest_equivalent(level);
            }
        }
        out
    }
}

/// Every command's histogram, indexed by command id (as `cmd_stats`),
/// created on first use.
#[derive(Default)]
pub struct CommandLatencies {
    by_id: Vec<Option<LatencyHistogram>>,
}

impl CommandLatencies {
    /// Record that command `id` took `duration_us` microseconds.
    #[inline]
    pub fn record(&mut self, id: usize, duration_us: u64) {
        if id >= self.by_id.len() {
            self.by_id.resize_with(id + 1, || None);
        }
        self.by_id[id].get_or_insert_with(LatencyHistogram::new).record(duration_us.saturating_mul(1000));
    }

    /// Command `id`'s histogram, if it was timed since the last reset.
    pub fn get(&self, id: usize) -> Option<&LatencyHistogram> {
        self.by_id.get(id).and_then(Option::as_ref)
    }

    /// CONFIG RESETSTAT: forget every sample (resetCommandTableStats).
    pub fn reset(&mut self) {
        self.by_id.clear();
    }
}

/// One INFO latencystats line (fillPercentileDistributionLatencies):
/// `latency_percentiles_usec_<name>:p50=1.003,p99=2.007,p99.9=3.001`, each
/// percentile as `%f` without trailing zeros, each value in microseconds
/// with three decimals.
pub fn write_percentiles(out: &mut String, name: &str, h: &LatencyHistogram, percentiles: &[f64]) {
    use std::fmt::Write;
    let _ = write!(out, "latency_percentiles_usec_{name}:");
    for (i, &p) in percentiles.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let usec = h.value_at_percentile(p) as f64 / 1000.0;
        let _ = write!(out, "p{}={usec:.3}", crate::config::syntax::format_double(p));
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(samples: &[u64]) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for &ns in samples {
            h.record(ns);
        }
        h
    }

    #[test]
    fn cumulative_buckets_double_from_one_microsecond() {
        // 500 ns and 900 ns fall before the first boundary (1024 ns) and are
        // reported with the bucket that reaches it; 3 us with the one at 4096.
        let h = with(&[500, 900, 3000, 3000, 40_000]);
        assert_eq!(h.cumulative_usec(), vec![(1, 2), (4, 4), (66, 5)]);
        assert!(LatencyHistogram::new().cumulative_usec().is_empty());
    }

    #[test]
    fn values_below_two_significant_figures_are_exact() {
        // Up to 255 every value has its own bucket (256 sub-buckets).
        let h = with(&[1, 2, 3]);
        assert_eq!(h.value_at_percentile(0.0), 1);
        assert_eq!(h.value_at_percentile(50.0), 2);
        assert_eq!(h.value_at_percentile(100.0), 3);
    }

    #[test]
    fn out_of_range_samples_are_clamped() {
        let h = with(&[0, 5_000_000_000]);
        assert_eq!(h.value_at_percentile(0.0), 1);
        // The top bucket's highest equivalent value, as Redis reports it.
        assert_eq!(h.value_at_percentile(100.0), 1_002_438_655);
    }

    #[test]
    fn rank_rounds_to_nearest_as_hdr_histogram_c() {
        // 10 samples, p12: C's rank is (int)(1.2 + 0.5) = 1, the Rust port's
        // ceil(1.2) = 2.
        let h = with(&[10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        assert_eq!(h.value_at_percentile(12.0), 10);
        assert_eq!(h.0.value_at_percentile(12.0), 20);
        // 2 samples, p50: rank (int)(1.0 + 0.5) = 1.
        let h = with(&[10, 20]);
        assert_eq!(h.value_at_percentile(50.0), 10);
        // 3 samples, p50: rank 2.
        let h = with(&[10, 20, 30]);
        assert_eq!(h.value_at_percentile(50.0), 20);
        // Above 100 is 100.
        assert_eq!(h.value_at_percentile(150.0), 30);
    }

    #[test]
    fn large_values_report_their_bucket_top_and_p0_its_bottom() {
        // 1 ms falls in a bucket 4096 ns wide: [999424, 1003519].
        let h = with(&[1_000_000]);
        assert_eq!(h.value_at_percentile(50.0), 1_003_519);
        assert_eq!(h.value_at_percentile(0.0), 999_424);
    }

    #[test]
    fn durations_are_recorded_in_nanoseconds() {
        let mut all = CommandLatencies::default();
        assert!(all.get(3).is_none());
        all.record(3, 0);
        all.record(3, 7);
        let h = all.get(3).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h.value_at_percentile(0.0), 1);
        // 7000 ns falls in a bucket 32 ns wide: [6976, 7007].
        assert_eq!(h.value_at_percentile(100.0), 7007);
        all.reset();
        assert!(all.get(3).is_none());
    }

    #[test]
    fn info_line_format() {
        let h = with(&[1000, 2000, 3000]);
        let mut s = String::new();
        write_percentiles(&mut s, "client|id", &h, &[50.0, 99.0, 99.9]);
        assert_eq!(s, "latency_percentiles_usec_client|id:p50=2.007,p99=3.007,p99.9=3.007\r\n");
        let mut s = String::new();
        write_percentiles(&mut s, "set", &h, &[0.0, 50.0, 100.0]);
        assert_eq!(s, "latency_percentiles_usec_set:p0=1.000,p50=2.007,p100=3.007\r\n");
        let mut s = String::new();
        write_percentiles(&mut s, "set", &h, &[]);
        assert_eq!(s, "latency_percentiles_usec_set:\r\n");
    }
}
