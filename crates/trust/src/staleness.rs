//! Staleness windows drawn per record from an injected CSPRNG, freshness checks, partition
//! classification with a raised quorum under bad partitions, a bound on how far a baseline
//! may move per epoch, and the "synchronised shift" alarm.
//!
//! An attacker who knows exactly when data goes stale can time a shift to land right after a
//! refresh. Drawing each record's window uniformly from a range, with a CSPRNG the attacker
//! does not see, turns that certainty into a guess.

use rand::Rng;
use rand_core::{CryptoRng, RngCore};

use crate::error::{Error, Result};

/// The five kinds of fleet data with their own staleness windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKind {
    /// Anomaly scores and alerts (default window 0.5-1.5 s).
    Anomaly,
    /// Behavioural baselines (3-7 s).
    Baseline,
    /// Confidence values of detectors (2-8 s).
    Confidence,
    /// Correlation matrices (10-30 s).
    Correlation,
    /// Population statistics (15-45 s).
    Population,
}

impl DataKind {
    /// All kinds, in a fixed order.
    pub const ALL: [DataKind; 5] = [
        DataKind::Anomaly,
        DataKind::Baseline,
        DataKind::Confidence,
        DataKind::Correlation,
        DataKind::Population,
    ];

    /// Stable one-byte code used inside signed records.
    pub fn code(self) -> u8 {
        match self {
            DataKind::Anomaly => 1,
            DataKind::Baseline => 2,
            DataKind::Confidence => 3,
            DataKind::Correlation => 4,
            DataKind::Population => 5,
        }
    }

    /// The kind with this code.
    pub fn from_code(code: u8) -> Result<Self> {
        DataKind::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or(Error::Malformed)
    }
}

/// An inclusive range of staleness windows, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRange {
    /// Shortest window.
    pub min_ms: u64,
    /// Longest window.
    pub max_ms: u64,
}

impl WindowRange {
    /// A range after checking `0 < min_ms <= max_ms`.
    pub fn new(min_ms: u64, max_ms: u64) -> Result<Self> {
        if min_ms == 0 || min_ms > max_ms {
            return Err(Error::Config("window range must satisfy 0 < min <= max"));
        }
        Ok(WindowRange { min_ms, max_ms })
    }
}

/// Window ranges of the five kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalenessConfig {
    /// Anomaly scores.
    pub anomaly: WindowRange,
    /// Baselines.
    pub baseline: WindowRange,
    /// Detector confidences.
    pub confidence: WindowRange,
    /// Correlation matrices.
    pub correlation: WindowRange,
    /// Population statistics.
    pub population: WindowRange,
    /// Largest accepted clock skew: a timestamp further in the future is rejected.
    pub max_skew_ms: u64,
}

impl Default for StalenessConfig {
    fn default() -> Self {
        StalenessConfig {
            anomaly: WindowRange {
                min_ms: 500,
                max_ms: 1_500,
            },
            baseline: WindowRange {
                min_ms: 3_000,
                max_ms: 7_000,
            },
            confidence: WindowRange {
                min_ms: 2_000,
                max_ms: 8_000,
            },
            correlation: WindowRange {
                min_ms: 10_000,
                max_ms: 30_000,
            },
            population: WindowRange {
                min_ms: 15_000,
                max_ms: 45_000,
            },
            max_skew_ms: 250,
        }
    }
}

/// Why a timestamped record was not fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Older than its drawn window.
    Stale {
        /// Age at the check, in milliseconds.
        age_ms: u64,
        /// The window drawn for it.
        window_ms: u64,
    },
    /// Issued further in the future than the allowed skew.
    Future {
        /// How far ahead, in milliseconds.
        ahead_ms: u64,
    },
}

impl StalenessConfig {
    /// The range configured for `kind`.
    pub fn range(&self, kind: DataKind) -> WindowRange {
        match kind {
            DataKind::Anomaly => self.anomaly,
            DataKind::Baseline => self.baseline,
            DataKind::Confidence => self.confidence,
            DataKind::Correlation => self.correlation,
            DataKind::Population => self.population,
        }
    }

    /// Draws a window for one record of `kind`, uniformly from its range.
    pub fn draw<R: RngCore + CryptoRng>(&self, kind: DataKind, rng: &mut R) -> u64 {
        let r = self.range(kind);
        rng.gen_range(r.min_ms..=r.max_ms)
    }

    /// Checks a record issued at `issued_ms` against its drawn `window_ms` at `now_ms`.
    pub fn check(&self, issued_ms: u64, now_ms: u64, window_ms: u64) -> Result<(), Staleness> {
        if issued_ms > now_ms {
            let ahead_ms = issued_ms - now_ms;
            if ahead_ms > self.max_skew_ms {
                return Err(Staleness::Future { ahead_ms });
            }
            return Ok(());
        }
        let age_ms = now_ms - issued_ms;
        if age_ms > window_ms {
            return Err(Staleness::Stale { age_ms, window_ms });
        }
        Ok(())
    }
}

/// How badly a level's members are partitioned, from the sizes of the connected components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Partition {
    /// Everyone reaches everyone.
    Connected,
    /// The largest component holds at least 90% of the members.
    Minor,
    /// The largest component holds 50-90% and no other component holds 25%.
    Major,
    /// Two sides each hold at least 25% (the largest at least 50%).
    Split,
    /// No component holds half of the members.
    Severe,
}

impl Partition {
    /// Classifies `members` nodes split into components of the given sizes. Members missing
    /// from `components` (unreachable) count as isolated nodes.
    pub fn classify(components: &[usize], members: usize) -> Partition {
        if members == 0 {
            return Partition::Severe;
        }
        let mut sizes: Vec<usize> = components.iter().copied().filter(|s| *s > 0).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let largest = sizes.first().copied().unwrap_or(0).min(members);
        let second = sizes.get(1).copied().unwrap_or(0);
        if largest == members {
            return Partition::Connected;
        }
        // Integer comparisons: `largest / members >= p` as `100 largest >= p members`.
        let n = members as u128;
        let (l, s) = (largest as u128, second as u128);
        if 2 * l < n {
            Partition::Severe
        } else if 4 * s >= n {
            Partition::Split
        } else if 10 * l >= 9 * n {
            Partition::Minor
        } else {
            Partition::Major
        }
    }

    /// Lowercase name, as printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            Partition::Connected => "connected",
            Partition::Minor => "minor",
            Partition::Major => "major",
            Partition::Split => "split",
            Partition::Severe => "severe",
        }
    }
}

/// Quorum thresholds by partition class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuorumPolicy {
    /// Threshold when connected or minorly partitioned (default 0.75).
    pub base: f64,
    /// Threshold under major, split and severe partitions (default 0.90): an attacker who
    /// induces a partition must then hold even more of the reachable signers.
    pub raised: f64,
}

impl Default for QuorumPolicy {
    fn default() -> Self {
        QuorumPolicy {
            base: 0.75,
            raised: 0.90,
        }
    }
}

impl QuorumPolicy {
    /// The fraction of the level's members whose signatures finalise an output.
    pub fn threshold(&self, partition: Partition) -> f64 {
        match partition {
            Partition::Connected | Partition::Minor => self.base,
            Partition::Major | Partition::Split | Partition::Severe => self.raised,
        }
    }

    /// Minimum number of distinct signers out of `members`: `ceil(threshold * members)`.
    pub fn required(&self, partition: Partition, members: usize) -> usize {
        let t = self.threshold(partition);
        // Scale to integers to avoid 0.75 * 4 = 3.0000000004 style surprises.
        let per_mille = (t * 1000.0).round() as u128;
        let need = (per_mille * members as u128).div_ceil(1000);
        need as usize
    }
}

/// A baseline after the per-epoch movement bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounded {
    /// The baseline actually adopted.
    pub value: Vec<f64>,
    /// Coordinates whose proposed move was cut to the bound.
    pub clamped: Vec<usize>,
}

/// Moves `prev` towards `proposed` by at most `max_step[j]` per coordinate. A poisoner who
/// wins an epoch still moves the baseline only this far; many epochs of it are what drift
/// tracking and the synchronised-shift alarm look for.
pub fn bound_movement(prev: &[f64], proposed: &[f64], max_step: &[f64]) -> Result<Bounded> {
    if prev.len() != proposed.len() || prev.len() != max_step.len() {
        return Err(Error::Dimension {
            expected: prev.len(),
            got: proposed.len().min(max_step.len()),
        });
    }
    let mut value = Vec::with_capacity(prev.len());
    let mut clamped = Vec::new();
    for (j, ((p, q), m)) in prev.iter().zip(proposed).zip(max_step).enumerate() {
        if !(p.is_finite() && m.is_finite() && *m >= 0.0) {
            return Err(Error::OutOfRange("baseline or step not finite"));
        }
        if q.is_nan() {
            return Err(Error::OutOfRange("proposed baseline is nan"));
        }
        let step = (q - p).clamp(-m, *m);
        if (q - p).abs() > *m {
            clamped.push(j);
        }
        value.push(p + step);
    }
    Ok(Bounded { value, clamped })
}

/// Settings of the synchronised-shift alarm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncShiftConfig {
    /// A node "shifts" on a coordinate when its report departs from the epoch's median
    /// report by more than this many of the coordinate's noise units.
    pub threshold: f64,
    /// Alarm when at least this fraction of the reporting nodes shift in the same direction
    /// on the same coordinate in one epoch.
    pub min_fraction: f64,
    /// ... and at least this many nodes.
    pub min_nodes: usize,
}

impl Default for SyncShiftConfig {
    fn default() -> Self {
        // At 4 noise units an honest node departs by chance with probability ~3e-5 per side.
        SyncShiftConfig {
            threshold: 4.0,
            min_fraction: 0.1,
            min_nodes: 3,
        }
    }
}

/// A raised synchronised-shift alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncAlarm {
    /// The epoch it was raised in.
    pub epoch: u64,
    /// The coordinate the nodes moved on.
    pub coordinate: usize,
    /// +1 up, -1 down.
    pub direction: i8,
    /// The nodes that moved together, ascending.
    pub nodes: Vec<u32>,
}

/// Raises [`SyncAlarm`] when many nodes depart from the consensus together. One node off
/// by chance, or the whole fleet moving (a real change of behaviour moves the median too),
/// raises nothing; a group moving in step does, even when each of them stays under the
/// aggregation's per-node outlier bound.
#[derive(Debug, Clone)]
pub struct SyncShiftDetector {
    config: SyncShiftConfig,
    alarms: u64,
}

impl SyncShiftDetector {
    /// A detector.
    pub fn new(config: SyncShiftConfig) -> Self {
        SyncShiftDetector { config, alarms: 0 }
    }

    /// Alarms raised so far.
    pub fn alarms(&self) -> u64 {
        self.alarms
    }

    /// Feeds one epoch's reports `(node, vector)` with each coordinate's noise unit (e.g. the
    /// standard error of a node's mean). Reports of the wrong dimension are ignored. Returns
    /// the strongest alarm, if any.
    pub fn observe(
        &mut self,
        epoch: u64,
        reports: &[(u32, Vec<f64>)],
        noise_unit: &[f64],
    ) -> Option<SyncAlarm> {
        let dim = noise_unit.len();
        let valid: Vec<&(u32, Vec<f64>)> = reports
            .iter()
            .filter(|(_, v)| v.len() == dim && v.iter().all(|x| x.is_finite()))
            .collect();
        let need = ((self.config.min_fraction * valid.len() as f64).ceil() as usize)
            .max(self.config.min_nodes)
            .max(1);
        let mut best: Option<SyncAlarm> = None;
        for (j, unit) in noise_unit.iter().enumerate() {
            if unit.is_nan() || *unit <= 0.0 || valid.is_empty() {
                continue;
            }
            let mut col: Vec<f64> = valid.iter().map(|(_, v)| v[j]).collect();
            col.sort_unstable_by(f64::total_cmp);
            let median = col[(col.len() - 1) / 2];
            let (mut up, mut down) = (Vec::new(), Vec::new());
            for (node, v) in &valid {
                let z = (v[j] - median) / unit;
                if z > self.config.threshold {
                    up.push(*node);
                } else if z < -self.config.threshold {
                    down.push(*node);
                }
            }
            for (dir, mut nodes) in [(1i8, up), (-1i8, down)] {
                let beats = best.as_ref().is_none_or(|b| nodes.len() > b.nodes.len());
                if nodes.len() >= need && beats {
                    nodes.sort_unstable();
                    best = Some(SyncAlarm {
                        epoch,
                        coordinate: j,
                        direction: dir,
                        nodes,
                    });
                }
            }
        }
        if best.is_some() {
            self.alarms += 1;
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn windows_are_drawn_inside_their_ranges_and_vary() {
        let cfg = StalenessConfig::default();
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for kind in DataKind::ALL {
            let r = cfg.range(kind);
            let draws: Vec<u64> = (0..200).map(|_| cfg.draw(kind, &mut rng)).collect();
            assert!(draws.iter().all(|d| (r.min_ms..=r.max_ms).contains(d)));
            let distinct: std::collections::BTreeSet<_> = draws.iter().collect();
            assert!(distinct.len() > 50, "{kind:?} windows barely vary");
        }
        assert_eq!(cfg.anomaly, WindowRange::new(500, 1500).unwrap());
        assert_eq!(cfg.population, WindowRange::new(15_000, 45_000).unwrap());
    }

    #[test]
    fn freshness_check() {
        let cfg = StalenessConfig::default();
        assert!(cfg.check(1_000, 1_900, 1_000).is_ok());
        assert_eq!(
            cfg.check(1_000, 2_100, 1_000),
            Err(Staleness::Stale {
                age_ms: 1_100,
                window_ms: 1_000
            })
        );
        assert!(cfg.check(1_200, 1_000, 1_000).is_ok());
        assert_eq!(
            cfg.check(2_000, 1_000, 1_000),
            Err(Staleness::Future { ahead_ms: 1_000 })
        );
    }

    #[test]
    fn partition_classes() {
        assert_eq!(Partition::classify(&[100], 100), Partition::Connected);
        assert_eq!(Partition::classify(&[95, 5], 100), Partition::Minor);
        assert_eq!(Partition::classify(&[92], 100), Partition::Minor);
        assert_eq!(Partition::classify(&[80, 10, 10], 100), Partition::Major);
        assert_eq!(Partition::classify(&[60, 40], 100), Partition::Split);
        assert_eq!(Partition::classify(&[50, 25, 25], 100), Partition::Split);
        assert_eq!(Partition::classify(&[40, 30, 30], 100), Partition::Severe);
        assert_eq!(Partition::classify(&[], 10), Partition::Severe);
    }

    #[test]
    fn quorum_is_raised_under_bad_partitions() {
        let q = QuorumPolicy::default();
        assert_eq!(q.required(Partition::Connected, 64), 48);
        assert_eq!(q.required(Partition::Minor, 4), 3);
        assert_eq!(q.required(Partition::Major, 64), 58);
        assert_eq!(q.required(Partition::Severe, 10), 9);
    }

    #[test]
    fn movement_is_bounded() {
        let b = bound_movement(&[0.0, 1.0], &[5.0, 1.01], &[0.1, 0.1]).unwrap();
        assert_eq!(b.value, vec![0.1, 1.01]);
        assert_eq!(b.clamped, vec![0]);
        assert!(bound_movement(&[0.0], &[f64::NAN], &[0.1]).is_err());
    }

    #[test]
    fn synchronised_shift_raises_alarm_and_noise_does_not() {
        let mut d = SyncShiftDetector::new(SyncShiftConfig::default());
        // Honest jitter within a unit, and one lone outlier: no alarm.
        let mut jitter: Vec<(u32, Vec<f64>)> = (0..20)
            .map(|n| (n, vec![f64::from(n % 3) - 1.0, 0.5]))
            .collect();
        jitter[7].1[0] = 30.0;
        assert_eq!(d.observe(1, &jitter, &[1.0, 1.0]), None);
        // The whole fleet moving together moves the median: no alarm.
        let moved: Vec<(u32, Vec<f64>)> = jitter
            .iter()
            .map(|(n, v)| (*n, vec![v[0] + 10.0, v[1] + 10.0]))
            .collect();
        assert_eq!(d.observe(2, &moved, &[1.0, 1.0]), None);
        // Five nodes jump together on coordinate 1.
        let mut shifted = jitter.clone();
        for r in shifted.iter_mut().take(5) {
            r.1[1] += 10.0;
        }
        let alarm = d.observe(3, &shifted, &[1.0, 1.0]).unwrap();
        assert_eq!((alarm.coordinate, alarm.direction), (1, 1));
        assert_eq!(alarm.nodes, vec![0, 1, 2, 3, 4]);
        assert_eq!(d.alarms(), 1);
        // Malformed reports are ignored, never a panic.
        let bad = vec![(1, vec![f64::NAN, 0.0]), (2, vec![1.0])];
        assert_eq!(d.observe(4, &bad, &[1.0, 1.0]), None);
        assert_eq!(d.observe(5, &[], &[]), None);
    }
}
