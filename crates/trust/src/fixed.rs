//! The clipping box and the fixed-point encoding shared by differential privacy and the
//! range-proved commitments: both work on integers so that sums are exact and the discrete
//! samplers and range proofs apply without floating-point rounding.

use crate::error::{Error, Result};

/// A declared per-coordinate box `[lo_j, hi_j]`: every contribution is clipped into it before
/// it is released, noised or committed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipBox {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl ClipBox {
    /// A box from its corners. Every bound must be finite and `lo_j < hi_j`.
    pub fn new(lo: Vec<f64>, hi: Vec<f64>) -> Result<Self> {
        if lo.is_empty() {
            return Err(Error::InvalidBox("empty"));
        }
        if lo.len() != hi.len() {
            return Err(Error::Dimension {
                expected: lo.len(),
                got: hi.len(),
            });
        }
        for (l, h) in lo.iter().zip(&hi) {
            if !l.is_finite() || !h.is_finite() {
                return Err(Error::InvalidBox("bound not finite"));
            }
            if l >= h {
                return Err(Error::InvalidBox("lower bound not below upper bound"));
            }
        }
        Ok(ClipBox { lo, hi })
    }

    /// The same interval `[lo, hi]` on each of `dim` coordinates.
    pub fn uniform(dim: usize, lo: f64, hi: f64) -> Result<Self> {
        ClipBox::new(vec![lo; dim], vec![hi; dim])
    }

    /// Number of coordinates.
    pub fn dim(&self) -> usize {
        self.lo.len()
    }

    /// Lower corner.
    pub fn lo(&self) -> &[f64] {
        &self.lo
    }

    /// Upper corner.
    pub fn hi(&self) -> &[f64] {
        &self.hi
    }

    /// `x` clamped into the box. NaN coordinates are an error, not silently clamped: a NaN
    /// contribution is a fault to report, not a value.
    pub fn clip(&self, x: &[f64]) -> Result<Vec<f64>> {
        if x.len() != self.dim() {
            return Err(Error::Dimension {
                expected: self.dim(),
                got: x.len(),
            });
        }
        x.iter()
            .zip(self.lo.iter().zip(&self.hi))
            .map(|(v, (l, h))| {
                if v.is_nan() {
                    Err(Error::OutOfRange("nan"))
                } else {
                    Ok(v.clamp(*l, *h))
                }
            })
            .collect()
    }
}

/// Binary fixed point: a real `x` is the integer `round(x * 2^frac_bits)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedPoint {
    frac_bits: u32,
}

impl Default for FixedPoint {
    /// 16 fractional bits: a resolution of about 1.5e-5.
    fn default() -> Self {
        FixedPoint { frac_bits: 16 }
    }
}

/// Largest magnitude an encoded value may have (2^52), so every encoded integer and every
/// sum of up to 2^11 of them is exact in `i64` and converts back to `f64` exactly.
const MAX_FIXED: i64 = 1 << 52;

impl FixedPoint {
    /// A fixed-point encoding with `frac_bits` fractional bits (at most 40).
    pub fn new(frac_bits: u32) -> Result<Self> {
        if frac_bits > 40 {
            return Err(Error::Config("at most 40 fractional bits"));
        }
        Ok(FixedPoint { frac_bits })
    }

    /// Number of fractional bits.
    pub fn frac_bits(self) -> u32 {
        self.frac_bits
    }

    fn scale(self) -> f64 {
        // 2^frac_bits is exact in f64 for frac_bits <= 40.
        (1u64 << self.frac_bits) as f64
    }

    /// Encodes `x`, rounding to nearest; rejects non-finite and too large values.
    pub fn encode(self, x: f64) -> Result<i64> {
        if !x.is_finite() {
            return Err(Error::OutOfRange("not finite"));
        }
        let scaled = (x * self.scale()).round();
        if scaled.abs() > MAX_FIXED as f64 {
            return Err(Error::OutOfRange("too large"));
        }
        // In range by the check above, so the cast is exact.
        Ok(scaled as i64)
    }

    /// Decodes an integer (or an exact integer sum) back to a real.
    pub fn decode(self, v: i128) -> f64 {
        v as f64 / self.scale()
    }

    /// One unit in the last place, as a real.
    pub fn resolution(self) -> f64 {
        1.0 / self.scale()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn box_rejects_bad_corners() {
        assert!(ClipBox::new(vec![], vec![]).is_err());
        assert!(ClipBox::new(vec![1.0], vec![0.0]).is_err());
        assert!(ClipBox::new(vec![0.0], vec![f64::INFINITY]).is_err());
        assert!(ClipBox::new(vec![0.0, 1.0], vec![1.0]).is_err());
    }

    #[test]
    fn clip_clamps_and_rejects_nan() {
        let b = ClipBox::uniform(2, -1.0, 1.0).unwrap();
        assert_eq!(b.clip(&[5.0, -0.5]).unwrap(), vec![1.0, -0.5]);
        assert!(b.clip(&[f64::NAN, 0.0]).is_err());
        assert!(b.clip(&[0.0]).is_err());
    }

    proptest! {
        #[test]
        fn encode_decode_roundtrip(x in -1.0e6f64..1.0e6) {
            let fp = FixedPoint::default();
            let v = fp.encode(x).unwrap();
            prop_assert!((fp.decode(i128::from(v)) - x).abs() <= fp.resolution() / 2.0 + 1e-12);
        }

        #[test]
        fn encode_never_panics(x in any::<f64>(), bits in 0u32..64) {
            if let Ok(fp) = FixedPoint::new(bits) {
                let _ = fp.encode(x);
            }
        }
    }
}
