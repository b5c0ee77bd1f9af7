//! Quorum certificates over the broker (decision 0097): the committee of an aggregator is its
//! children (decision 0060). Once an aggregator has merged an epoch it sends each child a
//! [`CoSignRequest`]: its signed proposal and the signed children summaries it merged. Each
//! child recomputes the merge ([`check_proposal`]); when the recomputation is byte-for-byte the
//! proposal, it signs an [`Endorsement`] of the proposal's hash and sends it back. With
//! endorsements from `ceil(3/4 n)` of its `n` children the aggregator assembles a
//! [`Certificate`] and sends it up with its summary; the parent verifies it against the
//! committee it knows from the signed membership.
//!
//! Everything here is pure: encodings and checks, no I/O.

use toolcap_crypto::{Canonical, Decoder, Encoder, Hash, Signature};
use toolcap_fleet::{
    Certificate, Endorsement, Evidence, EvidenceKind, FleetConfig, NodeId, Signed, Summary, Vote,
    aggregate, vote,
};

use crate::{ClusterError, Membership};

const REQUEST_TAG: &[u8] = b"toolcap/cluster/cosign-request/v1";
const PROOF_TAG: &[u8] = b"toolcap/cluster/false-summary-proof/v1";

/// What an aggregator asks its committee to endorse.
#[derive(Clone, Debug, PartialEq)]
pub struct CoSignRequest {
    /// The aggregator's signed summary of the epoch.
    pub proposal: Signed<Summary>,
    /// The signed children summaries it merged, in node order.
    pub inputs: Vec<Signed<Summary>>,
}

pub(crate) fn put_signed<T: Canonical>(enc: &mut Encoder, s: &Signed<T>) {
    enc.u64(s.signer.0)
        .array(&s.signature.to_bytes())
        .bytes(&s.record.to_canonical());
}

pub(crate) fn get_signed<T: Canonical>(dec: &mut Decoder<'_>) -> Result<Signed<T>, ClusterError> {
    let signer = NodeId(dec.u64()?);
    let signature = Signature::from_bytes(&dec.array::<64>()?);
    let record = T::from_canonical(dec.bytes()?)?;
    Ok(Signed {
        record,
        signer,
        signature,
    })
}

impl CoSignRequest {
    /// The frame payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new(REQUEST_TAG, 1);
        put_signed(&mut enc, &self.proposal);
        enc.seq(self.inputs.len());
        for s in &self.inputs {
            put_signed(&mut enc, s);
        }
        enc.finish()
    }

    /// Decodes [`CoSignRequest::encode`]'s bytes (no signature checked).
    pub fn decode(bytes: &[u8]) -> Result<CoSignRequest, ClusterError> {
        let mut dec = Decoder::new(bytes, REQUEST_TAG, &[1])?;
        let proposal = get_signed(&mut dec)?;
        let n = dec.seq()?;
        let mut inputs = Vec::new();
        for _ in 0..n {
            inputs.push(get_signed(&mut dec)?);
        }
        dec.finish()?;
        Ok(CoSignRequest { proposal, inputs })
    }
}

/// The committee of member `node` (index in `m`): its children, as fleet node ids, in order.
pub fn committee(m: &Membership, node: usize) -> Vec<NodeId> {
    let Some(id) = m.members.get(node).map(|x| x.id.as_str()) else {
        return Vec::new();
    };
    m.members
        .iter()
        .enumerate()
        .filter(|(_, x)| x.parent.as_deref() == Some(id))
        .map(|(i, _)| NodeId(i as u64))
        .collect()
}

/// Why a committee member does not endorse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The proposal is not signed by the aggregator, or not about it, or not at its level.
    Proposal,
    /// An input is not a signed summary of one of the aggregator's children, one level below,
    /// for the same epoch, or appears twice.
    Input,
    /// The merge of the inputs fails.
    Merge,
    /// More inputs were rejected or quarantined than the quorum tolerates: the robust bound
    /// no longer holds, so no output is vouched for (decision 0060).
    TooManyFaulty,
    /// The recomputation differs from the proposal: the aggregator's summary is false.
    Differs,
}

impl Refusal {
    /// A short name for the status.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::Proposal => "proposal",
            Refusal::Input => "input",
            Refusal::Merge => "merge",
            Refusal::TooManyFaulty => "too-many-faulty",
            Refusal::Differs => "differs",
        }
    }
}

/// What an honest member checks before it endorses the proposal of its parent `parent`
/// (index in `m`, aggregating at fleet level `level`): the proposal is the parent's, every input
/// is a validly signed summary of a distinct child of the parent for the same epoch, and the
/// robust merge of the inputs, recomputed here, is exactly the proposed summary. Returns the
/// hash to endorse.
pub fn check_proposal(
    fleet: &FleetConfig,
    m: &Membership,
    members: &toolcap_fleet::Membership,
    parent: usize,
    level: u8,
    req: &CoSignRequest,
) -> Result<Hash, Refusal> {
    let p = &req.proposal;
    let me = NodeId(parent as u64);
    if p.signer != me || p.record.node != me || p.record.level != level {
        return Err(Refusal::Proposal);
    }
    p.verify(members).map_err(|_| Refusal::Proposal)?;
    let committee = committee(m, parent);
    let mut last: Option<NodeId> = None;
    for s in &req.inputs {
        let ok = s.signer == s.record.node
            && committee.contains(&s.signer)
            && last.is_none_or(|l| l < s.signer)
            && s.record.epoch == p.record.epoch
            && s.record.level + 1 == level
            && s.verify(members).is_ok();
        if !ok {
            return Err(Refusal::Input);
        }
        last = Some(s.signer);
    }
    let inputs: Vec<&Summary> = req.inputs.iter().map(|s| &s.record).collect();
    let agg = aggregate(
        fleet,
        p.record.epoch,
        level,
        me,
        &inputs,
        &p.record.quarantined,
    )
    .map_err(|_| Refusal::Merge)?;
    if agg.summary.hash() != p.record.hash() {
        return Err(Refusal::Differs);
    }
    match vote(fleet, committee.len(), Ok(&agg)) {
        Vote::Endorse(hash) => Ok(hash),
        Vote::Refuse(_) => Err(Refusal::TooManyFaulty),
    }
}

/// The endorsement `member` signs for an aggregator's checked proposal.
pub fn endorsement(proposal: &Summary, output: Hash, member: NodeId) -> Endorsement {
    Endorsement {
        epoch: proposal.epoch,
        level: proposal.level,
        node: proposal.node,
        output,
        member,
    }
}

/// Checks the certificate a child sent with its summary: it names this summary (epoch, level,
/// node, hash) and carries a quorum (the fleet's threshold) of the child's committee, every
/// signature valid.
pub fn check_certificate(
    fleet: &FleetConfig,
    cert: &Certificate,
    summary: &Summary,
    m: &Membership,
    members: &toolcap_fleet::Membership,
) -> Result<(), ClusterError> {
    let bad = |why: &str| ClusterError::Membership(format!("certificate: {why}"));
    if cert.epoch != summary.epoch
        || cert.level != summary.level
        || cert.node != summary.node
        || cert.output != summary.hash()
    {
        return Err(bad("names another summary"));
    }
    let node = usize::try_from(summary.node.0).map_err(|_| bad("unknown node"))?;
    cert.verify(&committee(m, node), fleet.threshold, members)
        .map_err(|e| bad(&e.to_string()))
}

/// A committee member's proof that its parent signed a false summary, sent to the parent's
/// parent: the member's signed `FalseSummary` evidence and the request itself, whose signed
/// proposal and signed inputs let anyone recompute the merge and see it differ.
#[derive(Clone, Debug, PartialEq)]
pub struct FalseSummaryProof {
    /// The member's signed evidence (subject: the aggregator; record: the proposal's hash).
    pub evidence: Signed<Evidence>,
    /// The aggregator's request, as received.
    pub request: CoSignRequest,
}

impl FalseSummaryProof {
    /// The frame payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new(PROOF_TAG, 1);
        put_signed(&mut enc, &self.evidence);
        enc.bytes(&self.request.encode());
        enc.finish()
    }

    /// Decodes [`FalseSummaryProof::encode`]'s bytes (nothing checked).
    pub fn decode(bytes: &[u8]) -> Result<FalseSummaryProof, ClusterError> {
        let mut dec = Decoder::new(bytes, PROOF_TAG, &[1])?;
        let evidence = get_signed(&mut dec)?;
        let request = CoSignRequest::decode(dec.bytes()?)?;
        dec.finish()?;
        Ok(FalseSummaryProof { evidence, request })
    }

    /// Checks the proof as the aggregator's parent `me` (index in `m`): the evidence is a
    /// `FalseSummary` signed by a child of the aggregator, about the aggregator, naming the
    /// request's proposal; and the merge of the request's signed inputs, recomputed here,
    /// differs from the aggregator's signed proposal. Returns the proven aggregator.
    pub fn check(
        &self,
        fleet: &FleetConfig,
        m: &Membership,
        members: &toolcap_fleet::Membership,
        me: usize,
    ) -> Result<NodeId, ClusterError> {
        let bad = |why: &str| ClusterError::Membership(format!("false-summary proof: {why}"));
        let ev = &self.evidence;
        let subject = usize::try_from(ev.record.subject.0).map_err(|_| bad("subject"))?;
        let reporter = usize::try_from(ev.record.reporter.0).map_err(|_| bad("reporter"))?;
        let parent_of = |i: usize| {
            m.members
                .get(i)
                .and_then(|x| x.parent.as_deref())
                .and_then(|p| m.members.iter().position(|x| x.id == p))
        };
        let level = m
            .members
            .get(subject)
            .map(|x| crate::node_loop::level_code(x.level))
            .ok_or_else(|| bad("subject"))?;
        if ev.record.kind != EvidenceKind::FalseSummary
            || ev.signer != ev.record.reporter
            || parent_of(reporter) != Some(subject)
            || parent_of(subject) != Some(me)
            || ev.record.level != level
            || ev.record.epoch != self.request.proposal.record.epoch
            || ev.record.record != self.request.proposal.record.hash()
        {
            return Err(bad("evidence does not name this proposal"));
        }
        ev.verify(members).map_err(|_| bad("evidence signature"))?;
        match check_proposal(fleet, m, members, subject, level, &self.request) {
            Err(Refusal::Differs) => Ok(ev.record.subject),
            Ok(_) => Err(bad("the proposal is the merge of its inputs")),
            Err(r) => Err(bad(r.name())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Level, LinkKeys, Member};
    use toolcap_crypto::SigningKey;
    use toolcap_fleet::{Moments, local_summary};

    fn key(i: usize) -> SigningKey {
        SigningKey::from_seed(&[i as u8 + 1; 32])
    }

    /// r (index 0) with four local children (1..=4).
    fn tree() -> (Membership, toolcap_fleet::Membership) {
        let mut members = vec![Member::new(
            "r",
            Level::Regional,
            None,
            key(0).verifying_key(),
            LinkKeys::generate().unwrap().public(),
        )];
        for i in 1..=4 {
            members.push(Member::new(
                &format!("l{i}"),
                Level::Local,
                Some("r"),
                key(i).verifying_key(),
                LinkKeys::generate().unwrap().public(),
            ));
        }
        let m = Membership {
            cluster: "t".into(),
            version: 1,
            members,
        };
        let f = crate::node_loop::fleet_membership(&m);
        (m, f)
    }

    fn request(fleet: &FleetConfig, shift: f64) -> CoSignRequest {
        let inputs: Vec<Signed<Summary>> = (1..=4usize)
            .map(|i| {
                let x = i as f64 / 10.0;
                let m = Moments::from_rows(&[x, -x, x + 0.1, -x - 0.1], 2).unwrap();
                let s = local_summary(fleet, 9, NodeId(i as u64), 2, m);
                Signed::sign(s, NodeId(i as u64), &key(i))
            })
            .collect();
        let records: Vec<&Summary> = inputs.iter().map(|s| &s.record).collect();
        let mut out = aggregate(fleet, 9, 1, NodeId(0), &records, &[])
            .unwrap()
            .summary;
        if shift != 0.0 {
            let mean: Vec<f64> = out.output.mean().iter().map(|v| v + shift).collect();
            out.output =
                Moments::from_parts(out.output.count(), mean, out.output.comoment().to_vec())
                    .unwrap();
        }
        CoSignRequest {
            proposal: Signed::sign(out, NodeId(0), &key(0)),
            inputs,
        }
    }

    #[test]
    fn an_honest_proposal_is_endorsed_and_its_certificate_verifies() {
        let fleet = FleetConfig::new(2, -10.0, 10.0).unwrap();
        let (m, f) = tree();
        let req = request(&fleet, 0.0);
        assert_eq!(CoSignRequest::decode(&req.encode()).unwrap(), req);
        let hash = check_proposal(&fleet, &m, &f, 0, 1, &req).unwrap();
        let votes: Vec<Signed<Endorsement>> = (1..=3usize)
            .map(|i| {
                let e = endorsement(&req.proposal.record, hash, NodeId(i as u64));
                Signed::sign(e, NodeId(i as u64), &key(i))
            })
            .collect();
        let cert = Certificate::assemble(
            9,
            1,
            NodeId(0),
            &votes,
            &committee(&m, 0),
            fleet.threshold,
            &f,
        )
        .unwrap();
        check_certificate(&fleet, &cert, &req.proposal.record, &m, &f).unwrap();
        // Two of four is below the quorum.
        let short = Certificate {
            signatures: cert.signatures[..2].to_vec(),
            ..cert.clone()
        };
        assert!(check_certificate(&fleet, &short, &req.proposal.record, &m, &f).is_err());
    }

    #[test]
    fn a_request_of_a_committee_of_200_two_dimensional_summaries_fits_in_one_frame() {
        let fleet = FleetConfig::new(2, -10.0, 10.0).unwrap();
        let one = request(&fleet, 0.0);
        let inputs: Vec<Signed<Summary>> = (0..200).map(|i| one.inputs[i % 4].clone()).collect();
        let big = CoSignRequest {
            proposal: one.proposal,
            inputs,
        };
        let len = big.encode().len();
        assert!(len <= crate::MAX_PAYLOAD, "{len} bytes");
    }

    #[test]
    fn no_endorsement_when_more_inputs_are_left_out_than_the_quorum_tolerates() {
        let fleet = FleetConfig::new(2, -10.0, 10.0).unwrap();
        let (m, f) = tree();
        let mut req = request(&fleet, 0.0);
        let records: Vec<&Summary> = req.inputs.iter().map(|s| &s.record).collect();
        // An aggregator that quarantines one child of four is within the bound, two is not.
        for (left_out, expected) in [(1usize, true), (2, false)] {
            let q: Vec<NodeId> = (1..=left_out as u64).map(NodeId).collect();
            let out = aggregate(&fleet, 9, 1, NodeId(0), &records, &q)
                .unwrap()
                .summary;
            req.proposal = Signed::sign(out, NodeId(0), &key(0));
            let got = check_proposal(&fleet, &m, &f, 0, 1, &req);
            assert_eq!(got.is_ok(), expected, "{left_out}: {got:?}");
            if !expected {
                assert_eq!(got, Err(Refusal::TooManyFaulty));
            }
        }
    }

    #[test]
    fn a_false_or_malformed_proposal_is_refused() {
        let fleet = FleetConfig::new(2, -10.0, 10.0).unwrap();
        let (m, f) = tree();
        let lie = request(&fleet, 0.5);
        assert_eq!(
            check_proposal(&fleet, &m, &f, 0, 1, &lie),
            Err(Refusal::Differs)
        );
        let mut dropped = request(&fleet, 0.0);
        dropped.inputs.remove(0);
        assert_eq!(
            check_proposal(&fleet, &m, &f, 0, 1, &dropped),
            Err(Refusal::Differs),
            "leaving a child out changes the merge"
        );
        let mut twice = request(&fleet, 0.0);
        twice.inputs[1] = twice.inputs[0].clone();
        assert_eq!(
            check_proposal(&fleet, &m, &f, 0, 1, &twice),
            Err(Refusal::Input)
        );
        let mut forged = request(&fleet, 0.0);
        forged.inputs[2].record.children += 1;
        assert_eq!(
            check_proposal(&fleet, &m, &f, 0, 1, &forged),
            Err(Refusal::Input)
        );
        let honest = request(&fleet, 0.0);
        assert_eq!(
            check_proposal(&fleet, &m, &f, 1, 1, &honest),
            Err(Refusal::Proposal),
            "a proposal for another aggregator"
        );
        let mut bytes = honest.encode();
        bytes.push(0);
        assert!(CoSignRequest::decode(&bytes).is_err());
    }

    /// g (index 0) above r (1) above four locals (2..=5).
    fn deep() -> (Membership, toolcap_fleet::Membership) {
        let (mut m, _) = tree();
        for x in &mut m.members {
            if x.id == "r" {
                x.parent = Some("g".into());
            }
        }
        m.members.insert(
            0,
            Member::new(
                "g",
                Level::Global,
                None,
                key(9).verifying_key(),
                LinkKeys::generate().unwrap().public(),
            ),
        );
        let f = crate::node_loop::fleet_membership(&m);
        (m, f)
    }

    #[test]
    fn a_false_summary_proof_convinces_the_grandparent_and_an_honest_one_does_not() {
        let fleet = FleetConfig::new(2, -10.0, 10.0).unwrap();
        let (m, f) = deep();
        // Re-key the request for this layout: r is 1, its children 2..=5 (keys shifted by one).
        let keyed = |shift: f64| {
            let base = request(&fleet, 0.0);
            let inputs: Vec<Signed<Summary>> = base
                .inputs
                .iter()
                .map(|s| {
                    let mut r = s.record.clone();
                    r.node = NodeId(s.signer.0 + 1);
                    Signed::sign(r, NodeId(s.signer.0 + 1), &key(s.signer.0 as usize))
                })
                .collect();
            let records: Vec<&Summary> = inputs.iter().map(|s| &s.record).collect();
            let mut out = aggregate(&fleet, 9, 1, NodeId(1), &records, &[])
                .unwrap()
                .summary;
            let mean: Vec<f64> = out.output.mean().iter().map(|v| v + shift).collect();
            out.output = toolcap_fleet::Moments::from_parts(
                out.output.count(),
                mean,
                out.output.comoment().to_vec(),
            )
            .unwrap();
            CoSignRequest {
                proposal: Signed::sign(out, NodeId(1), &key(0)),
                inputs,
            }
        };
        let proof = |req: CoSignRequest| {
            let ev = Evidence {
                epoch: 9,
                level: 1,
                reporter: NodeId(2),
                subject: NodeId(1),
                kind: EvidenceKind::FalseSummary,
                coord: None,
                value: 0.0,
                bound: 0.0,
                record: req.proposal.record.hash(),
            };
            FalseSummaryProof {
                evidence: Signed::sign(ev, NodeId(2), &key(1)),
                request: req,
            }
        };
        let lie = proof(keyed(0.5));
        assert_eq!(FalseSummaryProof::decode(&lie.encode()).unwrap(), lie);
        assert_eq!(lie.check(&fleet, &m, &f, 0).unwrap(), NodeId(1));
        assert!(
            lie.check(&fleet, &m, &f, 1).is_err(),
            "only the grandparent"
        );
        // An honest proposal "proven" false convinces no one: a member cannot frame its parent.
        assert!(proof(keyed(0.0)).check(&fleet, &m, &f, 0).is_err());
    }
}
