//! Platform attestation for toolcap nodes.
//!
//! A node that wants to join a cluster proves what it runs: its binary and its configuration are
//! measured into TPM platform configuration registers (PCRs), and the TPM signs a *quote* over
//! those registers and a fresh nonce chosen by the verifier.
//!
//! - [`Attester`] produces [`Evidence`] over a verifier's nonce. `SwtpmAttester` is the working
//!   backend (cargo feature `tpm`, which links the system TSS libraries): it talks to a TPM 2.0
//!   through the TSS (`tss-esapi`), in practice the software TPM
//!   `swtpm`. Its evidence says plainly that the root of trust is software
//!   ([`RootOfTrust::Software`]): swtpm demonstrates the protocol, not hardware-backed assurance.
//! - [`Verifier`] checks evidence. [`QuoteVerifier`] is pure (no TSS, no I/O): it parses the
//!   quoted `TPMS_ATTEST` structure itself, checks the ECDSA P-256 signature of the attestation
//!   key, the nonce, the quoted PCR digest against the replayed measurement log, and the log
//!   against reference values.
//! - SGX and other hardware backends have no hardware here; they would be further `Attester`
//!   implementations.
//!
//! ```
//! use toolcap_attest::{Measurement, MeasurementLog};
//!
//! // The verifier replays a log exactly as the TPM extends its PCRs.
//! let mut log = MeasurementLog::default();
//! log.push(Measurement::of(16, "binary", b"the node binary"));
//! log.push(Measurement::of(23, "config", b"listen = \"127.0.0.1:7000\""));
//! let pcrs = log.replay();
//! assert_eq!(pcrs.len(), 2);
//! assert_ne!(pcrs[0].1, [0u8; 32]);
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

mod measure;
mod quote;
#[cfg(feature = "tpm")]
mod swtpm;

pub use measure::{Measurement, MeasurementLog, PCR_BINARY, PCR_CONFIG};
pub use quote::{QuoteInfo, QuoteVerifier, parse_attest};
#[cfg(feature = "tpm")]
pub use swtpm::SwtpmAttester;

/// Where trust in the evidence is rooted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootOfTrust {
    /// A software TPM (swtpm): the mechanism is real, the assurance is not hardware-backed.
    Software,
    /// A hardware TPM.
    Hardware,
}

/// What an attester hands a verifier: a TPM 2.0 quote and the log of what was measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The marshalled `TPMS_ATTEST` structure the TPM signed (TPM 2.0 Part 2, §10.12.12).
    pub attest: Vec<u8>,
    /// The ECDSA P-256 signature over SHA-256(`attest`), as `r || s` (32 bytes each).
    pub signature: [u8; 64],
    /// The attestation key's public key, SEC1 uncompressed (`0x04 || x || y`).
    pub ak_public: Vec<u8>,
    /// What was extended into which PCR, in order.
    pub log: MeasurementLog,
    /// The root of trust the attester claims.
    pub root_of_trust: RootOfTrust,
}

/// The result of a successful verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The quoted PCR values, replayed from the log and matching the signed digest.
    pub pcrs: Vec<(u8, [u8; 32])>,
    /// The root of trust of the evidence. A software root is reported as such.
    pub root_of_trust: RootOfTrust,
    /// The TPM's reset counter at quote time (a reboot of the TPM changes it).
    pub reset_count: u32,
}

/// Produces evidence about the platform it runs on.
pub trait Attester {
    /// Quotes the measured state over `nonce`, a fresh value chosen by the verifier.
    fn attest(&mut self, nonce: &[u8]) -> Result<Evidence, AttestError>;
}

/// Checks evidence produced by an [`Attester`].
pub trait Verifier {
    /// Verifies `evidence` against the `nonce` this verifier issued.
    fn verify(&self, evidence: &Evidence, nonce: &[u8]) -> Result<Verified, AttestError>;
}

/// Errors of attestation and its verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// The TPM (or its connection) failed.
    #[error("tpm: {0}")]
    Tpm(String),
    /// The evidence is malformed: the quote structure does not parse.
    #[error("malformed quote: {0}")]
    Malformed(&'static str),
    /// The evidence does not verify: signature, nonce, PCR digest or key. Deliberately opaque.
    #[error("invalid attestation")]
    Invalid,
    /// The evidence verifies, but what was measured is not what the verifier expects.
    #[error("measurement mismatch: {0}")]
    Mismatch(String),
    /// A nonce of unusable length.
    #[error("nonce must be 16 to 64 bytes, got {0}")]
    Nonce(usize),
}
