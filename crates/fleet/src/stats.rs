//! Mergeable sufficient statistics: count, mean vector and co-moment matrix.
//!
//! The merge is the parallel update of Chan, Golub and LeVeque ("Updating formulae and a
//! pairwise algorithm for computing sample variances", 1979), in its multivariate form:
//!
//! ```text
//! n     = n_a + n_b
//! delta = mean_b - mean_a
//! mean  = mean_a + delta * n_b / n
//! M     = M_a + M_b + delta delta^T * n_a n_b / n
//! ```
//!
//! It is exact in real arithmetic and associative; in floating point it is the numerically
//! stable form (no sums of squares are ever subtracted). The co-moment matrix `M` is stored
//! row-major and kept exactly symmetric.

use crate::error::{Error, Result};

/// Count, mean and co-moment (sum of outer products of deviations) of a set of vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    count: u64,
    mean: Vec<f64>,
    comoment: Vec<f64>,
}

impl Moments {
    /// The empty statistic of dimension `dim`.
    pub fn new(dim: usize) -> Self {
        Moments {
            count: 0,
            mean: vec![0.0; dim],
            comoment: vec![0.0; dim * dim],
        }
    }

    /// Builds a statistic from its parts, checking shapes, finiteness and symmetry.
    pub fn from_parts(count: u64, mean: Vec<f64>, comoment: Vec<f64>) -> Result<Self> {
        let dim = mean.len();
        if comoment.len() != dim * dim {
            return Err(Error::Dimension {
                expected: dim * dim,
                got: comoment.len(),
            });
        }
        if !mean.iter().chain(&comoment).all(|v| v.is_finite()) {
            return Err(Error::NonFinite("moments"));
        }
        for i in 0..dim {
            for j in 0..i {
                if comoment[i * dim + j].to_bits() != comoment[j * dim + i].to_bits() {
                    return Err(Error::Config("co-moment matrix must be symmetric"));
                }
            }
            if comoment[i * dim + i] < 0.0 {
                return Err(Error::Config("co-moment diagonal must be non-negative"));
            }
        }
        if count == 0 && (mean.iter().any(|&v| v != 0.0) || comoment.iter().any(|&v| v != 0.0)) {
            return Err(Error::Config("empty statistic must be zero"));
        }
        Ok(Moments {
            count,
            mean,
            comoment,
        })
    }

    /// Two-pass statistic of `rows` (each `dim` long, concatenated): the reference the merge
    /// is tested against, and the fast path for a local node summarising its agents.
    pub fn from_rows(rows: &[f64], dim: usize) -> Result<Self> {
        if dim == 0 || !rows.len().is_multiple_of(dim) {
            return Err(Error::Dimension {
                expected: dim,
                got: rows.len(),
            });
        }
        if !rows.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFinite("rows"));
        }
        let n = rows.len() / dim;
        let mut out = Moments::new(dim);
        if n == 0 {
            return Ok(out);
        }
        for row in rows.chunks_exact(dim) {
            for (m, x) in out.mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        let inv = 1.0 / n as f64;
        for m in &mut out.mean {
            *m *= inv;
        }
        let mut dev = vec![0.0; dim];
        for row in rows.chunks_exact(dim) {
            for ((d, x), m) in dev.iter_mut().zip(row).zip(&out.mean) {
                *d = x - m;
            }
            for i in 0..dim {
                let di = dev[i];
                let line = &mut out.comoment[i * dim + i..(i + 1) * dim];
                for (c, dj) in line.iter_mut().zip(&dev[i..]) {
                    *c += di * dj;
                }
            }
        }
        out.mirror_upper();
        out.count = n as u64;
        Ok(out)
    }

    fn mirror_upper(&mut self) {
        let dim = self.dim();
        for i in 0..dim {
            for j in 0..i {
                self.comoment[i * dim + j] = self.comoment[j * dim + i];
            }
        }
    }

    /// The dimension of the vectors.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }
    /// How many vectors were summarised.
    pub fn count(&self) -> u64 {
        self.count
    }
    /// The mean vector.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
    /// The co-moment matrix, row-major `dim x dim`.
    pub fn comoment(&self) -> &[f64] {
        &self.comoment
    }
    /// The sample variance of coordinate `j` (`M_jj / (n - 1)`); 0 with fewer than 2 vectors.
    pub fn variance(&self, j: usize) -> f64 {
        let dim = self.dim();
        if self.count < 2 || j >= dim {
            return 0.0;
        }
        self.comoment[j * dim + j] / (self.count - 1) as f64
    }

    /// Adds one vector (Welford's update in its symmetric form `M += (n-1)/n d d^T`).
    pub fn push(&mut self, x: &[f64]) -> Result<()> {
        let dim = self.dim();
        if x.len() != dim {
            return Err(Error::Dimension {
                expected: dim,
                got: x.len(),
            });
        }
        if !x.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFinite("vector"));
        }
        self.count += 1;
        let n = self.count as f64;
        let dev: Vec<f64> = x.iter().zip(&self.mean).map(|(x, m)| x - m).collect();
        let w = (n - 1.0) / n;
        for i in 0..dim {
            for j in i..dim {
                self.comoment[i * dim + j] += w * dev[i] * dev[j];
            }
        }
        self.mirror_upper();
        for (m, d) in self.mean.iter_mut().zip(&dev) {
            *m += d / n;
        }
        Ok(())
    }

    /// Merges `other` into `self` with Chan et al.'s parallel formulas.
    pub fn merge(&mut self, other: &Moments) -> Result<()> {
        let dim = self.dim();
        if other.dim() != dim {
            return Err(Error::Dimension {
                expected: dim,
                got: other.dim(),
            });
        }
        if other.count == 0 {
            return Ok(());
        }
        if self.count == 0 {
            *self = other.clone();
            return Ok(());
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta: Vec<f64> = other
            .mean
            .iter()
            .zip(&self.mean)
            .map(|(b, a)| b - a)
            .collect();
        let w = na * nb / n;
        for i in 0..dim {
            for j in i..dim {
                let k = i * dim + j;
                self.comoment[k] += other.comoment[k] + w * delta[i] * delta[j];
            }
        }
        self.mirror_upper();
        for (m, d) in self.mean.iter_mut().zip(&delta) {
            *m += d * nb / n;
        }
        self.count += other.count;
        Ok(())
    }

    /// `a` merged with `b`, leaving both untouched.
    pub fn merged(a: &Moments, b: &Moments) -> Result<Moments> {
        let mut out = a.clone();
        out.merge(b)?;
        Ok(out)
    }

    /// Replaces the summary by one with `count` vectors around `mean` whose co-moment is
    /// `comoment` (used by the robust merge, which re-centres and re-weights children).
    pub(crate) fn from_raw(count: u64, mean: Vec<f64>, mut comoment: Vec<f64>) -> Self {
        let dim = mean.len();
        // Keep exact symmetry whatever order the caller accumulated in.
        for i in 0..dim {
            for j in 0..i {
                comoment[i * dim + j] = comoment[j * dim + i];
            }
        }
        Moments {
            count,
            mean,
            comoment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: &Moments, b: &Moments, tol: f64) -> bool {
        a.count == b.count
            && a.mean
                .iter()
                .zip(&b.mean)
                .all(|(x, y)| (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
            && a.comoment
                .iter()
                .zip(&b.comoment)
                .all(|(x, y)| (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
    }

    fn rows(dim: usize) -> impl Strategy<Value = Vec<f64>> {
        (0usize..20).prop_flat_map(move |n| proptest::collection::vec(-1.0e3f64..1.0e3, n * dim))
    }

    proptest! {
        #[test]
        fn merge_agrees_with_two_pass(a in rows(3), b in rows(3), c in rows(3)) {
            let (ma, mb, mc) = (
                Moments::from_rows(&a, 3).unwrap(),
                Moments::from_rows(&b, 3).unwrap(),
                Moments::from_rows(&c, 3).unwrap(),
            );
            let all: Vec<f64> = a.iter().chain(&b).chain(&c).copied().collect();
            let reference = Moments::from_rows(&all, 3).unwrap();
            let left = Moments::merged(&Moments::merged(&ma, &mb).unwrap(), &mc).unwrap();
            let right = Moments::merged(&ma, &Moments::merged(&mb, &mc).unwrap()).unwrap();
            prop_assert!(close(&left, &reference, 1e-9), "{left:?} vs {reference:?}");
            prop_assert!(close(&left, &right, 1e-9));
            // Deterministic: the same inputs in the same order give the same bits.
            let again = Moments::merged(&Moments::merged(&ma, &mb).unwrap(), &mc).unwrap();
            prop_assert_eq!(left, again);
        }

        #[test]
        fn push_agrees_with_two_pass(a in rows(2)) {
            let mut m = Moments::new(2);
            for r in a.chunks_exact(2) {
                m.push(r).unwrap();
            }
            prop_assert!(close(&m, &Moments::from_rows(&a, 2).unwrap(), 1e-9));
        }

        #[test]
        fn from_parts_never_panics(count in any::<u64>(), mean in proptest::collection::vec(any::<f64>(), 0..4), c in proptest::collection::vec(any::<f64>(), 0..17)) {
            let _ = Moments::from_parts(count, mean, c);
        }
    }

    #[test]
    fn stable_for_large_offsets() {
        // Catastrophic cancellation would lose the unit variance at an offset of 1e9.
        let rows: Vec<f64> = (0..1000).map(|i| 1.0e9 + f64::from(i % 2)).collect();
        let halves = (
            Moments::from_rows(&rows[..500], 1).unwrap(),
            Moments::from_rows(&rows[500..], 1).unwrap(),
        );
        let m = Moments::merged(&halves.0, &halves.1).unwrap();
        assert!((m.variance(0) - 0.25 * 1000.0 / 999.0).abs() < 1e-6);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(Moments::from_rows(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(Moments::from_rows(&[f64::NAN], 1).is_err());
        assert!(Moments::new(2).push(&[1.0]).is_err());
        assert!(Moments::new(2).merge(&Moments::new(3)).is_err());
        assert!(Moments::from_parts(1, vec![0.0; 2], vec![0.0; 3]).is_err());
        assert!(Moments::from_parts(1, vec![0.0; 2], vec![1.0, 2.0, 3.0, 1.0]).is_err());
    }
}
