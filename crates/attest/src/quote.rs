//! Parsing and verifying TPM 2.0 quotes, without the TSS: pure code over bytes.
//!
//! The structure is `TPMS_ATTEST` of TPM 2.0 Library Part 2 §10.12.12, big-endian, with the
//! `TPMS_QUOTE_INFO` arm of §10.12.4. Every length is checked before it is used and trailing
//! bytes are rejected, so malformed evidence is an error, never a panic.

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{AttestError, Evidence, MeasurementLog, RootOfTrust, Verified, Verifier};

/// `TPM_GENERATED_VALUE` (Part 2 §6.2): every TPM-produced attestation starts with it.
const TPM_GENERATED_VALUE: u32 = 0xFF54_4347;
/// `TPM_ST_ATTEST_QUOTE` (Part 2 §6.9).
const TPM_ST_ATTEST_QUOTE: u16 = 0x8018;
/// `TPM_ALG_SHA256` (Part 2 §6.3).
const TPM_ALG_SHA256: u16 = 0x000B;

/// The fields of a quote that a verifier checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteInfo {
    /// `extraData`: the verifier's nonce, as the TPM signed it.
    pub extra_data: Vec<u8>,
    /// `clockInfo.resetCount`.
    pub reset_count: u32,
    /// The selected PCRs of the SHA-256 bank, in ascending order (the order the TPM digests them).
    pub pcrs: Vec<u8>,
    /// `pcrDigest`: SHA-256 over the concatenated selected PCR values.
    pub pcr_digest: Vec<u8>,
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], AttestError> {
        if self.buf.len() < n {
            return Err(AttestError::Malformed("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, AttestError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, AttestError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, AttestError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, AttestError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    /// A `TPM2B_*`: a u16 size and that many bytes.
    fn sized(&mut self) -> Result<&'a [u8], AttestError> {
        let n = self.u16()? as usize;
        self.take(n)
    }
}

/// Parses a marshalled `TPMS_ATTEST` that must be a quote.
pub fn parse_attest(bytes: &[u8]) -> Result<QuoteInfo, AttestError> {
    let mut r = Reader { buf: bytes };
    if r.u32()? != TPM_GENERATED_VALUE {
        return Err(AttestError::Malformed("not TPM-generated (magic)"));
    }
    if r.u16()? != TPM_ST_ATTEST_QUOTE {
        return Err(AttestError::Malformed("not a quote"));
    }
    let _qualified_signer = r.sized()?;
    let extra_data = r.sized()?.to_vec();
    let _clock = r.u64()?;
    let reset_count = r.u32()?;
    let _restart_count = r.u32()?;
    let _safe = r.u8()?;
    let _firmware = r.u64()?;
    let count = r.u32()?;
    if count > 16 {
        return Err(AttestError::Malformed("too many PCR banks"));
    }
    let mut pcrs = Vec::new();
    for _ in 0..count {
        let alg = r.u16()?;
        let size = r.u8()? as usize;
        if size > 4 {
            return Err(AttestError::Malformed("PCR select too large"));
        }
        let select = r.take(size)?;
        if alg != TPM_ALG_SHA256 {
            if select.iter().any(|b| *b != 0) {
                return Err(AttestError::Malformed("PCRs of a bank other than SHA-256"));
            }
            continue;
        }
        for (byte_index, byte) in select.iter().enumerate() {
            for bit in 0..8u8 {
                if byte & (1 << bit) != 0 {
                    let index = byte_index * 8 + bit as usize;
                    pcrs.push(
                        u8::try_from(index).map_err(|_| AttestError::Malformed("PCR index"))?,
                    );
                }
            }
        }
    }
    let pcr_digest = r.sized()?.to_vec();
    if !r.buf.is_empty() {
        return Err(AttestError::Malformed("trailing bytes"));
    }
    pcrs.sort_unstable();
    pcrs.dedup();
    Ok(QuoteInfo {
        extra_data,
        reset_count,
        pcrs,
        pcr_digest,
    })
}

/// Verifies TPM 2.0 quotes against pinned attestation keys and reference measurements.
///
/// Strict by default: the attestation key must be one of the pinned keys (in a cluster they come
/// from the signed membership list), and the log must hold exactly the reference measurements.
#[derive(Clone, Debug)]
pub struct QuoteVerifier {
    trusted_aks: Vec<VerifyingKey>,
    reference: MeasurementLog,
    accept_software_root: bool,
}

impl QuoteVerifier {
    /// A verifier that trusts these attestation keys (SEC1-encoded P-256 points) and expects
    /// exactly `reference` to have been measured. Software roots of trust are accepted and
    /// reported as such in [`Verified::root_of_trust`]; see [`QuoteVerifier::require_hardware`].
    pub fn new(
        trusted_aks: &[&[u8]],
        reference: MeasurementLog,
    ) -> Result<QuoteVerifier, AttestError> {
        let trusted_aks = trusted_aks
            .iter()
            .map(|k| {
                VerifyingKey::from_sec1_bytes(k)
                    .map_err(|_| AttestError::Malformed("attestation key"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QuoteVerifier {
            trusted_aks,
            reference,
            accept_software_root: true,
        })
    }

    /// Refuses evidence whose root of trust is software.
    #[must_use]
    pub fn require_hardware(mut self) -> QuoteVerifier {
        self.accept_software_root = false;
        self
    }
}

impl Verifier for QuoteVerifier {
    fn verify(&self, evidence: &Evidence, nonce: &[u8]) -> Result<Verified, AttestError> {
        if !(16..=64).contains(&nonce.len()) {
            return Err(AttestError::Nonce(nonce.len()));
        }
        // 1. The key must be pinned, and it must have signed exactly these bytes.
        let ak =
            VerifyingKey::from_sec1_bytes(&evidence.ak_public).map_err(|_| AttestError::Invalid)?;
        if !self.trusted_aks.contains(&ak) {
            return Err(AttestError::Invalid);
        }
        let sig = Signature::from_slice(&evidence.signature).map_err(|_| AttestError::Invalid)?;
        ak.verify(&evidence.attest, &sig)
            .map_err(|_| AttestError::Invalid)?;
        // 2. Only then parse what was signed: it must be a quote over our nonce.
        let info = parse_attest(&evidence.attest)?;
        if !bool::from(subtle_eq(&info.extra_data, nonce)) {
            return Err(AttestError::Invalid);
        }
        // 3. The log must replay to exactly the quoted PCRs and their signed digest.
        let pcrs = evidence.log.replay();
        if pcrs.iter().map(|(i, _)| *i).collect::<Vec<_>>() != info.pcrs {
            return Err(AttestError::Invalid);
        }
        let mut h = Sha256::new();
        for (_, value) in &pcrs {
            h.update(value);
        }
        if h.finalize().as_slice() != info.pcr_digest.as_slice() {
            return Err(AttestError::Invalid);
        }
        // 4. What was measured must be what we expect.
        if evidence.log.entries().len() != self.reference.entries().len() {
            return Err(AttestError::Mismatch(
                "number of measurements differs".to_owned(),
            ));
        }
        for (got, want) in evidence.log.entries().iter().zip(self.reference.entries()) {
            if got.pcr != want.pcr || got.digest != want.digest {
                return Err(AttestError::Mismatch(format!(
                    "{} (PCR {}) differs from the reference",
                    want.label, want.pcr
                )));
            }
        }
        if evidence.root_of_trust == RootOfTrust::Software && !self.accept_software_root {
            return Err(AttestError::Mismatch(
                "software root of trust refused".to_owned(),
            ));
        }
        Ok(Verified {
            pcrs,
            root_of_trust: evidence.root_of_trust,
            reset_count: info.reset_count,
        })
    }
}

/// Constant-time equality of two byte strings (lengths are public).
fn subtle_eq(a: &[u8], b: &[u8]) -> SubtleBool {
    if a.len() != b.len() {
        return SubtleBool(false);
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    SubtleBool(diff == 0)
}

struct SubtleBool(bool);

impl From<SubtleBool> for bool {
    fn from(b: SubtleBool) -> bool {
        b.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quote_bytes(nonce: &[u8], select: [u8; 3], digest: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(TPM_GENERATED_VALUE.to_be_bytes());
        v.extend(TPM_ST_ATTEST_QUOTE.to_be_bytes());
        v.extend(2u16.to_be_bytes());
        v.extend([0xAA, 0xBB]);
        v.extend((nonce.len() as u16).to_be_bytes());
        v.extend(nonce);
        v.extend(7u64.to_be_bytes());
        v.extend(3u32.to_be_bytes());
        v.extend(1u32.to_be_bytes());
        v.push(1);
        v.extend(9u64.to_be_bytes());
        v.extend(1u32.to_be_bytes());
        v.extend(TPM_ALG_SHA256.to_be_bytes());
        v.push(3);
        v.extend(select);
        v.extend((digest.len() as u16).to_be_bytes());
        v.extend(digest);
        v
    }

    #[test]
    fn parses_a_quote() {
        let q = quote_bytes(&[1; 16], [0, 0x01, 0x80], &[5; 32]);
        let info = parse_attest(&q).unwrap();
        assert_eq!(info.extra_data, vec![1; 16]);
        assert_eq!(info.pcrs, vec![8, 23]);
        assert_eq!(info.reset_count, 3);
        assert_eq!(info.pcr_digest, vec![5; 32]);
    }

    #[test]
    fn rejects_trailing_truncated_and_foreign() {
        let q = quote_bytes(&[1; 16], [0, 0x01, 0x80], &[5; 32]);
        let mut long = q.clone();
        long.push(0);
        assert!(matches!(
            parse_attest(&long),
            Err(AttestError::Malformed("trailing bytes"))
        ));
        for n in 0..q.len() {
            assert!(parse_attest(&q[..n]).is_err(), "prefix {n} accepted");
        }
        let mut bad = q.clone();
        bad[0] ^= 1;
        assert!(parse_attest(&bad).is_err());
        let mut certify = q;
        certify[5] = 0x17;
        assert!(parse_attest(&certify).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_attest(&bytes);
        }
    }
}
