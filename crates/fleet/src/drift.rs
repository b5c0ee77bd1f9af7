//! Per-node drift tracking against consensus across epochs.
//!
//! Each epoch, every child's mean is standardised against its committee's robust consensus:
//! `z_j = (m_j - median_j) / (1.4826 MAD_j)`, clipped to `+-z_clip` so one wild epoch cannot
//! dominate. The tracker keeps, per node, the running sums `S_j = sum_t z_j(t)` and the
//! all-coordinate sum `U = sum_t sum_j z_j(t) / sqrt(d)`. An honest node's sums wander like a
//! random walk (spread `~ sqrt(t)`); a sleeper that is always a little off in one direction
//! grows linearly (`~ delta t`), however small each epoch's deviation.
//!
//! The test is relative to the node's level: each sum is standardised by the median and scaled
//! MAD of the same sum over all tracked nodes of that level, and a node is flagged when that
//! exceeds `threshold` (default 6.5). Standardising against the level, not against a model,
//! absorbs the common offset that contamination gives every honest node (when a quarter of a
//! committee pulls the median up, every honest member looks a little low, consistently) and
//! any miscalibration of the per-epoch scale. With the default, an honest node's chance of a
//! flag per test is about `8e-11` under normality, small enough for 10^6 agents' nodes times
//! 17 statistics times tens of epochs; the price is that a sleeper needs roughly
//! `(threshold / delta)^2` epochs for a per-coordinate shift of `delta` standard deviations
//! (and `d` times fewer when it shifts all `d` coordinates together).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::merge::median;
use crate::record::NodeId;

/// Parameters of the drift tracker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftConfig {
    /// Flag when a node's standardised sum exceeds this (default 6.5).
    pub threshold: f64,
    /// Per-epoch clip of each z-score (default 8).
    pub z_clip: f64,
    /// Levels with fewer tracked nodes are not tested (default 32): a median and MAD of a
    /// handful of sums would flag honest nodes.
    pub min_population: usize,
    /// A node is tested only after this many observed epochs (default 3).
    pub min_epochs: u32,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            threshold: 6.5,
            z_clip: 8.0,
            min_population: 32,
            min_epochs: 3,
        }
    }
}

#[derive(Debug, Clone)]
struct Track {
    level: u8,
    epochs: u32,
    sums: Vec<f64>,
    combined: f64,
}

/// One drift flag.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftFlag {
    /// The flagged node.
    pub node: NodeId,
    /// Its level.
    pub level: u8,
    /// The coordinate whose sum crossed the threshold, or `None` for the all-coordinate sum.
    pub coord: Option<u16>,
    /// The standardised sum (signed: the direction of the drift).
    pub statistic: f64,
    /// The threshold it crossed.
    pub bound: f64,
}

/// Drift state for every node of a fleet.
#[derive(Debug, Clone)]
pub struct DriftTracker {
    cfg: DriftConfig,
    dim: usize,
    tracks: BTreeMap<NodeId, Track>,
}

impl DriftTracker {
    /// A tracker for `dim`-dimensional means.
    pub fn new(dim: usize, cfg: DriftConfig) -> Result<Self> {
        if !(cfg.threshold > 0.0 && cfg.z_clip > 0.0) {
            return Err(Error::Config("drift threshold and clip must be > 0"));
        }
        Ok(DriftTracker {
            cfg,
            dim,
            tracks: BTreeMap::new(),
        })
    }

    /// Records one epoch of `node` (at `level`): its mean against its committee's robust
    /// `center` and `scale` (as returned by the robust merge, widened by the node's
    /// [`crate::spread_factor`]).
    pub fn observe(
        &mut self,
        node: NodeId,
        level: u8,
        mean: &[f64],
        center: &[f64],
        scale: &[f64],
    ) -> Result<()> {
        let dim = self.dim;
        if mean.len() != dim || center.len() != dim || scale.len() != dim {
            return Err(Error::Dimension {
                expected: dim,
                got: mean.len().min(center.len()).min(scale.len()),
            });
        }
        let clip = self.cfg.z_clip;
        let t = self.tracks.entry(node).or_insert_with(|| Track {
            level,
            epochs: 0,
            sums: vec![0.0; dim],
            combined: 0.0,
        });
        let mut total = 0.0;
        for j in 0..dim {
            let z = if scale[j] > 0.0 {
                ((mean[j] - center[j]) / scale[j]).clamp(-clip, clip)
            } else {
                0.0
            };
            // NaN (from a hostile mean) counts as the largest deviation, not as none.
            let z = if z.is_nan() { clip } else { z };
            t.sums[j] += z;
            total += z;
        }
        t.combined += total / (dim.max(1) as f64).sqrt();
        t.epochs += 1;
        Ok(())
    }

    /// Tests every tracked node against its level; returns the flags, one per node (its
    /// largest statistic), in node order.
    pub fn evaluate(&self) -> Vec<DriftFlag> {
        let mut by_level: BTreeMap<u8, Vec<(&NodeId, &Track)>> = BTreeMap::new();
        for (n, t) in &self.tracks {
            if t.epochs >= self.cfg.min_epochs {
                by_level.entry(t.level).or_default().push((n, t));
            }
        }
        let mut best: BTreeMap<NodeId, DriftFlag> = BTreeMap::new();
        let mut column = Vec::new();
        for (level, nodes) in by_level {
            if nodes.len() < self.cfg.min_population {
                continue;
            }
            for stat in 0..=self.dim {
                let value = |t: &Track| {
                    if stat == self.dim {
                        t.combined
                    } else {
                        t.sums[stat]
                    }
                };
                column.clear();
                column.extend(nodes.iter().map(|(_, t)| value(t)));
                let med = median(&mut column);
                for v in column.iter_mut() {
                    *v = (*v - med).abs();
                }
                let scale = (1.4826 * median(&mut column)).max(1e-9);
                for (n, t) in &nodes {
                    let s = (value(t) - med) / scale;
                    if s.abs() > self.cfg.threshold
                        && best.get(n).is_none_or(|f| s.abs() > f.statistic.abs())
                    {
                        best.insert(
                            **n,
                            DriftFlag {
                                node: **n,
                                level,
                                coord: (stat < self.dim).then_some(stat as u16),
                                statistic: s,
                                bound: self.cfg.threshold,
                            },
                        );
                    }
                }
            }
        }
        best.into_values().collect()
    }

    /// Epochs observed for `node`.
    pub fn epochs(&self, node: NodeId) -> u32 {
        self.tracks.get(&node).map_or(0, |t| t.epochs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stand-in for N(0,1) noise (sum of 12 uniform LCG draws minus 6).
    fn noise(state: &mut u64) -> f64 {
        let mut s = 0.0;
        for _ in 0..12 {
            *state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s += (*state >> 11) as f64 / (1u64 << 53) as f64;
        }
        s - 6.0
    }

    #[test]
    fn flags_a_small_consistent_drift_not_the_honest() {
        let dim = 4;
        let mut tr = DriftTracker::new(dim, DriftConfig::default()).unwrap();
        let mut st = 7u64;
        let (center, scale) = (vec![0.0; dim], vec![1.0; dim]);
        for epoch in 0..20 {
            for n in 0..200u64 {
                // Nodes 0..10 drift by 2 sd on every coordinate after epoch 5.
                let shift = if n < 10 && epoch >= 5 { 2.0 } else { 0.0 };
                let m: Vec<f64> = (0..dim).map(|_| noise(&mut st) + shift).collect();
                tr.observe(NodeId(n), 0, &m, &center, &scale).unwrap();
            }
        }
        let flags = tr.evaluate();
        let flagged: Vec<u64> = flags.iter().map(|f| f.node.0).collect();
        assert_eq!(flagged, (0..10).collect::<Vec<_>>(), "{flags:?}");
        assert!(flags.iter().all(|f| f.statistic > 0.0));
    }

    #[test]
    fn small_levels_are_not_tested() {
        let mut tr = DriftTracker::new(1, DriftConfig::default()).unwrap();
        for _ in 0..10 {
            for n in 0..5 {
                let m = [if n == 0 { 5.0 } else { 0.0 }];
                tr.observe(NodeId(n), 2, &m, &[0.0], &[1.0]).unwrap();
            }
        }
        assert!(tr.evaluate().is_empty());
        assert!(
            tr.observe(NodeId(0), 2, &[0.0, 1.0], &[0.0], &[1.0])
                .is_err()
        );
    }
}
