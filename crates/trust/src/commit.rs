//! Pedersen commitments to clipped contributions and Bulletproofs range proofs that each
//! coordinate lies in the clipping box, plus the homomorphic sum check a parent runs.
//!
//! A contribution `x` (one vector) is clipped, encoded in fixed point and shifted to
//! `v_j = fix(x_j) - fix(lo_j)`, so `0 <= v_j <= W_j = fix(hi_j) - fix(lo_j)`. The prover
//! commits `C_j = v_j B + r_j B~` and proves with one aggregated Bulletproof (Bünz et al.
//! 2018, §4.3) that every `v_j` *and* every `W_j - v_j` lies in `[0, 2^n)`, with `2^n > W_j`.
//! The verifier derives the commitments to `W_j - v_j` itself, as `W_j B - C_j`, so together
//! the two ranges give exactly `0 <= v_j <= W_j`: the contribution is inside the box.
//!
//! A parent that aggregated `k` contributions publishes, per coordinate, the sum `S_j` of the
//! shifted values and the sum `R_j` of the blindings; anyone holding the commitments checks
//! `sum_i C_ij = S_j B + R_j B~` without learning any single contribution.
//!
//! What this proves: the published sum is the sum of the committed contributions, and every
//! committed contribution is inside the box. It does not prove that a contribution is the
//! true statistic of its node's children, that the set of contributors is complete or
//! genuine (signatures and the tree's Merkle roots do that), nor anything about noise added
//! later for differential privacy.

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};

use crate::error::{Error, Result};
use crate::fixed::{ClipBox, FixedPoint};

const TRANSCRIPT_LABEL: &[u8] = b"toolcap/trust/range/v1";

/// Public parameters for one box: generators, bit size and the box in fixed point.
#[derive(Clone)]
pub struct RangeParams {
    fixed: FixedPoint,
    lo: Vec<i64>,
    width: Vec<u64>,
    bits: usize,
    /// Number of committed values in the aggregated proof (a power of two).
    parties: usize,
    pc: PedersenGens,
    bp: BulletproofGens,
}

impl std::fmt::Debug for RangeParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RangeParams")
            .field("dim", &self.lo.len())
            .field("bits", &self.bits)
            .field("parties", &self.parties)
            .finish_non_exhaustive()
    }
}

impl RangeParams {
    /// Parameters for contributions clipped to `clip` and encoded with `fixed`.
    pub fn new(clip: &ClipBox, fixed: FixedPoint) -> Result<Self> {
        let mut lo = Vec::with_capacity(clip.dim());
        let mut width = Vec::with_capacity(clip.dim());
        for (l, h) in clip.lo().iter().zip(clip.hi()) {
            let l = fixed.encode(*l)?;
            let h = fixed.encode(*h)?;
            let w = u64::try_from(h - l).map_err(|_| Error::InvalidBox("inverted"))?;
            lo.push(l);
            width.push(w);
        }
        let max_w = width.iter().copied().max().unwrap_or(0);
        let bits = [8usize, 16, 32, 64]
            .into_iter()
            .find(|b| *b == 64 || max_w < (1u64 << b))
            .unwrap_or(64);
        let parties = (2 * clip.dim()).next_power_of_two();
        Ok(RangeParams {
            fixed,
            lo,
            width,
            bits,
            parties,
            pc: PedersenGens::default(),
            bp: BulletproofGens::new(bits, parties),
        })
    }

    /// Number of coordinates.
    pub fn dim(&self) -> usize {
        self.lo.len()
    }

    /// Bits per range proof (8, 16, 32 or 64).
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Fixed-point encoding in use.
    pub fn fixed(&self) -> FixedPoint {
        self.fixed
    }

    fn transcript(&self, context: &[u8]) -> Transcript {
        let mut t = Transcript::new(TRANSCRIPT_LABEL);
        t.append_message(b"context", context);
        t.append_u64(b"dim", self.dim() as u64);
        t
    }

    /// Commitments in proof order: the `v_j`, the derived `W_j - v_j`, then the padding.
    fn proof_commitments(&self, c: &CommittedContribution) -> Result<Vec<CompressedRistretto>> {
        let mut all = Vec::with_capacity(self.parties);
        all.extend_from_slice(&c.commitments);
        for (cj, w) in c.commitments.iter().zip(&self.width) {
            let point = cj.decompress().ok_or(Error::InvalidProof)?;
            let upper: RistrettoPoint = self.pc.B * Scalar::from(*w) - point;
            all.push(upper.compress());
        }
        all.extend_from_slice(&c.padding);
        Ok(all)
    }
}

/// What a node publishes for one contribution: per-coordinate commitments, the padding
/// commitments that fill the aggregated proof to a power of two, and the proof.
#[derive(Debug, Clone)]
pub struct CommittedContribution {
    commitments: Vec<CompressedRistretto>,
    padding: Vec<CompressedRistretto>,
    proof: RangeProof,
}

/// The secret opening of one contribution (shifted fixed-point values and blindings), sent
/// only to the parent that aggregates it.
#[derive(Clone)]
pub struct Opening {
    values: Vec<u64>,
    blindings: Vec<Scalar>,
}

impl std::fmt::Debug for Opening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opening")
            .field("dim", &self.values.len())
            .finish_non_exhaustive()
    }
}

/// Commits to `x` (clipped to the box first) and proves it lies in the box. `context` binds
/// the proof to its use (e.g. epoch, level and node), so it cannot be replayed elsewhere.
pub fn commit<R: RngCore + CryptoRng>(
    params: &RangeParams,
    context: &[u8],
    x: &[f64],
    rng: &mut R,
) -> Result<(CommittedContribution, Opening)> {
    if x.len() != params.dim() {
        return Err(Error::Dimension {
            expected: params.dim(),
            got: x.len(),
        });
    }
    let mut values = Vec::with_capacity(params.parties);
    for ((xj, lo), w) in x.iter().zip(&params.lo).zip(&params.width) {
        let v = params.fixed.encode(*xj)?;
        // Clip in fixed point: identical to clipping the real and then encoding, since
        // rounding is monotone.
        let shifted = (i128::from(v) - i128::from(*lo)).clamp(0, i128::from(*w));
        values.push(u64::try_from(shifted).map_err(|_| Error::OutOfRange("shift"))?);
    }
    let blindings: Vec<Scalar> = (0..params.dim()).map(|_| Scalar::random(rng)).collect();
    let mut all_values = values.clone();
    let mut all_blindings = blindings.clone();
    for (v, w) in values.iter().zip(&params.width) {
        all_values.push(w - v);
    }
    for r in &blindings {
        all_blindings.push(-r);
    }
    while all_values.len() < params.parties {
        all_values.push(0);
        all_blindings.push(Scalar::random(rng));
    }
    let mut transcript = params.transcript(context);
    let (proof, commitments) = RangeProof::prove_multiple_with_rng(
        &params.bp,
        &params.pc,
        &mut transcript,
        &all_values,
        &all_blindings,
        params.bits,
        rng,
    )
    .map_err(|_| Error::InvalidProof)?;
    let d = params.dim();
    let contribution = CommittedContribution {
        commitments: commitments[..d].to_vec(),
        padding: commitments[2 * d..].to_vec(),
        proof,
    };
    Ok((contribution, Opening { values, blindings }))
}

impl CommittedContribution {
    /// Verifies the range proof: every committed coordinate is inside the box.
    pub fn verify<R: RngCore + CryptoRng>(
        &self,
        params: &RangeParams,
        context: &[u8],
        rng: &mut R,
    ) -> Result<()> {
        if self.commitments.len() != params.dim()
            || self.padding.len() != params.parties - 2 * params.dim()
        {
            return Err(Error::InvalidProof);
        }
        let all = params.proof_commitments(self)?;
        let mut transcript = params.transcript(context);
        self.proof
            .verify_multiple_with_rng(
                &params.bp,
                &params.pc,
                &mut transcript,
                &all,
                params.bits,
                rng,
            )
            .map_err(|_| Error::InvalidProof)
    }

    /// The per-coordinate commitments.
    pub fn commitments(&self) -> &[CompressedRistretto] {
        &self.commitments
    }

    /// Encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        4 + 32 * (self.commitments.len() + self.padding.len()) + 4 + self.proof.to_bytes().len()
    }

    /// Wire encoding: `u32 dim || u32 padding || commitments || padding || proof`, big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let proof = self.proof.to_bytes();
        let mut out = Vec::with_capacity(
            8 + 32 * (self.commitments.len() + self.padding.len()) + proof.len(),
        );
        out.extend_from_slice(&(self.commitments.len() as u32).to_be_bytes());
        out.extend_from_slice(&(self.padding.len() as u32).to_be_bytes());
        for c in self.commitments.iter().chain(&self.padding) {
            out.extend_from_slice(c.as_bytes());
        }
        out.extend_from_slice(&proof);
        out
    }

    /// Decodes [`CommittedContribution::to_bytes`]; any malformed input is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let take_u32 = |at: usize| -> Result<usize> {
            let b: [u8; 4] = bytes
                .get(at..at + 4)
                .and_then(|s| s.try_into().ok())
                .ok_or(Error::Malformed)?;
            Ok(u32::from_be_bytes(b) as usize)
        };
        let dim = take_u32(0)?;
        let pad = take_u32(4)?;
        if dim > 4096 || pad > 8192 {
            return Err(Error::Malformed);
        }
        let mut at = 8;
        let mut points = Vec::with_capacity(dim + pad);
        for _ in 0..dim + pad {
            let p = bytes.get(at..at + 32).ok_or(Error::Malformed)?;
            points.push(CompressedRistretto::from_slice(p).map_err(|_| Error::Malformed)?);
            at += 32;
        }
        let proof = RangeProof::from_bytes(&bytes[at..]).map_err(|_| Error::Malformed)?;
        let padding = points.split_off(dim);
        Ok(CommittedContribution {
            commitments: points,
            padding,
            proof,
        })
    }
}

/// The opening of a sum of contributions: what a parent publishes with its aggregate.
#[derive(Clone, PartialEq)]
pub struct SumOpening {
    count: u64,
    shifted: Vec<u128>,
    blinding: Vec<Scalar>,
}

impl std::fmt::Debug for SumOpening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SumOpening")
            .field("count", &self.count)
            .field("shifted", &self.shifted)
            .finish_non_exhaustive()
    }
}

impl SumOpening {
    /// The empty sum over `dim` coordinates.
    pub fn new(dim: usize) -> Self {
        SumOpening {
            count: 0,
            shifted: vec![0; dim],
            blinding: vec![Scalar::ZERO; dim],
        }
    }

    /// Adds one contribution's opening.
    pub fn add(&mut self, o: &Opening) -> Result<()> {
        if o.values.len() != self.shifted.len() {
            return Err(Error::Dimension {
                expected: self.shifted.len(),
                got: o.values.len(),
            });
        }
        for (s, v) in self.shifted.iter_mut().zip(&o.values) {
            *s += u128::from(*v);
        }
        for (s, r) in self.blinding.iter_mut().zip(&o.blindings) {
            *s += r;
        }
        self.count += 1;
        Ok(())
    }

    /// Number of contributions summed.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The exact sum of the (clipped) contributions in fixed point, per coordinate.
    pub fn fixed_sum(&self, params: &RangeParams) -> Vec<i128> {
        self.shifted
            .iter()
            .zip(&params.lo)
            .map(|(s, lo)| *s as i128 + i128::from(self.count) * i128::from(*lo))
            .collect()
    }

    /// The sum as reals.
    pub fn sum(&self, params: &RangeParams) -> Vec<f64> {
        self.fixed_sum(params)
            .into_iter()
            .map(|s| params.fixed.decode(s))
            .collect()
    }

    /// Tampering hook for tests of the verifier: shifts one coordinate's claimed sum.
    #[doc(hidden)]
    pub fn danger_shift(&mut self, coordinate: usize, by: u128) {
        if let Some(s) = self.shifted.get_mut(coordinate) {
            *s += by;
        }
    }
}

/// A parent's check: every contribution's range proof verifies, and the homomorphic sum of
/// the commitments opens, under `opening`, to `claimed_fixed_sum` (the sum it aggregated, in
/// fixed point). Proves "the sum of in-range committed contributions"; see the module docs.
pub fn verify_sum<R: RngCore + CryptoRng>(
    params: &RangeParams,
    context: &[u8],
    contributions: &[CommittedContribution],
    opening: &SumOpening,
    claimed_fixed_sum: &[i128],
    rng: &mut R,
) -> Result<()> {
    let d = params.dim();
    if opening.shifted.len() != d || claimed_fixed_sum.len() != d {
        return Err(Error::Dimension {
            expected: d,
            got: claimed_fixed_sum.len(),
        });
    }
    if opening.count != contributions.len() as u64 {
        return Err(Error::SumMismatch);
    }
    for c in contributions {
        c.verify(params, context, rng)?;
    }
    if opening.fixed_sum(params) != claimed_fixed_sum {
        return Err(Error::SumMismatch);
    }
    for j in 0..d {
        // The shifted sum cannot exceed count * W_j if every part is in range.
        if opening.shifted[j] > u128::from(opening.count) * u128::from(params.width[j]) {
            return Err(Error::SumMismatch);
        }
        let mut acc = RistrettoPoint::default();
        for c in contributions {
            acc += c.commitments[j].decompress().ok_or(Error::InvalidProof)?;
        }
        let expected = params
            .pc
            .commit(Scalar::from(opening.shifted[j]), opening.blinding[j]);
        if acc != expected {
            return Err(Error::SumMismatch);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn params(dim: usize) -> RangeParams {
        let clip = ClipBox::uniform(dim, -4.0, 4.0).unwrap();
        RangeParams::new(&clip, FixedPoint::new(12).unwrap()).unwrap()
    }

    #[test]
    fn bits_cover_the_box_width() {
        let p = params(2);
        assert_eq!(p.bits(), 16); // width 8 * 2^12 = 32768 < 2^16
        assert_eq!(p.parties, 4);
    }

    #[test]
    fn in_range_contribution_verifies_and_is_bound_to_context() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let p = params(3);
        let (c, _) = commit(&p, b"epoch 1", &[0.5, -3.9, 4.0], &mut rng).unwrap();
        c.verify(&p, b"epoch 1", &mut rng).unwrap();
        assert_eq!(c.verify(&p, b"epoch 2", &mut rng), Err(Error::InvalidProof));
        let back = CommittedContribution::from_bytes(&c.to_bytes()).unwrap();
        back.verify(&p, b"epoch 1", &mut rng).unwrap();
    }

    #[test]
    fn out_of_range_values_are_clipped_before_commitment() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let p = params(1);
        let (c, o) = commit(&p, b"", &[100.0], &mut rng).unwrap();
        c.verify(&p, b"", &mut rng).unwrap();
        let mut s = SumOpening::new(1);
        s.add(&o).unwrap();
        assert_eq!(s.sum(&p), vec![4.0]);
    }

    #[test]
    fn sum_check_accepts_honest_and_rejects_shifted_sum() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let p = params(2);
        let xs = [[1.0, 2.0], [-1.5, 0.25], [3.0, -4.0]];
        let mut cs = Vec::new();
        let mut s = SumOpening::new(2);
        for x in &xs {
            let (c, o) = commit(&p, b"ctx", x, &mut rng).unwrap();
            cs.push(c);
            s.add(&o).unwrap();
        }
        let claimed = s.fixed_sum(&p);
        assert_eq!(s.sum(&p), vec![2.5, -1.75]);
        verify_sum(&p, b"ctx", &cs, &s, &claimed, &mut rng).unwrap();
        // Claiming a different aggregate with the honest opening.
        let mut wrong = claimed.clone();
        wrong[0] += 1;
        assert_eq!(
            verify_sum(&p, b"ctx", &cs, &s, &wrong, &mut rng),
            Err(Error::SumMismatch)
        );
        // Shifting the opening to match a shifted claim: the commitments do not open to it.
        let mut shifted = s.clone();
        shifted.danger_shift(0, 1);
        let claimed2 = shifted.fixed_sum(&p);
        assert_eq!(
            verify_sum(&p, b"ctx", &cs, &shifted, &claimed2, &mut rng),
            Err(Error::SumMismatch)
        );
        // Dropping a contribution.
        assert_eq!(
            verify_sum(&p, b"ctx", &cs[..2], &s, &claimed, &mut rng),
            Err(Error::SumMismatch)
        );
    }

    #[test]
    fn decoding_garbage_never_panics() {
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let _ = CommittedContribution::from_bytes(&bytes);
        }
    }
}
