//! Attestation before a peer joins: a challenge-response over the cluster link.
//!
//! An aggregator that requires attestation admits a child's frames only after the child has
//! answered a fresh challenge with a TPM quote that verifies:
//!
//! 1. the verifier draws a 32-byte nonce from the operating system's CSPRNG and sends it to the
//!    child in a sealed [`FrameKind::Attestation`](crate::FrameKind) frame ([`AttestMsg::Challenge`]);
//! 2. the child's [`Attester`] quotes its PCRs (16: the node binary, 23: its configuration file)
//!    over that nonce and sends back the evidence ([`AttestMsg::Quote`]), sealed with its link
//!    key, so the quote is bound to the child's identity on the link;
//! 3. the verifier checks the quote with a [`QuoteVerifier`] that pins the child's attestation key
//!    and expects the measurements of the signed membership list ([`crate::AttestationRef`]),
//!    and records the outcome, signed with its identity key, in its audit log
//!    ([`AttestationRecord`]).
//!
//! A nonce is used once. An admission lasts [`ADMISSION_MS`] and is renewed by a new challenge
//! halfway through; a child whose quote fails is refused until a later challenge verifies.
//! With `swtpm` the root of trust is software: the exchange is real, the assurance is not
//! hardware-backed, and every report (status, audit record) says so.

use std::sync::mpsc;

use toolcap_attest::{
    AttestError, Attester, Evidence, Measurement, MeasurementLog, QuoteVerifier, RootOfTrust,
    Verifier,
};
use toolcap_crypto::{Canonical, Decoder, Encoder};

use crate::ClusterError;

/// Domain tag of an attestation frame's payload.
const MSG_TAG: &[u8] = b"toolcap/cluster/attestation-frame/v1";
/// How long an admission is valid without a renewed quote (milliseconds).
pub const ADMISSION_MS: u64 = 60_000;
/// At most this many measurements in a quote's log.
const MAX_LOG: usize = 16;

/// What travels in an attestation frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttestMsg {
    /// Verifier to attester: quote over this nonce.
    Challenge {
        /// A fresh nonce from the verifier's CSPRNG.
        nonce: [u8; 32],
    },
    /// Attester to verifier: the quote over the challenge's nonce.
    Quote {
        /// The nonce answered.
        nonce: [u8; 32],
        /// The TPM evidence.
        evidence: Evidence,
    },
}

fn root_code(r: RootOfTrust) -> u8 {
    match r {
        RootOfTrust::Software => 1,
        RootOfTrust::Hardware => 2,
    }
}

/// The root of trust as reports name it.
pub fn root_name(r: RootOfTrust) -> &'static str {
    match r {
        RootOfTrust::Software => "software (swtpm): not hardware-backed",
        RootOfTrust::Hardware => "hardware TPM",
    }
}

impl AttestMsg {
    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new(MSG_TAG, 1);
        match self {
            AttestMsg::Challenge { nonce } => {
                enc.u8(1).array(nonce);
            }
            AttestMsg::Quote { nonce, evidence } => {
                enc.u8(2)
                    .array(nonce)
                    .bytes(&evidence.attest)
                    .array(&evidence.signature)
                    .bytes(&evidence.ak_public)
                    .seq(evidence.log.entries().len());
                for m in evidence.log.entries() {
                    enc.u8(m.pcr).str(&m.label).array(&m.digest);
                }
                enc.u8(root_code(evidence.root_of_trust));
            }
        }
        enc.finish()
    }

    /// Decodes [`AttestMsg::encode`]'s bytes; anything else is an error.
    pub fn decode(bytes: &[u8]) -> Result<AttestMsg, ClusterError> {
        let mut dec = Decoder::new(bytes, MSG_TAG, &[1])?;
        let msg = match dec.u8()? {
            1 => AttestMsg::Challenge {
                nonce: dec.array()?,
            },
            2 => {
                let nonce = dec.array()?;
                let attest = dec.bytes()?.to_vec();
                let signature = dec.array()?;
                let ak_public = dec.bytes()?.to_vec();
                let n = dec.seq()?;
                if n > MAX_LOG {
                    return Err(ClusterError::InvalidFrame);
                }
                let mut log = MeasurementLog::default();
                for _ in 0..n {
                    log.push(Measurement {
                        pcr: dec.u8()?,
                        label: dec.str()?.to_owned(),
                        digest: dec.array()?,
                    });
                }
                let root_of_trust = match dec.u8()? {
                    1 => RootOfTrust::Software,
                    2 => RootOfTrust::Hardware,
                    _ => return Err(ClusterError::InvalidFrame),
                };
                AttestMsg::Quote {
                    nonce,
                    evidence: Evidence {
                        attest,
                        signature,
                        ak_public,
                        log,
                        root_of_trust,
                    },
                }
            }
            _ => return Err(ClusterError::InvalidFrame),
        };
        dec.finish()?;
        Ok(msg)
    }
}

/// A verifier's decision about a peer's quote, signed by the verifier and kept in its audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationRecord {
    /// The verifying node.
    pub verifier: String,
    /// The node that was challenged.
    pub subject: String,
    /// Admitted (true) or refused.
    pub admitted: bool,
    /// Why: "quote verified" or the verification error.
    pub reason: String,
    /// The root of trust the evidence claimed (0: none, 1: software, 2: hardware).
    pub root_of_trust: u8,
    /// The nonce of the challenge.
    pub nonce: [u8; 32],
    /// SHA-256 of the quoted `TPMS_ATTEST` bytes.
    pub quote_digest: [u8; 32],
    /// When, in Unix milliseconds.
    pub unix_ms: u64,
}

impl Canonical for AttestationRecord {
    const TAG: &'static [u8] = b"toolcap/cluster/attestation-record/v1";
    const VERSION: u16 = 1;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.str(&self.verifier)
            .str(&self.subject)
            .bool(self.admitted)
            .str(&self.reason)
            .u8(self.root_of_trust)
            .array(&self.nonce)
            .array(&self.quote_digest)
            .u64(self.unix_ms);
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        Ok(AttestationRecord {
            verifier: dec.str()?.to_owned(),
            subject: dec.str()?.to_owned(),
            admitted: dec.bool()?,
            reason: dec.str()?.to_owned(),
            root_of_trust: dec.u8()?,
            nonce: dec.array()?,
            quote_digest: dec.array()?,
            unix_ms: dec.u64()?,
        })
    }
}

/// A fresh nonce from the operating system's CSPRNG.
pub fn fresh_nonce() -> Result<[u8; 32], ClusterError> {
    let mut n = [0u8; 32];
    getrandom::fill(&mut n).map_err(|_| ClusterError::Noise("no randomness".into()))?;
    Ok(n)
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Measurement::of(0, "", bytes).digest
}

/// SHA-256 of a file, read in chunks (a node binary is large).
pub fn sha256_file(path: &std::path::Path) -> Result<[u8; 32], ClusterError> {
    use sha2::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path)
        .map_err(|e| ClusterError::Membership(format!("{}: {e}", path.display())))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| ClusterError::Membership(format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// How a child stands with a verifier that requires attestation.
#[derive(Clone, Debug)]
pub(crate) enum PeerState {
    /// No valid quote yet (a challenge may be outstanding).
    Pending,
    /// Admitted until `until_ms`.
    Admitted { until_ms: u64 },
    /// The last quote failed.
    Refused { reason: String },
}

/// The verifier's side for one child.
pub(crate) struct PeerCheck {
    pub(crate) verifier: QuoteVerifier,
    pub(crate) state: PeerState,
    /// The outstanding challenge and when it was sent.
    pub(crate) challenge: Option<([u8; 32], u64)>,
    /// When the last decision was taken.
    pub(crate) decided_ms: u64,
}

impl std::fmt::Debug for PeerCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerCheck")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl PeerCheck {
    pub(crate) fn new(reference: &crate::AttestationRef) -> Result<PeerCheck, ClusterError> {
        let verifier = QuoteVerifier::new(&[&reference.key], reference.reference_log())
            .map_err(|e| ClusterError::Membership(format!("attestation key: {e}")))?;
        Ok(PeerCheck {
            verifier,
            state: PeerState::Pending,
            challenge: None,
            decided_ms: 0,
        })
    }

    /// Whether the child's frames are accepted at `now_ms`.
    pub(crate) fn admitted(&self, now_ms: u64) -> bool {
        matches!(self.state, PeerState::Admitted { until_ms, .. } if now_ms < until_ms)
    }

    /// Whether a new challenge is due at `now_ms` (`retry_ms`: how long an unanswered challenge
    /// stands).
    pub(crate) fn challenge_due(&self, now_ms: u64, retry_ms: u64) -> bool {
        if let Some((_, sent)) = self.challenge
            && now_ms < sent.saturating_add(retry_ms)
        {
            return false;
        }
        match &self.state {
            PeerState::Pending => true,
            // Renew halfway through the admission.
            PeerState::Admitted { until_ms, .. } => {
                now_ms.saturating_add(ADMISSION_MS / 2) >= *until_ms
            }
            // A refused child is asked again now and then (it may have been fixed).
            PeerState::Refused { .. } => now_ms >= self.decided_ms.saturating_add(10_000),
        }
    }

    /// Checks a quote answering `nonce`. `None`: not an answer to the outstanding challenge
    /// (stale or replayed), nothing decided. `Some(Ok)`: admitted; `Some(Err)`: refused.
    pub(crate) fn check(
        &mut self,
        nonce: &[u8; 32],
        evidence: &Evidence,
        now_ms: u64,
    ) -> Option<Result<RootOfTrust, AttestError>> {
        let (want, _) = self.challenge?;
        if &want != nonce {
            return None;
        }
        // A nonce is answered once.
        self.challenge = None;
        self.decided_ms = now_ms;
        let outcome = self.verifier.verify(evidence, &want);
        self.state = match &outcome {
            Ok(_) => PeerState::Admitted {
                until_ms: now_ms.saturating_add(ADMISSION_MS),
            },
            Err(e) => PeerState::Refused {
                reason: e.to_string(),
            },
        };
        Some(outcome.map(|v| v.root_of_trust))
    }
}

type QuoteRequest = (
    Vec<u8>,
    tokio::sync::oneshot::Sender<Result<Evidence, String>>,
);

/// A node's own [`Attester`], run on a thread of its own (TPM contexts are not `Send`, and TPM
/// commands block).
#[derive(Clone, Debug)]
pub struct AttestHandle {
    requests: mpsc::Sender<QuoteRequest>,
    root: RootOfTrust,
}

impl AttestHandle {
    /// Starts the attester thread: `make` builds (connects, measures) the attester on it.
    pub fn spawn<F>(make: F) -> Result<AttestHandle, ClusterError>
    where
        F: FnOnce() -> Result<Box<dyn Attester>, AttestError> + Send + 'static,
    {
        let (requests, rx) = mpsc::channel::<QuoteRequest>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        std::thread::Builder::new()
            .name("toolcap-attester".into())
            .spawn(move || {
                let mut attester = match make() {
                    Ok(a) => {
                        let _ = ready_tx.send(Ok(()));
                        a
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                while let Ok((nonce, reply)) = rx.recv() {
                    let _ = reply.send(attester.attest(&nonce).map_err(|e| e.to_string()));
                }
            })
            .map_err(|e| ClusterError::Transport(format!("attester thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(AttestHandle {
                requests,
                root: RootOfTrust::Software,
            }),
            Ok(Err(e)) => Err(ClusterError::Transport(format!("attester: {e}"))),
            Err(_) => Err(ClusterError::Transport("attester thread ended".into())),
        }
    }

    /// Marks the attester's root of trust (software unless said otherwise).
    #[must_use]
    pub fn with_root(mut self, root: RootOfTrust) -> AttestHandle {
        self.root = root;
        self
    }

    /// The root of trust of this node's own evidence.
    pub fn root_of_trust(&self) -> RootOfTrust {
        self.root
    }

    /// Quotes over `nonce`.
    pub async fn quote(&self, nonce: &[u8]) -> Result<Evidence, ClusterError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.requests
            .send((nonce.to_vec(), tx))
            .map_err(|_| ClusterError::Transport("attester thread ended".into()))?;
        rx.await
            .map_err(|_| ClusterError::Transport("attester thread ended".into()))?
            .map_err(|e| ClusterError::Transport(format!("attester: {e}")))
    }
}

/// Starts a [`SwtpmAttester`](toolcap_attest::SwtpmAttester) on `tcti` that measures the two
/// digests (binary, config) from reset PCRs.
#[cfg(feature = "tpm")]
pub fn spawn_swtpm(
    tcti: &str,
    binary: [u8; 32],
    config: [u8; 32],
) -> Result<AttestHandle, ClusterError> {
    let tcti = tcti.to_owned();
    AttestHandle::spawn(move || {
        let mut a = toolcap_attest::SwtpmAttester::connect(&tcti)?;
        a.measure_digests(binary, config)?;
        Ok(Box::new(a) as Box<dyn Attester>)
    })
}

/// The attestation key of the TPM on `tcti` (what [`crate::setup::init`] pins in the membership).
#[cfg(feature = "tpm")]
pub fn swtpm_attestation_key(tcti: &str) -> Result<Vec<u8>, ClusterError> {
    let a = toolcap_attest::SwtpmAttester::connect(tcti)
        .map_err(|e| ClusterError::Transport(format!("attester: {e}")))?;
    Ok(a.ak_public().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_reject_garbage() {
        let mut log = MeasurementLog::default();
        log.push(Measurement::of(16, "binary", b"b"));
        log.push(Measurement::of(23, "config", b"c"));
        let msgs = [
            AttestMsg::Challenge { nonce: [3; 32] },
            AttestMsg::Quote {
                nonce: [4; 32],
                evidence: Evidence {
                    attest: vec![1, 2, 3],
                    signature: [9; 64],
                    ak_public: vec![4; 65],
                    log,
                    root_of_trust: RootOfTrust::Software,
                },
            },
        ];
        for m in msgs {
            let bytes = m.encode();
            assert_eq!(AttestMsg::decode(&bytes).unwrap(), m);
            let mut long = bytes.clone();
            long.push(0);
            assert!(AttestMsg::decode(&long).is_err());
            for n in 0..bytes.len() {
                assert!(AttestMsg::decode(&bytes[..n]).is_err(), "prefix {n}");
            }
        }
    }

    #[test]
    fn a_quote_for_another_nonce_decides_nothing_and_a_bad_one_refuses() {
        let reference = crate::AttestationRef {
            key: p256_point(),
            binary: [1; 32],
            config: [2; 32],
        };
        let mut peer = PeerCheck::new(&reference).unwrap();
        assert!(!peer.admitted(0));
        assert!(peer.challenge_due(0, 1000));
        peer.challenge = Some(([7; 32], 0));
        assert!(!peer.challenge_due(500, 1000), "a challenge is outstanding");
        let evidence = Evidence {
            attest: vec![0; 10],
            signature: [0; 64],
            ak_public: reference.key.clone(),
            log: reference.reference_log(),
            root_of_trust: RootOfTrust::Software,
        };
        assert!(peer.check(&[8; 32], &evidence, 10).is_none(), "stale nonce");
        assert!(matches!(peer.check(&[7; 32], &evidence, 10), Some(Err(_))));
        assert!(!peer.admitted(10));
        assert!(
            peer.check(&[7; 32], &evidence, 11).is_none(),
            "a nonce is answered once"
        );
        assert!(
            !peer.challenge_due(5_000, 1000),
            "refused: asked again later"
        );
        assert!(peer.challenge_due(10_010, 1000));
    }

    /// A valid SEC1 P-256 point (the generator).
    fn p256_point() -> Vec<u8> {
        let x = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
        let y = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
        let mut v = vec![4u8];
        for h in [x, y] {
            for i in (0..64).step_by(2) {
                v.push(u8::from_str_radix(&h[i..i + 2], 16).unwrap());
            }
        }
        v
    }
}
