//! The robust merge: how a parent combines its children's statistics when some children lie.
//!
//! Steps, in order (each is deterministic, so any holder of the signed children can recompute
//! the parent's output bit for bit):
//! 1. Drop malformed children (wrong dimension, no data) and quarantined ones.
//! 2. Robust bounds per coordinate over the children's means: the median and the scaled median
//!    absolute deviation (`1.4826 MAD`, a consistent estimate of the standard deviation under
//!    normality), floored at the median of the children's own standard errors. A child more than `outlier_k` such deviations away on any coordinate is
//!    rejected. A child whose variance on any coordinate is more than `variance_ratio` times
//!    above or below the median variance is rejected (deflated variance is how a liar makes
//!    its false mean look precise).
//! 3. Counts are capped at `count_cap` times the median count (inflated counts buy weight).
//! 4. The output mean is, per coordinate, the trimmed mean (`per_side` of the accepted children
//!    cut from each end) or the median of the accepted children's means.
//! 5. The output co-moment is the Chan merge of the accepted children around that robust
//!    centre, with capped weights: `sum_i (w_i / n_i) M_i + w_i (m_i - c)(m_i - c)^T`.
//!
//! Every rejection and every cap is returned as a [`Finding`] (who, what, by how much), which
//! the caller signs as evidence.

use crate::error::{Error, Result};
use crate::record::{EvidenceKind, NodeId};
use crate::stats::Moments;

/// How the centre of the accepted children's means is estimated, per coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimator {
    /// Drop `per_side` (a fraction in `[0, 0.5)`) of the values from each end, average the rest.
    Trimmed {
        /// Fraction cut from each end.
        per_side: f64,
    },
    /// The median.
    Median,
}

/// Parameters of the robust merge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustConfig {
    /// The centre estimator (default: trimmed mean, 25% per side).
    pub estimator: Estimator,
    /// Cap on a child's count, as a multiple of the median count (default 2).
    pub count_cap: f64,
    /// Rejection bound on a child's mean, in scaled MADs from the median (default 5).
    pub outlier_k: f64,
    /// Rejection bound on a child's variance relative to the median variance (default 4: a
    /// variance below a quarter or above four times the median is rejected).
    pub variance_ratio: f64,
    /// Robust bounds are only applied with at least this many children (default 4); below it a
    /// median and MAD mean too little.
    pub min_children: usize,
}

impl Default for RobustConfig {
    fn default() -> Self {
        RobustConfig {
            estimator: Estimator::Trimmed { per_side: 0.25 },
            count_cap: 2.0,
            outlier_k: 5.0,
            variance_ratio: 4.0,
            min_children: 4,
        }
    }
}

impl RobustConfig {
    /// Checks the parameters are in their domains.
    pub fn validate(&self) -> Result<()> {
        if let Estimator::Trimmed { per_side } = self.estimator
            && !(0.0..0.5).contains(&per_side)
        {
            return Err(Error::Config("trim fraction must be in [0, 0.5)"));
        }
        if !(self.count_cap >= 1.0 && self.count_cap.is_finite()) {
            return Err(Error::Config("count cap must be >= 1"));
        }
        if !(self.outlier_k > 0.0 && self.outlier_k.is_finite()) {
            return Err(Error::Config("outlier bound must be > 0"));
        }
        if !(self.variance_ratio > 1.0 && self.variance_ratio.is_finite()) {
            return Err(Error::Config("variance ratio must be > 1"));
        }
        Ok(())
    }
}

/// One child's statistic as input to the merge.
#[derive(Debug, Clone, Copy)]
pub struct Child<'a> {
    /// The child.
    pub node: NodeId,
    /// Its published statistic.
    pub moments: &'a Moments,
}

/// One finding of the merge against one child.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The child.
    pub subject: NodeId,
    /// What was found.
    pub kind: EvidenceKind,
    /// The coordinate concerned, if any.
    pub coord: Option<u16>,
    /// How much (robust z-score, variance ratio, or the reported count).
    pub value: f64,
    /// The bound it was compared with.
    pub bound: f64,
    /// Whether the child was left out of the output (caps keep the child, with less weight).
    pub rejected: bool,
}

/// What the merge produced.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeOutcome {
    /// The merged statistic.
    pub output: Moments,
    /// Per-coordinate median of the (well-formed, non-quarantined) children's means.
    pub center: Vec<f64>,
    /// Per-coordinate robust spread of those means (`1.4826 MAD`, floored at the median of the
    /// children's standard errors); empty when there were fewer than `min_children` children.
    pub scale: Vec<f64>,
    /// Findings against children, in child order.
    pub findings: Vec<Finding>,
    /// How many children went into the output.
    pub accepted: usize,
    /// The median count of the well-formed children (see [`spread_factor`]).
    pub median_count: f64,
}

/// How much wider than the committee's spread a child's mean may honestly vary: a child over
/// fewer vectors than the median child has a noisier mean, by `sqrt(median / count)`. Clamped
/// to `[1, 4]`, so a child cannot buy an arbitrarily wide tolerance by under-reporting.
pub fn spread_factor(count: u64, median_count: f64) -> f64 {
    (median_count / (count.max(1) as f64))
        .sqrt()
        .clamp(1.0, 4.0)
}

/// The median of `v` (sorted in place); 0 for an empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The robust spread of `v` around `center`: `1.4826 * median |v - center|`.
pub fn scaled_mad(v: &[f64], center: f64) -> f64 {
    let mut dev: Vec<f64> = v.iter().map(|x| (x - center).abs()).collect();
    1.4826 * median(&mut dev)
}

fn center_of(values: &mut [f64], estimator: Estimator) -> f64 {
    match estimator {
        Estimator::Median => median(values),
        Estimator::Trimmed { per_side } => {
            values.sort_unstable_by(f64::total_cmp);
            let n = values.len();
            let cut = ((n as f64) * per_side).floor() as usize;
            let kept = &values[cut.min(n / 2)..n - cut.min(n / 2)];
            if kept.is_empty() {
                return median(values);
            }
            kept.iter().sum::<f64>() / kept.len() as f64
        }
    }
}

/// Merges `children` robustly, leaving out those in `quarantined`.
pub fn robust_merge(
    dim: usize,
    children: &[Child<'_>],
    quarantined: &[NodeId],
    cfg: &RobustConfig,
) -> Result<MergeOutcome> {
    cfg.validate()?;
    let mut findings = Vec::new();
    // Step 1: well-formed, non-quarantined children.
    let mut live: Vec<&Child<'_>> = Vec::with_capacity(children.len());
    for c in children {
        if quarantined.contains(&c.node) {
            continue;
        }
        if c.moments.dim() != dim || c.moments.count() == 0 {
            findings.push(Finding {
                subject: c.node,
                kind: EvidenceKind::Malformed,
                coord: None,
                value: c.moments.dim() as f64,
                bound: dim as f64,
                rejected: true,
            });
            continue;
        }
        live.push(c);
    }
    if live.is_empty() {
        return Err(Error::NothingAccepted);
    }
    // Step 2: robust bounds.
    let n = live.len();
    let mut counts: Vec<f64> = live.iter().map(|c| c.moments.count() as f64).collect();
    let median_count = median(&mut counts);
    let factors: Vec<f64> = live
        .iter()
        .map(|c| spread_factor(c.moments.count(), median_count))
        .collect();
    let mut center = vec![0.0; dim];
    let mut scale = Vec::new();
    let mut column = vec![0.0; n];
    let mut rejected = vec![false; n];
    let bounded = n >= cfg.min_children;
    if bounded {
        scale = vec![0.0; dim];
    }
    for j in 0..dim {
        for (slot, c) in column.iter_mut().zip(&live) {
            *slot = c.moments.mean()[j];
        }
        let med = median(&mut column.clone());
        center[j] = med;
        if !bounded {
            continue;
        }
        // The MAD of a handful of children is itself noisy (with five, it can be tiny by
        // chance), so the scale never goes below the median of the children's own standard
        // errors `sqrt(var / n)`: the spread sampling alone gives honest children. A median,
        // so liars deflating their variance cannot pull it down. A last floor keeps a
        // degenerate (all-equal) column from rejecting every rounding error.
        let mut se: Vec<f64> = live
            .iter()
            .map(|c| (c.moments.variance(j) / c.moments.count() as f64).sqrt())
            .collect();
        let s = scaled_mad(&column, med)
            .max(median(&mut se))
            .max(1e-12 * (1.0 + med.abs()));
        scale[j] = s;
    }
    if bounded {
        let mut var_col = vec![0.0; n];
        let mut var_med = vec![0.0; dim];
        for (j, vm) in var_med.iter_mut().enumerate() {
            for (slot, c) in var_col.iter_mut().zip(&live) {
                *slot = c.moments.variance(j);
            }
            *vm = median(&mut var_col);
        }
        for (i, c) in live.iter().enumerate() {
            // The worst coordinate is what the evidence names.
            let mut worst: Option<(usize, f64)> = None;
            for j in 0..dim {
                let z = (c.moments.mean()[j] - center[j]) / (scale[j] * factors[i]);
                if z.abs() > cfg.outlier_k && worst.is_none_or(|(_, w)| z.abs() > w.abs()) {
                    worst = Some((j, z));
                }
            }
            if let Some((j, z)) = worst {
                rejected[i] = true;
                findings.push(Finding {
                    subject: c.node,
                    kind: EvidenceKind::MeanOutlier,
                    coord: u16::try_from(j).ok(),
                    value: z,
                    bound: cfg.outlier_k * factors[i],
                    rejected: true,
                });
                continue;
            }
            if c.moments.count() < 2 {
                continue;
            }
            // A variance over fewer vectors is noisier (its log has spread ~ sqrt(2/(n-1))),
            // so the bound widens with the same factor, and is never tighter than six such
            // spreads (children over a handful of vectors).
            let n_i = c.moments.count() as f64;
            let log_bound =
                (cfg.variance_ratio.ln() * factors[i]).max(6.0 * (2.0 / (n_i - 1.0)).sqrt());
            let mut worst: Option<(usize, f64)> = None;
            for (j, vm) in var_med.iter().enumerate() {
                if *vm <= 0.0 {
                    continue;
                }
                let ratio = c.moments.variance(j) / vm;
                let off = ratio.max(f64::MIN_POSITIVE).ln().abs();
                if off > log_bound
                    && worst.is_none_or(|(_, w)| off > w.max(f64::MIN_POSITIVE).ln().abs())
                {
                    worst = Some((j, ratio));
                }
            }
            if let Some((j, ratio)) = worst {
                rejected[i] = true;
                findings.push(Finding {
                    subject: c.node,
                    kind: EvidenceKind::VarianceOutlier,
                    coord: u16::try_from(j).ok(),
                    value: ratio,
                    bound: log_bound.exp(),
                    rejected: true,
                });
            }
        }
    }
    // Step 3: count caps, relative to the median count of the live children.
    let cap = (cfg.count_cap * median_count).ceil().max(1.0);
    let mut weights = vec![0.0; n];
    for (i, c) in live.iter().enumerate() {
        let reported = c.moments.count() as f64;
        weights[i] = reported.min(cap);
        if reported > cap && !rejected[i] {
            findings.push(Finding {
                subject: c.node,
                kind: EvidenceKind::CountCapped,
                coord: None,
                value: reported,
                bound: cap,
                rejected: false,
            });
        }
    }
    let accepted: Vec<usize> = (0..n).filter(|&i| !rejected[i]).collect();
    if accepted.is_empty() {
        return Err(Error::NothingAccepted);
    }
    // Step 4: the robust centre of the accepted children.
    let mut mean = vec![0.0; dim];
    let mut col: Vec<f64> = Vec::with_capacity(accepted.len());
    for (j, m) in mean.iter_mut().enumerate() {
        col.clear();
        col.extend(accepted.iter().map(|&i| live[i].moments.mean()[j]));
        *m = center_of(&mut col, cfg.estimator);
    }
    // Step 5: Chan merge around the robust centre with capped weights (upper triangle, then
    // mirrored by `from_raw`).
    let mut comoment = vec![0.0; dim * dim];
    let mut total = 0u64;
    let mut dev = vec![0.0; dim];
    for &i in &accepted {
        let c = live[i].moments;
        let w = weights[i];
        let shrink = w / c.count() as f64;
        total += w as u64;
        for ((d, x), m) in dev.iter_mut().zip(c.mean()).zip(&mean) {
            *d = x - m;
        }
        let cm = c.comoment();
        for a in 0..dim {
            let wa = w * dev[a];
            for b in a..dim {
                comoment[a * dim + b] += shrink * cm[a * dim + b] + wa * dev[b];
            }
        }
    }
    Ok(MergeOutcome {
        output: Moments::from_raw(total, mean, comoment),
        center,
        scale,
        findings,
        accepted: accepted.len(),
        median_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(mean: &[f64], n: usize) -> Moments {
        // n points at mean +- 1 on every coordinate: variance n/(n-1).
        let dim = mean.len();
        let mut rows = Vec::new();
        for k in 0..n {
            let s = if k % 2 == 0 { 1.0 } else { -1.0 };
            rows.extend(mean.iter().map(|m| m + s));
        }
        let _ = dim;
        Moments::from_rows(&rows, mean.len()).unwrap()
    }

    #[test]
    fn rejects_shifted_deflated_and_caps_inflated() {
        let mut ms: Vec<Moments> = (0..12)
            .map(|i| child(&[0.01 * f64::from(i), 0.0], 64))
            .collect();
        ms.push(child(&[50.0, 0.0], 64)); // shifted mean
        let flat_rows: Vec<f64> = (0..65)
            .flat_map(|i| [0.05 + 1e-3 * f64::from(i % 2), 0.0])
            .collect();
        let flat = Moments::from_rows(&flat_rows, 2).unwrap();
        ms.push(flat); // deflated variance
        ms.push(child(&[0.03, 0.0], 640)); // inflated count
        let children: Vec<Child<'_>> = ms
            .iter()
            .enumerate()
            .map(|(i, m)| Child {
                node: NodeId(i as u64),
                moments: m,
            })
            .collect();
        let out = robust_merge(2, &children, &[], &RobustConfig::default()).unwrap();
        let kinds: Vec<(u64, EvidenceKind)> =
            out.findings.iter().map(|f| (f.subject.0, f.kind)).collect();
        assert!(
            kinds.contains(&(12, EvidenceKind::MeanOutlier)),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(13, EvidenceKind::VarianceOutlier)),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(14, EvidenceKind::CountCapped)),
            "{kinds:?}"
        );
        assert_eq!(out.accepted, 13);
        assert!(out.output.mean()[0].abs() < 0.2);
        assert_eq!(out.output.count(), 12 * 64 + 128);
        assert_eq!(out.findings.len(), 3);
    }

    #[test]
    fn quarantine_and_determinism() {
        let ms: Vec<Moments> = (0..8).map(|i| child(&[f64::from(i)], 10)).collect();
        let children: Vec<Child<'_>> = ms
            .iter()
            .enumerate()
            .map(|(i, m)| Child {
                node: NodeId(i as u64),
                moments: m,
            })
            .collect();
        let cfg = RobustConfig::default();
        let a = robust_merge(1, &children, &[NodeId(7)], &cfg).unwrap();
        let b = robust_merge(1, &children, &[NodeId(7)], &cfg).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.accepted, 7);
        assert!(robust_merge(1, &children[..0], &[], &cfg).is_err());
    }

    #[test]
    fn trimmed_mean_and_median() {
        let mut v = vec![5.0, 1.0, 2.0, 3.0, 100.0, 4.0, 0.0, -50.0];
        assert_eq!(
            center_of(&mut v.clone(), Estimator::Trimmed { per_side: 0.25 }),
            2.5
        );
        assert_eq!(center_of(&mut v, Estimator::Median), 2.5);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    }
}
