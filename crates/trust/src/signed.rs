//! Signed forms of evidence records and timestamps, and the key ring that checks them.
//!
//! Each record is encoded canonically (`toolcap-crypto`: domain-separated tag, version,
//! every field) and signed by its reporting node's own Ed25519 key; the tag is part of the
//! signed frame, so an evidence signature never verifies as a timestamp or a clock entry.

use std::collections::BTreeMap;

use rand_core::{CryptoRng, RngCore};
use toolcap_crypto::{
    BatchItem, Canonical, Decoder, Encoder, Hash, SIGNATURE_LEN, Signature, SigningKey,
    VerifyingKey, verify_batch,
};

use crate::error::{Error, Result};
use crate::evidence::{AgentId, Evidence, EvidenceKind, EvidenceView, Llr, NodeId, Refusal};
use crate::staleness::{DataKind, Staleness, StalenessConfig};

impl Canonical for Evidence {
    const TAG: &'static [u8] = b"toolcap/trust/evidence/v1";
    const VERSION: u16 = 1;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.array(&self.id)
            .u64(self.agent.0)
            .u32(self.reporter.0)
            .u8(self.kind.code())
            .i64(self.llr.0)
            .u16(self.confidence)
            .u64(self.clock)
            .array(&self.payload);
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        Ok(Evidence {
            id: dec.array()?,
            agent: AgentId(dec.u64()?),
            reporter: NodeId(dec.u32()?),
            kind: EvidenceKind::from_code(dec.u8()?)
                .map_err(|_| toolcap_crypto::Error::InvalidField("evidence kind"))?,
            llr: Llr(dec.i64()?),
            confidence: {
                let c = dec.u16()?;
                if c > 1000 {
                    return Err(toolcap_crypto::Error::InvalidField("confidence"));
                }
                c
            },
            clock: dec.u64()?,
            payload: dec.array()?,
        })
    }
}

/// The verifying keys of a group's nodes.
#[derive(Debug, Clone, Default)]
pub struct KeyRing(BTreeMap<NodeId, VerifyingKey>);

impl KeyRing {
    /// An empty ring.
    pub fn new() -> Self {
        KeyRing::default()
    }

    /// Registers `node`'s key.
    pub fn insert(&mut self, node: NodeId, key: VerifyingKey) {
        self.0.insert(node, key);
    }

    /// `node`'s key, if registered.
    pub fn key(&self, node: NodeId) -> Option<&VerifyingKey> {
        self.0.get(&node)
    }
}

impl FromIterator<(NodeId, VerifyingKey)> for KeyRing {
    fn from_iter<T: IntoIterator<Item = (NodeId, VerifyingKey)>>(iter: T) -> Self {
        KeyRing(iter.into_iter().collect())
    }
}

fn split_signed(bytes: &[u8]) -> Result<(&[u8], Signature)> {
    if bytes.len() < SIGNATURE_LEN {
        return Err(Error::Malformed);
    }
    let (body, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
    Ok((
        body,
        Signature::from_slice(sig).map_err(|_| Error::Malformed)?,
    ))
}

/// An evidence record with its reporter's signature.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedEvidence {
    /// The record.
    pub evidence: Evidence,
    /// The reporter's signature over its canonical encoding.
    pub signature: Signature,
}

impl SignedEvidence {
    /// Signs `evidence` with the reporter's key.
    pub fn sign(evidence: Evidence, key: &SigningKey) -> Self {
        let signature = key.sign(Evidence::TAG, &evidence.to_canonical());
        SignedEvidence {
            evidence,
            signature,
        }
    }

    /// Verifies the signature against the reporter's registered key (strict).
    pub fn verify(&self, keys: &KeyRing) -> Result<()> {
        let key = keys
            .key(self.evidence.reporter)
            .ok_or(Error::InvalidSignature)?;
        key.verify(
            Evidence::TAG,
            &self.evidence.to_canonical(),
            &self.signature,
        )
        .map_err(|_| Error::InvalidSignature)
    }

    /// Canonical record followed by the 64-byte signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.evidence.to_canonical();
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// Decodes [`SignedEvidence::to_bytes`] (does not verify).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (body, signature) = split_signed(bytes)?;
        let evidence = Evidence::from_canonical(body).map_err(|_| Error::Malformed)?;
        Ok(SignedEvidence {
            evidence,
            signature,
        })
    }
}

/// Verifies many evidence signatures in one batch. All or nothing; on error, verify one by
/// one to find the bad records.
pub fn verify_evidence_batch(items: &[SignedEvidence], keys: &KeyRing) -> Result<()> {
    let bodies: Vec<Vec<u8>> = items.iter().map(|s| s.evidence.to_canonical()).collect();
    let mut batch = Vec::with_capacity(items.len());
    for (s, body) in items.iter().zip(&bodies) {
        let key = keys
            .key(s.evidence.reporter)
            .ok_or(Error::InvalidSignature)?;
        batch.push(BatchItem {
            tag: Evidence::TAG,
            message: body,
            signature: &s.signature,
            key,
        });
    }
    verify_batch(&batch).map_err(|_| Error::InvalidSignature)
}

/// Why a signed record was not taken into a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Bad signature or unknown reporter.
    Signature,
    /// Refused by the view (duplicate id, bad confidence).
    View(Refusal),
}

impl EvidenceView {
    /// Verifies `s` and counts it: forged evidence never reaches the log-odds.
    pub fn add_signed(&mut self, s: &SignedEvidence, keys: &KeyRing) -> Result<(), Rejected> {
        s.verify(keys).map_err(|_| Rejected::Signature)?;
        self.add(&s.evidence).map_err(Rejected::View)
    }
}

/// A node's signed statement that a payload of some kind existed at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// The issuing node.
    pub node: NodeId,
    /// The kind of data stamped.
    pub kind: DataKind,
    /// Issue time, milliseconds since the Unix epoch (from the issuer's injected clock).
    pub issued_ms: u64,
    /// SHA3-256 of the data.
    pub payload: Hash,
}

impl Canonical for Timestamp {
    const TAG: &'static [u8] = b"toolcap/trust/timestamp/v1";
    const VERSION: u16 = 1;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.u32(self.node.0)
            .u8(self.kind.code())
            .u64(self.issued_ms)
            .array(&self.payload.0);
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        Ok(Timestamp {
            node: NodeId(dec.u32()?),
            kind: DataKind::from_code(dec.u8()?)
                .map_err(|_| toolcap_crypto::Error::InvalidField("data kind"))?,
            issued_ms: dec.u64()?,
            payload: Hash(dec.array()?),
        })
    }
}

/// A timestamp and its issuer's signature.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedTimestamp {
    /// The statement.
    pub timestamp: Timestamp,
    /// The issuer's signature.
    pub signature: Signature,
}

/// Why a signed timestamp was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshnessError {
    /// Bad signature or unknown issuer.
    Signature,
    /// The payload is not the one stamped.
    Payload,
    /// Too old for the drawn window, or from the future.
    Stale(Staleness),
}

impl SignedTimestamp {
    /// Stamps `payload` of `kind` at `issued_ms`.
    pub fn sign(timestamp: Timestamp, key: &SigningKey) -> Self {
        let signature = key.sign(Timestamp::TAG, &timestamp.to_canonical());
        SignedTimestamp {
            timestamp,
            signature,
        }
    }

    /// Verifies the signature and the payload, draws this record's staleness window from
    /// the receiver's CSPRNG and checks freshness at `now_ms`. Returns the window used.
    pub fn check<R: RngCore + CryptoRng>(
        &self,
        keys: &KeyRing,
        payload: &Hash,
        config: &StalenessConfig,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<u64, FreshnessError> {
        let key = keys
            .key(self.timestamp.node)
            .ok_or(FreshnessError::Signature)?;
        key.verify(
            Timestamp::TAG,
            &self.timestamp.to_canonical(),
            &self.signature,
        )
        .map_err(|_| FreshnessError::Signature)?;
        if &self.timestamp.payload != payload {
            return Err(FreshnessError::Payload);
        }
        let window = config.draw(self.timestamp.kind, rng);
        config
            .check(self.timestamp.issued_ms, now_ms, window)
            .map_err(FreshnessError::Stale)?;
        Ok(window)
    }

    /// Canonical record followed by the signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.timestamp.to_canonical();
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// Decodes [`SignedTimestamp::to_bytes`] (does not verify).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (body, signature) = split_signed(bytes)?;
        let timestamp = Timestamp::from_canonical(body).map_err(|_| Error::Malformed)?;
        Ok(SignedTimestamp {
            timestamp,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use toolcap_crypto::sha3_256;

    fn evidence(reporter: u32) -> Evidence {
        Evidence {
            id: [reporter as u8; 16],
            agent: AgentId(42),
            reporter: NodeId(reporter),
            kind: EvidenceKind::Rejection,
            llr: Llr::from_nats(2.5).unwrap(),
            confidence: 900,
            clock: 17,
            payload: sha3_256(b"summary").0,
        }
    }

    fn ring(n: u32) -> (Vec<SigningKey>, KeyRing) {
        let keys: Vec<SigningKey> = (0..n)
            .map(|i| SigningKey::from_seed(&[i as u8 + 1; 32]))
            .collect();
        let ring = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (NodeId(i as u32), k.verifying_key()))
            .collect();
        (keys, ring)
    }

    #[test]
    fn every_field_is_inside_the_signature() {
        let (keys, ring) = ring(2);
        let s = SignedEvidence::sign(evidence(0), &keys[0]);
        s.verify(&ring).unwrap();
        type Mutation = Box<dyn Fn(&mut Evidence)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|e| e.id[0] ^= 1),
            Box::new(|e| e.agent = AgentId(43)),
            Box::new(|e| e.reporter = NodeId(1)),
            Box::new(|e| e.kind = EvidenceKind::Alert),
            Box::new(|e| e.llr = Llr(e.llr.0 + 1)),
            Box::new(|e| e.confidence -= 1),
            Box::new(|e| e.clock += 1),
            Box::new(|e| e.payload[31] ^= 1),
        ];
        for m in mutations {
            let mut t = s.clone();
            m(&mut t.evidence);
            assert_eq!(t.verify(&ring), Err(Error::InvalidSignature));
        }
    }

    #[test]
    fn forged_evidence_never_reaches_a_view() {
        let (keys, ring) = ring(2);
        let mut view = EvidenceView::new(Default::default());
        // Reporter 1 signs a record claiming to come from reporter 0.
        let forged = SignedEvidence::sign(evidence(0), &keys[1]);
        assert_eq!(view.add_signed(&forged, &ring), Err(Rejected::Signature));
        let good = SignedEvidence::sign(evidence(0), &keys[0]);
        view.add_signed(&good, &ring).unwrap();
        assert_eq!(
            view.add_signed(&good, &ring),
            Err(Rejected::View(Refusal::Duplicate))
        );
        assert_eq!(view.assess(AgentId(42)).reporters, 1);
    }

    #[test]
    fn batch_verification_is_all_or_nothing() {
        let (keys, ring) = ring(3);
        let mut batch: Vec<SignedEvidence> = (0..3)
            .map(|i| SignedEvidence::sign(evidence(i), &keys[i as usize]))
            .collect();
        verify_evidence_batch(&batch, &ring).unwrap();
        batch[1].evidence.llr = Llr(0);
        assert!(verify_evidence_batch(&batch, &ring).is_err());
    }

    #[test]
    fn signed_timestamps_are_checked_against_a_drawn_window() {
        let (keys, ring) = ring(1);
        let payload = sha3_256(b"baseline");
        let ts = SignedTimestamp::sign(
            Timestamp {
                node: NodeId(0),
                kind: DataKind::Anomaly,
                issued_ms: 10_000,
                payload,
            },
            &keys[0],
        );
        let cfg = StalenessConfig::default();
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        // Within the shortest anomaly window: always fresh.
        let w = ts.check(&ring, &payload, &cfg, 10_400, &mut rng).unwrap();
        assert!((500..=1500).contains(&w));
        // Beyond the longest: always stale.
        assert!(matches!(
            ts.check(&ring, &payload, &cfg, 11_600, &mut rng),
            Err(FreshnessError::Stale(Staleness::Stale { .. }))
        ));
        assert_eq!(
            ts.check(&ring, &sha3_256(b"other"), &cfg, 10_400, &mut rng),
            Err(FreshnessError::Payload)
        );
        let mut moved = ts.clone();
        moved.timestamp.issued_ms = 11_000;
        assert_eq!(
            moved.check(&ring, &payload, &cfg, 11_100, &mut rng),
            Err(FreshnessError::Signature)
        );
        let back = SignedTimestamp::from_bytes(&ts.to_bytes()).unwrap();
        assert_eq!(back, ts);
    }

    proptest! {
        #[test]
        fn evidence_roundtrips(id in any::<[u8; 16]>(), agent in any::<u64>(), llr in any::<i64>(),
                               conf in 0u16..=1000, clock in any::<u64>(), code in 1u8..=5) {
            let e = Evidence {
                id, agent: AgentId(agent), reporter: NodeId(3),
                kind: EvidenceKind::from_code(code).unwrap(), llr: Llr(llr),
                confidence: conf, clock, payload: [7; 32],
            };
            let s = SignedEvidence { evidence: e, signature: Signature::from_bytes(&[1; 64]) };
            prop_assert_eq!(SignedEvidence::from_bytes(&s.to_bytes()).unwrap(), s);
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = SignedEvidence::from_bytes(&bytes);
            let _ = SignedTimestamp::from_bytes(&bytes);
        }
    }
}
