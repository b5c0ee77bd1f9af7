//! The simulated world: the honest agents' known distribution, seeded randomness, placement of
//! Byzantine nodes, the bias bound, and the process's peak memory.

use toolcap_crypto::{SigningKey, sha3_256};
use toolcap_fleet::{Estimator, Threshold, Topology};

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator for the agents'
/// feature vectors. Not for keys: keys come from SHA3-256 of the seed (see [`node_key`]).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(parts: &[u64]) -> Self {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        for p in parts {
            s = SplitMix(s ^ p).next_u64();
        }
        SplitMix(s)
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `(-1, 1)`.
    fn signed_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
    }
    /// Fills `out` with standard normal draws (Marsaglia's polar method).
    pub(crate) fn normals(&mut self, out: &mut [f64]) {
        let mut i = 0;
        while i < out.len() {
            let (u, v) = (self.signed_unit(), self.signed_unit());
            let s = u * u + v * v;
            if s >= 1.0 || s == 0.0 {
                continue;
            }
            let f = (-2.0 * s.ln() / s).sqrt();
            out[i] = u * f;
            if i + 1 < out.len() {
                out[i + 1] = v * f;
            }
            i += 2;
        }
    }
}

/// The honest agents' distribution: independent normal coordinates with mean `mu[j] = 0.1 j`
/// and standard deviation `sigma[j] = 1 + 0.05 j`.
#[derive(Debug, Clone)]
pub(crate) struct Truth {
    pub(crate) mu: Vec<f64>,
    pub(crate) sigma: Vec<f64>,
}

impl Truth {
    pub(crate) fn new(dim: usize) -> Self {
        Truth {
            mu: (0..dim).map(|j| 0.1 * j as f64).collect(),
            sigma: (0..dim).map(|j| 1.0 + 0.05 * j as f64).collect(),
        }
    }
}

/// Node `node`'s signing key, derived from the run's seed. Each simulated node holds its own;
/// the rest of the fleet only ever sees the verifying keys.
pub(crate) fn node_key(seed: u64, node: u64) -> SigningKey {
    let mut input = Vec::with_capacity(40);
    input.extend_from_slice(b"toolcap/sim/node-key/v1");
    input.extend_from_slice(&seed.to_be_bytes());
    input.extend_from_slice(&node.to_be_bytes());
    SigningKey::from_seed(&sha3_256(&input).0)
}

/// How many of a committee of `n` members are Byzantine at fraction `f`: `round(f n)`, except
/// that a run within the fault bound stays within it in every committee (so 25% of a committee
/// of 10 is 2, not 3). Above the bound the rounding is plain, so 26% of 64 is 17.
pub(crate) fn byzantine_in(n: usize, f: f64, threshold: Threshold) -> usize {
    let b = (f * n as f64).round() as usize;
    let bound = 1.0 - threshold.fraction();
    if f <= bound + 1e-12 {
        b.min(threshold.tolerated(n))
    } else {
        b.min(n)
    }
}

/// Marks the Byzantine nodes of every committee (the children of each aggregator, and the
/// global node as a committee of one), choosing members by a seeded shuffle.
pub(crate) fn place_byzantine(
    topo: &Topology,
    f: f64,
    threshold: Threshold,
    seed: u64,
) -> Vec<bool> {
    let mut out = vec![false; topo.nodes() as usize];
    let mut rng = SplitMix::new(&[seed, 0xb12a]);
    for level in 1..=topo.top() {
        for k in 0..topo.size(level) {
            let mut committee = topo.committee(level, k);
            let b = byzantine_in(committee.len(), f, threshold);
            // Fisher-Yates on the first b slots.
            for i in 0..b {
                let j = i + (rng.next_u64() % (committee.len() - i) as u64) as usize;
                committee.swap(i, j);
                out[committee[i].0 as usize] = true;
            }
        }
    }
    let root = topo.root().0 as usize;
    out[root] = byzantine_in(1, f, threshold) == 1;
    out
}

/// Standard normal density.
fn phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).
pub(crate) fn quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549671010229583,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let lo = 0.02425;
    if p < lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - lo {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -quantile(1.0 - p)
    }
}

/// The worst-case shift, in standard deviations of one honest child, that a fraction `eps` of
/// contaminating children can give the estimator (see `docs/fleet-protocol.md`, "Bias bound").
pub(crate) fn shift_coefficient(estimator: Estimator, eps: f64) -> f64 {
    match estimator {
        // The median moves to the honest 1/(2(1-eps)) quantile.
        Estimator::Median => quantile(0.5 / (1.0 - eps)),
        // All contaminants sit above the kept range: the kept honest values are the honest
        // quantiles [a/(1-eps), (1-a)/(1-eps)], whose mean is a truncated-normal mean.
        Estimator::Trimmed { per_side } => {
            let lo = (per_side / (1.0 - eps)).min(1.0);
            let hi = ((1.0 - per_side) / (1.0 - eps)).min(1.0);
            if hi <= lo {
                return quantile(0.5 / (1.0 - eps));
            }
            let za = quantile(lo);
            let zb = if hi >= 1.0 {
                f64::INFINITY
            } else {
                quantile(hi)
            };
            let pb = if zb.is_infinite() { 0.0 } else { phi(zb) };
            (phi(za) - pb) / (hi - lo)
        }
    }
}

/// Efficiency loss of one robust level: the trimmed mean's spread relative to the mean's
/// (`1/sqrt(0.83)` for 25% trimming of normal data; the median's is `sqrt(pi/2)`).
fn spread_factor(estimator: Estimator) -> f64 {
    match estimator {
        Estimator::Median => (std::f64::consts::PI / 2.0).sqrt(),
        Estimator::Trimmed { .. } => 1.1,
    }
}

/// The documented bias bound, in honest standard deviations, for a finalized epoch:
/// `sum over aggregating levels l of c(eps) * r^(l-1) / sqrt(m_l)  +  4 r^L / sqrt(N)`, with
/// `eps` the fault bound `1 - threshold`, `m_l` the mean number of agents under one child of a
/// level-`l` aggregator, `r` the spread factor of one robust level, `L` the number of
/// aggregating levels and `N` the number of agents.
pub(crate) fn bias_bound(topo: &Topology, estimator: Estimator, threshold: Threshold) -> f64 {
    let eps = 1.0 - threshold.fraction();
    let c = shift_coefficient(estimator, eps);
    let r = spread_factor(estimator);
    let n = topo.agents() as f64;
    let mut bound = 0.0;
    for level in 1..=topo.top() {
        let m = n / topo.size(level - 1) as f64;
        bound += c * r.powi(i32::from(level) - 1) / m.sqrt();
    }
    bound + 4.0 * r.powi(i32::from(topo.top())) / n.sqrt()
}

/// The process's peak resident set size (`VmHWM` in `/proc/self/status`), if readable.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_have_unit_moments() {
        let mut r = SplitMix::new(&[1, 2]);
        let mut v = vec![0.0; 200_001];
        r.normals(&mut v);
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(m.abs() < 0.01 && (var - 1.0).abs() < 0.01, "{m} {var}");
    }

    #[test]
    fn coefficients_and_bound() {
        assert!((quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((quantile(0.5)).abs() < 1e-12);
        let t = shift_coefficient(Estimator::Trimmed { per_side: 0.25 }, 0.25);
        assert!((t - 0.5453).abs() < 1e-3, "{t}");
        let m = shift_coefficient(Estimator::Median, 0.25);
        assert!((m - 0.4307).abs() < 1e-3, "{m}");
        let topo = Topology::new(1_000_000, 64).unwrap();
        let b = bias_bound(
            &topo,
            Estimator::Trimmed { per_side: 0.25 },
            Threshold::default(),
        );
        assert!(b > 0.07 && b < 0.1, "{b}");
    }

    #[test]
    fn placement_respects_the_bound() {
        let t = Threshold::default();
        assert_eq!(byzantine_in(64, 0.25, t), 16);
        assert_eq!(byzantine_in(10, 0.25, t), 2);
        assert_eq!(byzantine_in(64, 0.26, t), 17);
        assert_eq!(byzantine_in(5, 0.5, t), 3);
        let topo = Topology::new(20_000, 64).unwrap();
        let p = place_byzantine(&topo, 0.25, t, 9);
        for k in 0..topo.size(1) {
            let c = topo.committee(1, k);
            let b = c.iter().filter(|n| p[n.0 as usize]).count();
            assert!(4 * b <= c.len());
        }
    }
}
