//! The signed records of the protocol and their canonical encodings.
//!
//! Every record is encoded with `toolcap-crypto`'s canonical encoder (domain-separation tag,
//! version, every field) and signed under that tag, so a signature over one record type can
//! never be replayed as another, and a change to any field breaks the signature.

use std::fmt;

use toolcap_crypto::{Canonical, Decoder, Encoder, Hash, Signature, SigningKey, VerifyingKey};

use crate::error::{Error, Result};
use crate::stats::Moments;

/// Largest dimension a decoder accepts: bounds the co-moment matrix a hostile record can claim.
pub const MAX_DIM: usize = 256;

/// A node's identifier: its index in the membership list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u64);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// The declared per-coordinate box contributions are clipped to before they are summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipBox {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl ClipBox {
    /// A box with bounds `lo[j] < hi[j]`, all finite.
    pub fn new(lo: Vec<f64>, hi: Vec<f64>) -> Result<Self> {
        if lo.len() != hi.len() {
            return Err(Error::Dimension {
                expected: lo.len(),
                got: hi.len(),
            });
        }
        if !lo.iter().chain(&hi).all(|v| v.is_finite()) {
            return Err(Error::NonFinite("clip box"));
        }
        if lo.iter().zip(&hi).any(|(l, h)| l >= h) {
            return Err(Error::Config("clip box needs lo < hi"));
        }
        Ok(ClipBox { lo, hi })
    }
    /// The same interval `[lo, hi]` on every one of `dim` coordinates.
    pub fn uniform(dim: usize, lo: f64, hi: f64) -> Result<Self> {
        ClipBox::new(vec![lo; dim], vec![hi; dim])
    }
    /// The dimension.
    pub fn dim(&self) -> usize {
        self.lo.len()
    }
    /// Lower bounds.
    pub fn lo(&self) -> &[f64] {
        &self.lo
    }
    /// Upper bounds.
    pub fn hi(&self) -> &[f64] {
        &self.hi
    }
    /// Clips `x` into the box in place (NaN becomes the lower bound: fail closed).
    pub fn clip(&self, x: &mut [f64]) {
        for ((v, l), h) in x.iter_mut().zip(&self.lo).zip(&self.hi) {
            *v = if v.is_nan() { *l } else { v.clamp(*l, *h) };
        }
    }
    fn encode(&self, enc: &mut Encoder) {
        enc.seq(self.lo.len());
        for (l, h) in self.lo.iter().zip(&self.hi) {
            enc.f64(*l).f64(*h);
        }
    }
    fn decode(dec: &mut Decoder<'_>) -> Result<Self> {
        let n = dec.seq()?;
        if n > MAX_DIM {
            return Err(Error::Config("dimension above MAX_DIM"));
        }
        let (mut lo, mut hi) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            lo.push(dec.f64()?);
            hi.push(dec.f64()?);
        }
        ClipBox::new(lo, hi)
    }
}

fn encode_moments(m: &Moments, enc: &mut Encoder) {
    enc.u64(m.count());
    enc.seq(m.dim());
    for v in m.mean() {
        enc.f64(*v);
    }
    // The co-moment matrix is symmetric: only its upper triangle (row by row, `i <= j`) is
    // encoded, so there is exactly one encoding and no redundant half to disagree with.
    let (dim, c) = (m.dim(), m.comoment());
    for i in 0..dim {
        for v in &c[i * dim + i..(i + 1) * dim] {
            enc.f64(*v);
        }
    }
}

fn decode_moments(dec: &mut Decoder<'_>) -> Result<Moments> {
    let count = dec.u64()?;
    let dim = dec.seq()?;
    if dim > MAX_DIM {
        return Err(Error::Config("dimension above MAX_DIM"));
    }
    let mean = (0..dim).map(|_| dec.f64()).collect::<Result<Vec<_>, _>>()?;
    let mut comoment = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in i..dim {
            let v = dec.f64()?;
            comoment[i * dim + j] = v;
            comoment[j * dim + i] = v;
        }
    }
    Moments::from_parts(count, mean, comoment)
}

fn hash_from(dec: &mut Decoder<'_>) -> Result<Hash> {
    Ok(Hash(dec.array::<32>()?))
}

/// One node's summary for one epoch: what it publishes and signs.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The epoch.
    pub epoch: u64,
    /// The node's level: 0 for local nodes, counting up to the global node.
    pub level: u8,
    /// The node.
    pub node: NodeId,
    /// RFC 6962 Merkle root of the children's summary hashes, in child order (for local nodes,
    /// whose inputs are agents' statistics rather than signed summaries, the empty-tree root).
    pub children_root: Hash,
    /// How many children the node had (agents for a local node).
    pub children: u32,
    /// Children excluded before merging: flagged by the drift tracker or the evidence, or
    /// without a valid signature or certificate this epoch.
    pub quarantined: Vec<NodeId>,
    /// The box contributions were clipped to.
    pub clip: ClipBox,
    /// The merged statistic.
    pub output: Moments,
}

impl Summary {
    /// SHA3-256 of the canonical bytes: what children roots and certificates name.
    pub fn hash(&self) -> Hash {
        toolcap_crypto::sha3_256(&self.to_canonical())
    }
}

impl Canonical for Summary {
    const TAG: &'static [u8] = b"toolcap/fleet/summary/v1";
    const VERSION: u16 = 2;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.u64(self.epoch)
            .u8(self.level)
            .u64(self.node.0)
            .array(self.children_root.as_bytes())
            .u32(self.children);
        enc.seq(self.quarantined.len());
        for q in &self.quarantined {
            enc.u64(q.0);
        }
        self.clip.encode(enc);
        encode_moments(&self.output, enc);
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        decode_summary(dec).map_err(|e| match e {
            Error::Crypto(c) => c,
            _ => toolcap_crypto::Error::InvalidField("fleet summary"),
        })
    }
}

fn decode_summary(dec: &mut Decoder<'_>) -> Result<Summary> {
    let epoch = dec.u64()?;
    let level = dec.u8()?;
    let node = NodeId(dec.u64()?);
    let children_root = hash_from(dec)?;
    let children = dec.u32()?;
    let nq = dec.seq()?;
    let quarantined = (0..nq)
        .map(|_| dec.u64().map(NodeId))
        .collect::<Result<Vec<_>, _>>()?;
    let clip = ClipBox::decode(dec)?;
    let output = decode_moments(dec)?;
    if output.dim() != clip.dim() {
        return Err(Error::Dimension {
            expected: clip.dim(),
            got: output.dim(),
        });
    }
    Ok(Summary {
        epoch,
        level,
        node,
        children_root,
        children,
        quarantined,
        clip,
        output,
    })
}

/// A committee member's vote: "the output of `node` at (`epoch`, `level`) is the summary whose
/// hash is `output`". Certificates are built from these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    /// The epoch.
    pub epoch: u64,
    /// The level of the endorsed node.
    pub level: u8,
    /// The endorsed node (the aggregator whose output this is).
    pub node: NodeId,
    /// Hash of the endorsed summary.
    pub output: Hash,
    /// The endorsing member.
    pub member: NodeId,
}

impl Canonical for Endorsement {
    const TAG: &'static [u8] = b"toolcap/fleet/endorsement/v1";
    const VERSION: u16 = 1;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.u64(self.epoch)
            .u8(self.level)
            .u64(self.node.0)
            .array(self.output.as_bytes())
            .u64(self.member.0);
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        Ok(Endorsement {
            epoch: dec.u64()?,
            level: dec.u8()?,
            node: NodeId(dec.u64()?),
            output: Hash(dec.array::<32>()?),
            member: NodeId(dec.u64()?),
        })
    }
}

/// What a piece of evidence says a node did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EvidenceKind {
    /// A child's mean lay outside the robust bounds (median +- k MAD) on some coordinate.
    MeanOutlier,
    /// A child's variance was outside the ratio bounds around the median variance.
    VarianceOutlier,
    /// A child's self-reported count exceeded the cap and was reduced.
    CountCapped,
    /// A child's summary was malformed (wrong dimension, no data, wrong fields).
    Malformed,
    /// A child's signature did not verify.
    BadSignature,
    /// A node signed a summary that differs from the quorum-certified recomputation of its
    /// output: a provable lie, since both are signed.
    FalseSummary,
    /// A member signed an endorsement of a hash other than the certified one.
    FalseEndorsement,
    /// The drift tracker found a persistent one-directional deviation from consensus.
    Drift,
}

impl EvidenceKind {
    /// Every kind, in code order.
    pub const ALL: [EvidenceKind; 8] = [
        EvidenceKind::MeanOutlier,
        EvidenceKind::VarianceOutlier,
        EvidenceKind::CountCapped,
        EvidenceKind::Malformed,
        EvidenceKind::BadSignature,
        EvidenceKind::FalseSummary,
        EvidenceKind::FalseEndorsement,
        EvidenceKind::Drift,
    ];
    /// The stable wire code.
    pub fn code(self) -> u8 {
        match self {
            EvidenceKind::MeanOutlier => 1,
            EvidenceKind::VarianceOutlier => 2,
            EvidenceKind::CountCapped => 3,
            EvidenceKind::Malformed => 4,
            EvidenceKind::BadSignature => 5,
            EvidenceKind::FalseSummary => 6,
            EvidenceKind::FalseEndorsement => 7,
            EvidenceKind::Drift => 8,
        }
    }
    /// The kind with wire code `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        EvidenceKind::ALL.into_iter().find(|k| k.code() == code)
    }
    /// A short name for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            EvidenceKind::MeanOutlier => "mean-outlier",
            EvidenceKind::VarianceOutlier => "variance-outlier",
            EvidenceKind::CountCapped => "count-capped",
            EvidenceKind::Malformed => "malformed",
            EvidenceKind::BadSignature => "bad-signature",
            EvidenceKind::FalseSummary => "false-summary",
            EvidenceKind::FalseEndorsement => "false-endorsement",
            EvidenceKind::Drift => "drift",
        }
    }
    /// Whether the evidence is a proof (two signed, contradicting statements) rather than a
    /// statistical finding.
    pub fn is_proof(self) -> bool {
        matches!(
            self,
            EvidenceKind::FalseSummary | EvidenceKind::FalseEndorsement
        )
    }
}

/// A signed record of one finding against one node: who, what, by how much. These are the
/// leaves the aggregation appends to the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The epoch.
    pub epoch: u64,
    /// The level of the subject.
    pub level: u8,
    /// The node that found it (and signs the record).
    pub reporter: NodeId,
    /// The node it is about.
    pub subject: NodeId,
    /// What was found.
    pub kind: EvidenceKind,
    /// The coordinate concerned, if any.
    pub coord: Option<u16>,
    /// How much: the robust z-score, variance ratio, reported count or drift statistic.
    pub value: f64,
    /// The bound `value` was compared with.
    pub bound: f64,
    /// Hash of the offending record (the child's summary or endorsement), or zero.
    pub record: Hash,
}

impl Canonical for Evidence {
    const TAG: &'static [u8] = b"toolcap/fleet/evidence/v1";
    const VERSION: u16 = 1;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.u64(self.epoch)
            .u8(self.level)
            .u64(self.reporter.0)
            .u64(self.subject.0)
            .u8(self.kind.code());
        match self.coord {
            Some(c) => enc.bool(true).u16(c),
            None => enc.bool(false),
        };
        enc.f64(self.value)
            .f64(self.bound)
            .array(self.record.as_bytes());
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        let epoch = dec.u64()?;
        let level = dec.u8()?;
        let reporter = NodeId(dec.u64()?);
        let subject = NodeId(dec.u64()?);
        let kind = EvidenceKind::from_code(dec.u8()?)
            .ok_or(toolcap_crypto::Error::InvalidField("evidence kind"))?;
        let coord = if dec.bool()? { Some(dec.u16()?) } else { None };
        Ok(Evidence {
            epoch,
            level,
            reporter,
            subject,
            kind,
            coord,
            value: dec.f64()?,
            bound: dec.f64()?,
            record: Hash(dec.array::<32>()?),
        })
    }
}

/// A record with its signer and signature. The signature covers the record's canonical bytes
/// under its domain tag; [`Signed::verify`] re-encodes, so any change to a field is caught.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed<T> {
    /// The record.
    pub record: T,
    /// Who signed it.
    pub signer: NodeId,
    /// The Ed25519 signature.
    pub signature: Signature,
}

impl<T: Canonical> Signed<T> {
    /// Signs `record` as `signer` with `key` (the node's own key, which never leaves it).
    pub fn sign(record: T, signer: NodeId, key: &SigningKey) -> Self {
        let signature = key.sign(T::TAG, &record.to_canonical());
        Signed {
            record,
            signer,
            signature,
        }
    }
    /// Strictly verifies the signature against the signer's key in `members`.
    pub fn verify(&self, members: &Membership) -> Result<()> {
        let key = members.key(self.signer)?;
        key.verify(T::TAG, &self.record.to_canonical(), &self.signature)?;
        Ok(())
    }
}

/// The membership list: every node's verifying key, indexed by [`NodeId`]. Parents and
/// verifiers hold only these public keys.
#[derive(Debug, Clone, Default)]
pub struct Membership {
    keys: Vec<VerifyingKey>,
}

impl Membership {
    /// A list where node `i` has key `keys[i]`.
    pub fn new(keys: Vec<VerifyingKey>) -> Self {
        Membership { keys }
    }
    /// The key of `node`.
    pub fn key(&self, node: NodeId) -> Result<&VerifyingKey> {
        usize::try_from(node.0)
            .ok()
            .and_then(|i| self.keys.get(i))
            .ok_or(Error::UnknownNode(node))
    }
    /// How many nodes are listed.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Verifies many signed records of one type at once (batch verification); on a batch failure,
/// falls back to one-by-one and returns the index of every bad record.
pub fn verify_all<T: Canonical>(records: &[&Signed<T>], members: &Membership) -> Vec<usize> {
    let mut bad = Vec::new();
    let mut bytes = Vec::with_capacity(records.len());
    let mut keys = Vec::with_capacity(records.len());
    let mut idx = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        match members.key(r.signer) {
            Ok(k) => {
                bytes.push(r.record.to_canonical());
                keys.push(k);
                idx.push(i);
            }
            Err(_) => bad.push(i),
        }
    }
    let items: Vec<toolcap_crypto::BatchItem<'_>> = idx
        .iter()
        .zip(&bytes)
        .zip(&keys)
        .map(|((&i, b), k)| toolcap_crypto::BatchItem {
            tag: T::TAG,
            message: b,
            signature: &records[i].signature,
            key: k,
        })
        .collect();
    if toolcap_crypto::verify_batch(&items).is_err() {
        for (k, item) in items.iter().enumerate() {
            // Strict single verification finds exactly the bad ones.
            if item
                .key
                .verify(item.tag, item.message, item.signature)
                .is_err()
            {
                bad.push(idx[k]);
            }
        }
    }
    bad.sort_unstable();
    bad
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn summary() -> Summary {
        let m = Moments::from_rows(&[1.0, 2.0, 3.0, 5.0], 2).unwrap();
        Summary {
            epoch: 3,
            level: 1,
            node: NodeId(9),
            children_root: Hash([7; 32]),
            children: 2,
            quarantined: vec![NodeId(4)],
            clip: ClipBox::uniform(2, -10.0, 10.0).unwrap(),
            output: m,
        }
    }

    #[test]
    fn records_roundtrip() {
        let s = summary();
        assert_eq!(Summary::from_canonical(&s.to_canonical()).unwrap(), s);
        let e = Endorsement {
            epoch: 1,
            level: 2,
            node: NodeId(3),
            output: Hash([1; 32]),
            member: NodeId(4),
        };
        assert_eq!(Endorsement::from_canonical(&e.to_canonical()).unwrap(), e);
        for kind in EvidenceKind::ALL {
            let ev = Evidence {
                epoch: 1,
                level: 0,
                reporter: NodeId(1),
                subject: NodeId(2),
                kind,
                coord: Some(3),
                value: 7.5,
                bound: 5.0,
                record: Hash([2; 32]),
            };
            assert_eq!(Evidence::from_canonical(&ev.to_canonical()).unwrap(), ev);
        }
    }

    #[test]
    fn signatures_cover_every_field() {
        let key = SigningKey::from_seed(&[1; 32]);
        let members = Membership::new(vec![key.verifying_key()]);
        let signed = Signed::sign(summary(), NodeId(0), &key);
        signed.verify(&members).unwrap();
        let mut t = signed.clone();
        t.record.epoch += 1;
        assert!(t.verify(&members).is_err());
        let mut t = signed.clone();
        t.signer = NodeId(1);
        assert!(matches!(t.verify(&members), Err(Error::UnknownNode(_))));
        let bad = verify_all(&[&signed, &t], &members);
        assert_eq!(bad, vec![1]);
    }

    proptest! {
        #[test]
        fn summary_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Summary::from_canonical(&bytes);
            let _ = Evidence::from_canonical(&bytes);
            let _ = Endorsement::from_canonical(&bytes);
        }

        #[test]
        fn summary_roundtrips(epoch in any::<u64>(), level in any::<u8>(), node in any::<u64>(), children in any::<u32>(), rows in proptest::collection::vec(-1e6f64..1e6, 0..12)) {
            let rows = &rows[..rows.len() / 3 * 3];
            let s = Summary {
                epoch, level, node: NodeId(node), children_root: Hash([0; 32]), children,
                quarantined: vec![NodeId(node ^ 1)],
                clip: ClipBox::uniform(3, -1e7, 1e7).unwrap(),
                output: Moments::from_rows(rows, 3).unwrap(),
            };
            prop_assert_eq!(Summary::from_canonical(&s.to_canonical()).unwrap(), s);
        }
    }
}
