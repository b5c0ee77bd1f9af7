//! Quorum certificates: an aggregate is final only when enough members of its committee signed
//! the same (epoch, level, node, output hash).
//!
//! The committee of an aggregator is the set of its children (the members of the level below
//! it that report to it). Each honest member recomputes the aggregator's output from the signed
//! children and endorses the hash of what it computed; a certificate is
//! `required(N) = ceil(num/den * N)` valid endorsements from distinct committee members of one
//! hash. With the default 3/4, a committee of `N` tolerates `f = N - ceil(3N/4) <= N/4` faulty
//! members: the honest ones alone still reach the quorum, and no hash the honest members did
//! not compute can gather one (it would need more than `f` faulty signers). This is a
//! certificate, not consensus: see `docs/fleet-protocol.md`.

use std::collections::BTreeMap;

use toolcap_crypto::{Canonical, Decoder, Encoder, Hash, Signature};

use crate::error::{Error, Result};
use crate::record::{Endorsement, Membership, NodeId, Signed, verify_all};

/// A quorum threshold `num/den` of a committee (default 3/4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    num: u32,
    den: u32,
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold { num: 3, den: 4 }
    }
}

impl Threshold {
    /// The fraction `num/den`, which must lie in `(1/2, 1]` (below a majority two conflicting
    /// hashes could both be certified).
    pub fn new(num: u32, den: u32) -> Result<Self> {
        if den == 0 || num > den || 2 * u64::from(num) <= u64::from(den) {
            return Err(Error::Config("quorum threshold must be in (1/2, 1]"));
        }
        Ok(Threshold { num, den })
    }
    /// The threshold as a float.
    pub fn fraction(&self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
    /// Endorsements required from a committee of `members`: `ceil(num * members / den)`, at
    /// least 1.
    pub fn required(&self, members: usize) -> usize {
        let n = members as u128 * u128::from(self.num);
        let d = u128::from(self.den);
        (n.div_ceil(d) as usize).max(1)
    }
    /// The most faulty members a committee of `members` tolerates: `members - required`.
    pub fn tolerated(&self, members: usize) -> usize {
        members.saturating_sub(self.required(members))
    }
}

/// Endorsements of one output hash by a quorum of a committee.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// The epoch.
    pub epoch: u64,
    /// The level of the certified aggregator.
    pub level: u8,
    /// The certified aggregator.
    pub node: NodeId,
    /// Hash of the certified summary.
    pub output: Hash,
    /// `(member, signature)` pairs, sorted by member, each over the [`Endorsement`].
    pub signatures: Vec<(NodeId, Signature)>,
}

/// The wire form: `epoch u64 || level u8 || node u64 || output || signatures (u32 count, then
/// member u64 || signature 64 bytes each)`. Decoding does not check the signatures:
/// [`Certificate::verify`] does.
impl Canonical for Certificate {
    const TAG: &'static [u8] = b"toolcap/fleet/certificate/v1";
    const VERSION: u16 = 1;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.u64(self.epoch)
            .u8(self.level)
            .u64(self.node.0)
            .array(&self.output.0)
            .seq(self.signatures.len());
        for (m, sig) in &self.signatures {
            enc.u64(m.0).array(&sig.to_bytes());
        }
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        let epoch = dec.u64()?;
        let level = dec.u8()?;
        let node = NodeId(dec.u64()?);
        let output = Hash(dec.array()?);
        let n = dec.seq()?;
        let mut signatures = Vec::with_capacity(n);
        for _ in 0..n {
            let m = NodeId(dec.u64()?);
            signatures.push((m, Signature::from_bytes(&dec.array()?)));
        }
        Ok(Certificate {
            epoch,
            level,
            node,
            output,
            signatures,
        })
    }
}

impl Certificate {
    /// Builds the certificate of the hash that gathered a quorum among `votes` (already
    /// signature-checked by the caller, or not: they are checked here in one batch). Votes from
    /// non-members, for other positions, duplicated or with bad signatures are ignored.
    pub fn assemble(
        epoch: u64,
        level: u8,
        node: NodeId,
        votes: &[Signed<Endorsement>],
        committee: &[NodeId],
        threshold: Threshold,
        members: &Membership,
    ) -> Result<Certificate> {
        let required = threshold.required(committee.len());
        let relevant: Vec<&Signed<Endorsement>> = votes
            .iter()
            .filter(|v| {
                v.record.epoch == epoch
                    && v.record.level == level
                    && v.record.node == node
                    && v.record.member == v.signer
                    && committee.contains(&v.signer)
            })
            .collect();
        let bad = verify_all(&relevant, members);
        let mut by_hash: BTreeMap<Hash, BTreeMap<NodeId, Signature>> = BTreeMap::new();
        for (i, v) in relevant.iter().enumerate() {
            if bad.binary_search(&i).is_ok() {
                continue;
            }
            by_hash
                .entry(v.record.output)
                .or_default()
                .entry(v.signer)
                .or_insert(v.signature);
        }
        let best = by_hash
            .iter()
            .max_by_key(|(_, s)| s.len())
            .map(|(h, s)| (*h, s.len()));
        match best {
            Some((hash, count)) if count >= required => {
                let signatures = by_hash
                    .remove(&hash)
                    .map(|s| s.into_iter().collect())
                    .unwrap_or_default();
                Ok(Certificate {
                    epoch,
                    level,
                    node,
                    output: hash,
                    signatures,
                })
            }
            Some((_, count)) => Err(Error::NoQuorum {
                best: count,
                required,
            }),
            None => Err(Error::NoQuorum { best: 0, required }),
        }
    }

    /// The endorsement records this certificate's signatures cover, with their signers.
    pub fn endorsements(&self) -> impl Iterator<Item = Signed<Endorsement>> + '_ {
        self.signatures.iter().map(|(m, s)| Signed {
            record: Endorsement {
                epoch: self.epoch,
                level: self.level,
                node: self.node,
                output: self.output,
                member: *m,
            },
            signer: *m,
            signature: *s,
        })
    }

    /// Checks the certificate names `output` for (`epoch`, `level`, `node`), carries at least
    /// `required(committee)` distinct committee members, and that every signature verifies.
    pub fn verify(
        &self,
        committee: &[NodeId],
        threshold: Threshold,
        members: &Membership,
    ) -> Result<()> {
        Certificate::verify_many(&[(self, committee)], threshold, members)
            .pop()
            .unwrap_or(Err(Error::Certificate {
                node: self.node,
                reason: "not checked",
            }))
    }

    /// [`Certificate::verify`] for many certificates, each with its committee, answering one
    /// result per certificate in order. All endorsement signatures go into one batch (a parent
    /// checking its children's certificates verifies thousands at once, where the batch
    /// equation is cheapest per signature); a failed batch falls back to finding the bad ones.
    pub fn verify_many(
        certs: &[(&Certificate, &[NodeId])],
        threshold: Threshold,
        members: &Membership,
    ) -> Vec<Result<()>> {
        let mut results: Vec<Result<()>> = certs
            .iter()
            .map(|(c, committee)| c.check_signers(committee, threshold))
            .collect();
        let mut records: Vec<Signed<Endorsement>> = Vec::new();
        let mut owner: Vec<usize> = Vec::new();
        for (i, (c, _)) in certs.iter().enumerate() {
            if results[i].is_ok() {
                records.extend(c.endorsements());
                owner.resize(records.len(), i);
            }
        }
        let refs: Vec<&Signed<Endorsement>> = records.iter().collect();
        for b in verify_all(&refs, members) {
            let i = owner[b];
            results[i] = Err(Error::Certificate {
                node: certs[i].0.node,
                reason: "invalid endorsement signature",
            });
        }
        results
    }

    /// The structural half of [`Certificate::verify`]: distinct sorted committee signers, at
    /// least the quorum.
    fn check_signers(&self, committee: &[NodeId], threshold: Threshold) -> Result<()> {
        let fail = |reason| Error::Certificate {
            node: self.node,
            reason,
        };
        let mut last: Option<NodeId> = None;
        for (m, _) in &self.signatures {
            if last.is_some_and(|l| l >= *m) {
                return Err(fail("signers not distinct and sorted"));
            }
            if !committee.contains(m) {
                return Err(fail("signer not in the committee"));
            }
            last = Some(*m);
        }
        if self.signatures.len() < threshold.required(committee.len()) {
            return Err(fail("below quorum"));
        }
        Ok(())
    }

    /// The canonical bytes of the endorsement member `m` signed (for external checkers).
    pub fn endorsement_bytes(&self, m: NodeId) -> Vec<u8> {
        Endorsement {
            epoch: self.epoch,
            level: self.level,
            node: self.node,
            output: self.output,
            member: m,
        }
        .to_canonical()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolcap_crypto::SigningKey;

    #[test]
    fn required_is_ceiling() {
        let t = Threshold::default();
        assert_eq!(t.required(64), 48);
        assert_eq!(t.required(9), 7);
        assert_eq!(t.required(5), 4);
        assert_eq!(t.required(4), 3);
        assert_eq!(t.required(1), 1);
        assert_eq!(t.tolerated(64), 16);
        assert_eq!(t.tolerated(7), 1);
        assert!(Threshold::new(1, 2).is_err());
        assert!(Threshold::new(9, 10).is_ok());
        for n in 1..200usize {
            // f <= N/4 and the honest rest is a quorum.
            assert!(4 * t.tolerated(n) <= n);
            assert!(n - t.tolerated(n) >= t.required(n));
        }
    }

    #[test]
    fn quorum_of_distinct_members() {
        let keys: Vec<SigningKey> = (0..8u8).map(|i| SigningKey::from_seed(&[i; 32])).collect();
        let members = Membership::new(keys.iter().map(SigningKey::verifying_key).collect());
        let committee: Vec<NodeId> = (0..8).map(NodeId).collect();
        let vote = |i: usize, h: u8| {
            Signed::sign(
                Endorsement {
                    epoch: 1,
                    level: 1,
                    node: NodeId(99),
                    output: Hash([h; 32]),
                    member: NodeId(i as u64),
                },
                NodeId(i as u64),
                &keys[i],
            )
        };
        let t = Threshold::default();
        // 6 of 8 honest: quorum (required 6).
        let mut votes: Vec<_> = (0..6).map(|i| vote(i, 1)).collect();
        votes.push(vote(6, 2));
        let cert =
            Certificate::assemble(1, 1, NodeId(99), &votes, &committee, t, &members).unwrap();
        assert_eq!(cert.output, Hash([1; 32]));
        cert.verify(&committee, t, &members).unwrap();
        // Duplicates do not count twice.
        let dup: Vec<_> = (0..5).map(|i| vote(i, 1)).chain([vote(0, 1)]).collect();
        assert!(matches!(
            Certificate::assemble(1, 1, NodeId(99), &dup, &committee, t, &members),
            Err(Error::NoQuorum {
                best: 5,
                required: 6
            })
        ));
        // A tampered certificate fails.
        let mut bad = cert.clone();
        bad.output = Hash([2; 32]);
        assert!(bad.verify(&committee, t, &members).is_err());
        let mut short = cert.clone();
        short.signatures.pop();
        assert!(short.verify(&committee, t, &members).is_err());

        // Checked together, each certificate gets its own answer: the good ones pass around a
        // forged one and a structurally short one.
        let batch = [
            (&cert, committee.as_slice()),
            (&bad, committee.as_slice()),
            (&cert, committee.as_slice()),
            (&short, committee.as_slice()),
        ];
        let results = Certificate::verify_many(&batch, t, &members);
        assert_eq!(results.len(), 4);
        assert!(results[0].is_ok() && results[2].is_ok());
        assert!(matches!(
            results[1],
            Err(Error::Certificate {
                reason: "invalid endorsement signature",
                ..
            })
        ));
        assert!(matches!(
            results[3],
            Err(Error::Certificate {
                reason: "below quorum",
                ..
            })
        ));
        assert!(Certificate::verify_many(&[], t, &members).is_empty());

        // The wire form round-trips and refuses trailing bytes.
        let bytes = cert.to_canonical();
        assert_eq!(Certificate::from_canonical(&bytes).unwrap(), cert);
        let mut long = bytes.clone();
        long.push(0);
        assert!(Certificate::from_canonical(&long).is_err());
        assert!(Certificate::from_canonical(&bytes[..bytes.len() - 1]).is_err());
    }
}
