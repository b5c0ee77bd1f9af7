//! Differential privacy for aggregates released upward or outward: clipping to a declared box,
//! calibrated integer noise from OpenDP's exact samplers, and an (epsilon, delta) accountant
//! per release stream that refuses a release once the budget is spent.
//!
//! Neighbouring datasets differ in one contribution replaced by another (bounded DP); the
//! number of contributions is public. Contributions are clipped, encoded in fixed point and
//! summed exactly, so the sum's sensitivity is the box width in fixed-point units.
//!
//! - Gaussian: OpenDP's discrete Gaussian (Canonne, Kamath, Steinke 2020, "The Discrete
//!   Gaussian for Differential Privacy", Thm. 4) with scale `sigma` is `rho`-zCDP with
//!   `rho = Delta_2^2 / (2 sigma^2)`; `rho`-zCDP implies `(rho + 2 sqrt(rho ln(1/delta)),
//!   delta)`-DP (Bun and Steinke 2016, Prop. 1.3). We solve that for `rho` given the target
//!   `(epsilon, delta)` and round `sigma` up.
//! - Laplace: OpenDP's discrete Laplace with scale `b = Delta_1 / epsilon` is pure
//!   `epsilon`-DP (the geometric mechanism, Ghosh, Roughgarden, Sundararajan 2009).
//!
//! Releases on one stream compose sequentially: the accountant adds epsilons and deltas
//! (basic composition), which is conservative and needs no further assumption.

use dashu::integer::{IBig, UBig};
use dashu::rational::RBig;

use crate::error::{Error, Result};
use crate::fixed::{ClipBox, FixedPoint};

/// An (epsilon, delta) pair: a privacy cost or a budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Epsilon (natural-log scale), positive.
    pub epsilon: f64,
    /// Delta, in `[0, 1)`.
    pub delta: f64,
}

impl Budget {
    /// A budget after checking that epsilon is positive and finite and delta in `[0, 1)`.
    pub fn new(epsilon: f64, delta: f64) -> Result<Self> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(Error::Config("epsilon must be positive and finite"));
        }
        if !(0.0..1.0).contains(&delta) {
            return Err(Error::Config("delta must be in [0, 1)"));
        }
        Ok(Budget { epsilon, delta })
    }
}

/// The noise distribution of a release stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mechanism {
    /// Discrete Gaussian, `(epsilon, delta)`-DP via zCDP; L2 sensitivity.
    #[default]
    Gaussian,
    /// Discrete Laplace, pure `epsilon`-DP; L1 sensitivity; costs no delta.
    Laplace,
}

/// Configuration of one release stream.
#[derive(Debug, Clone, PartialEq)]
pub struct DpConfig {
    /// Cost of each release. Default: epsilon 1.0, delta 1e-7.
    pub per_release: Budget,
    /// Total budget of the stream; releases are refused once it would be exceeded.
    /// Default: 10 releases' worth (epsilon 10, delta 1e-6).
    pub total: Budget,
    /// Noise distribution.
    pub mechanism: Mechanism,
    /// Fixed-point encoding of contributions.
    pub fixed: FixedPoint,
}

impl Default for DpConfig {
    fn default() -> Self {
        DpConfig {
            per_release: Budget {
                epsilon: 1.0,
                delta: 1e-7,
            },
            total: Budget {
                epsilon: 10.0,
                delta: 1e-6,
            },
            mechanism: Mechanism::Gaussian,
            fixed: FixedPoint::default(),
        }
    }
}

/// Sequential-composition accountant for one release stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Accountant {
    total: Budget,
    spent_epsilon: f64,
    spent_delta: f64,
    releases: u64,
}

/// Slack for floating-point accumulation: ten releases of 0.1 must fit a budget of 1.0.
const SLACK: f64 = 1e-9;

impl Accountant {
    /// A fresh accountant with nothing spent.
    pub fn new(total: Budget) -> Self {
        Accountant {
            total,
            spent_epsilon: 0.0,
            spent_delta: 0.0,
            releases: 0,
        }
    }

    /// Charges `cost`, or refuses (changing nothing) if it would exceed the total.
    pub fn charge(&mut self, cost: Budget) -> Result<()> {
        let eps = self.spent_epsilon + cost.epsilon;
        let delta = self.spent_delta + cost.delta;
        if eps > self.total.epsilon * (1.0 + SLACK) || delta > self.total.delta * (1.0 + SLACK) {
            return Err(Error::BudgetExhausted {
                requested_epsilon: cost.epsilon,
                remaining_epsilon: self.remaining().epsilon,
            });
        }
        self.spent_epsilon = eps;
        self.spent_delta = delta;
        self.releases += 1;
        Ok(())
    }

    /// What has been spent so far.
    pub fn spent(&self) -> Budget {
        Budget {
            epsilon: self.spent_epsilon,
            delta: self.spent_delta,
        }
    }

    /// What is left (never negative).
    pub fn remaining(&self) -> Budget {
        Budget {
            epsilon: (self.total.epsilon - self.spent_epsilon).max(0.0),
            delta: (self.total.delta - self.spent_delta).max(0.0),
        }
    }

    /// Number of releases charged.
    pub fn releases(&self) -> u64 {
        self.releases
    }
}

/// Scale of the discrete Gaussian giving `(epsilon, delta)`-DP for L2 sensitivity `l2`
/// (in fixed-point units), rounded up to a multiple of 1/1024.
pub fn gaussian_sigma(l2: f64, budget: Budget) -> Result<f64> {
    if budget.delta.is_nan() || budget.delta <= 0.0 {
        return Err(Error::Config("the gaussian mechanism needs delta > 0"));
    }
    let l = (1.0 / budget.delta).ln();
    // epsilon = rho + 2 sqrt(rho l)  <=>  sqrt(rho) = sqrt(l + epsilon) - sqrt(l).
    let sqrt_rho = (l + budget.epsilon).sqrt() - l.sqrt();
    let rho = sqrt_rho * sqrt_rho;
    if rho.is_nan() || rho <= 0.0 {
        return Err(Error::Config("epsilon too small for this delta"));
    }
    let sigma = l2 / (2.0 * rho).sqrt();
    Ok(round_up(sigma))
}

/// Scale of the discrete Laplace giving `epsilon`-DP for L1 sensitivity `l1`, rounded up.
pub fn laplace_scale(l1: f64, epsilon: f64) -> f64 {
    round_up(l1 / epsilon)
}

fn round_up(x: f64) -> f64 {
    // A tiny relative bump guards against the division above rounding down.
    ((x * (1.0 + 1e-12)) * 1024.0).ceil() / 1024.0
}

fn to_rational(scale: f64) -> Result<RBig> {
    // `scale` is a multiple of 1/1024 by construction; keep it exact.
    let num = (scale * 1024.0).ceil();
    if !(0.0..9.0e15).contains(&num) {
        return Err(Error::Config("noise scale out of range"));
    }
    Ok(RBig::from_parts(
        IBig::from(num as u64),
        UBig::from(1024u32),
    ))
}

/// One integer noise draw from OpenDP's exact sampler with the given scale.
pub fn sample_noise(mechanism: Mechanism, scale: f64) -> Result<i64> {
    let scale = to_rational(scale)?;
    let draw = match mechanism {
        Mechanism::Gaussian => opendp::traits::samplers::sample_discrete_gaussian(scale),
        Mechanism::Laplace => opendp::traits::samplers::sample_discrete_laplace(scale),
    }
    .map_err(|_| Error::Sampler)?;
    i64::try_from(draw).map_err(|_| Error::Sampler)
}

/// A released, noised aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// Stream-local sequence number of this release (1-based).
    pub sequence: u64,
    /// Number of contributions (public).
    pub count: u64,
    /// Noised sum of the clipped contributions, per coordinate.
    pub sum: Vec<f64>,
    /// Noised mean (`sum / count`); empty when `count` is 0.
    pub mean: Vec<f64>,
    /// Standard deviation of the noise on each sum coordinate, in value units.
    pub noise_std: f64,
    /// Privacy cost charged for this release.
    pub cost: Budget,
}

/// A release stream: one box, one mechanism, one accountant (e.g. "regional baseline of
/// region 3" or "global correlation matrix").
#[derive(Debug, Clone)]
pub struct ReleaseStream {
    config: DpConfig,
    clip: ClipBox,
    accountant: Accountant,
    /// Noise scale in fixed-point units, fixed for the stream.
    scale: f64,
}

impl ReleaseStream {
    /// A stream over contributions clipped to `clip`.
    pub fn new(config: DpConfig, clip: ClipBox) -> Result<Self> {
        Budget::new(config.per_release.epsilon, config.per_release.delta)?;
        Budget::new(config.total.epsilon, config.total.delta)?;
        let fp = config.fixed;
        // Replace-one sensitivity of the sum, per coordinate: the box width in fixed units,
        // rounded up so that the bound holds for the rounded encodings too.
        let mut l1 = 0.0f64;
        let mut l2sq = 0.0f64;
        for (lo, hi) in clip.lo().iter().zip(clip.hi()) {
            let w = (fp.encode(*hi)? - fp.encode(*lo)?) as f64;
            l1 += w;
            l2sq += w * w;
        }
        let scale = match config.mechanism {
            Mechanism::Gaussian => gaussian_sigma(l2sq.sqrt(), config.per_release)?,
            Mechanism::Laplace => laplace_scale(l1, config.per_release.epsilon),
        };
        to_rational(scale)?;
        Ok(ReleaseStream {
            accountant: Accountant::new(config.total),
            config,
            clip,
            scale,
        })
    }

    /// The stream's accountant.
    pub fn accountant(&self) -> &Accountant {
        &self.accountant
    }

    /// The clipping box.
    pub fn clip_box(&self) -> &ClipBox {
        &self.clip
    }

    /// Noise standard deviation per sum coordinate, in value units.
    pub fn noise_std(&self) -> f64 {
        let fp = self.config.fixed;
        let std_fixed = match self.config.mechanism {
            // The discrete Gaussian's variance is at most sigma^2 (CKS20, Prop. 19).
            Mechanism::Gaussian => self.scale,
            // Discrete Laplace variance: 2 e^{-1/b} / (1 - e^{-1/b})^2.
            Mechanism::Laplace => {
                let q = (-1.0 / self.scale).exp();
                (2.0 * q).sqrt() / (1.0 - q)
            }
        };
        std_fixed * fp.resolution()
    }

    /// Clips, sums exactly, charges the accountant and adds noise to every coordinate.
    ///
    /// Refused with [`Error::BudgetExhausted`] once the budget is spent: nothing is computed
    /// or released. The budget is charged before sampling, so a sampler failure (also
    /// nothing released) still counts against it: failing closed.
    pub fn release(&mut self, contributions: &[Vec<f64>]) -> Result<Release> {
        let fp = self.config.fixed;
        let dim = self.clip.dim();
        let mut sum = vec![0i128; dim];
        for c in contributions {
            let clipped = self.clip.clip(c)?;
            for (s, v) in sum.iter_mut().zip(&clipped) {
                *s += i128::from(fp.encode(*v)?);
            }
        }
        self.accountant.charge(self.config.per_release)?;
        let mut noised = Vec::with_capacity(dim);
        for s in &sum {
            let noise = sample_noise(self.config.mechanism, self.scale)?;
            noised.push(fp.decode(s + i128::from(noise)));
        }
        let count = contributions.len() as u64;
        let mean = if count == 0 {
            Vec::new()
        } else {
            noised.iter().map(|s| s / count as f64).collect()
        };
        Ok(Release {
            sequence: self.accountant.releases(),
            count,
            sum: noised,
            mean,
            noise_std: self.noise_std(),
            cost: self.config.per_release,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variance(xs: &[f64]) -> f64 {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)
    }

    #[test]
    fn budget_validation() {
        assert!(Budget::new(0.0, 1e-7).is_err());
        assert!(Budget::new(1.0, 1.0).is_err());
        assert!(Budget::new(f64::NAN, 0.0).is_err());
        assert!(Budget::new(1.0, 0.0).is_ok());
    }

    #[test]
    fn sigma_matches_zcdp_conversion() {
        let b = Budget::new(1.0, 1e-7).unwrap();
        let sigma = gaussian_sigma(1.0, b).unwrap();
        // Converting back must give at most the target epsilon.
        let rho = 1.0 / (2.0 * sigma * sigma);
        let eps = rho + 2.0 * (rho * (1.0f64 / 1e-7).ln()).sqrt();
        assert!(eps <= 1.0 + 1e-9, "eps {eps}");
        assert!(eps > 0.99, "not wastefully large: eps {eps}");
    }

    #[test]
    fn accountant_refuses_once_spent_and_changes_nothing() {
        let mut a = Accountant::new(Budget::new(1.0, 1e-6).unwrap());
        let cost = Budget::new(0.1, 1e-7).unwrap();
        for _ in 0..10 {
            a.charge(cost).unwrap();
        }
        let before = a.clone();
        let err = a.charge(cost).unwrap_err();
        assert!(matches!(err, Error::BudgetExhausted { .. }));
        assert_eq!(a, before);
    }

    #[test]
    fn discrete_gaussian_variance_matches_scale() {
        // sigma = 8: the discrete Gaussian's variance is within 1e-10 of sigma^2 at this scale.
        let n = 3000;
        let xs: Vec<f64> = (0..n)
            .map(|_| sample_noise(Mechanism::Gaussian, 8.0).unwrap() as f64)
            .collect();
        let v = variance(&xs);
        // Standard error of a sample variance is sigma^2 sqrt(2/(n-1)) ~ 1.65: allow 5 of them.
        assert!((v - 64.0).abs() < 8.5, "variance {v}");
        let mean = xs.iter().sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.6, "mean {mean}");
    }

    #[test]
    fn discrete_laplace_variance_matches_scale() {
        let b = 4.0f64;
        let n = 3000;
        let xs: Vec<f64> = (0..n)
            .map(|_| sample_noise(Mechanism::Laplace, b).unwrap() as f64)
            .collect();
        let q = (-1.0 / b).exp();
        let expected = 2.0 * q / ((1.0 - q) * (1.0 - q));
        let v = variance(&xs);
        // Heavier tails than the Gaussian: a 20% tolerance is about 5 standard errors.
        assert!(
            (v - expected).abs() < 0.2 * expected,
            "variance {v} vs {expected}"
        );
    }

    #[test]
    fn release_noise_has_calibrated_std_and_stops_at_budget() {
        let clip = ClipBox::uniform(2, 0.0, 1.0).unwrap();
        let config = DpConfig {
            total: Budget::new(400.0, 0.5).unwrap(),
            fixed: FixedPoint::new(4).unwrap(),
            ..DpConfig::default()
        };
        let mut stream = ReleaseStream::new(config, clip).unwrap();
        let data = vec![vec![0.5, 2.0], vec![0.25, -1.0]];
        // Clipped exact sum: (0.75, 1.0).
        let mut errs = Vec::new();
        for _ in 0..400 {
            let r = stream.release(&data).unwrap();
            errs.push(r.sum[0] - 0.75);
            errs.push(r.sum[1] - 1.0);
        }
        let std = variance(&errs).sqrt();
        let expected = stream.noise_std();
        assert!(
            (std - expected).abs() < 0.1 * expected,
            "std {std} vs {expected}"
        );
        assert!(matches!(
            stream.release(&data),
            Err(Error::BudgetExhausted { .. })
        ));
        assert_eq!(stream.accountant().releases(), 400);
    }
}
