//! The cluster protocol of one node: every epoch a node summarises what it saw into a signed
//! fleet [`Summary`], seals it with its [`Link`] and sends it to its parent over the broker; an
//! aggregator (regional or global node) collects its children's summaries, checks each one's
//! link sender and Ed25519 signature, merges them with `toolcap-fleet`'s robust aggregation,
//! signs every finding as [`Evidence`] for its audit log, and publishes its own summary upward.
//!
//! Epochs are wall-clock aligned (`unix_ms / epoch_ms`), so the nodes agree on numbering
//! without talking. An aggregator closes epoch `e` once every child has reported it or two
//! epochs have passed since. A delivery is acknowledged to the broker only after the epoch it
//! belongs to has been merged and its evidence handed to the [`EvidenceSink`] (the audit log),
//! so an aggregator killed mid-epoch gets the frames again from its durable inbox.
//!
//! Every frame a node sends up (a summary, or a piece of evidence it found) carries a signed,
//! hash-chained vector-clock entry from `toolcap-trust` whose payload is the hash of the record
//! it travels with. The parent checks it with a [`SubsequenceReceiver`] (it sees only the frames
//! sent to it, so counters may skip): a replayed, reordered, spliced or forged entry refuses the
//! frame. An aggregator forwards its children's signed evidence to its own parent, which checks
//! the signature and records it in its own audit log: a lie found at a regional node is visible,
//! provably, at the global one.
//!
//! The statistics come from a [`StatsSource`] (the node runtime's per-agent state), the
//! evidence goes to an [`EvidenceSink`], and the clock state is kept by a [`StateStore`]; all
//! are traits so this loop does no storage I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use toolcap_crypto::{Canonical, Decoder, Encoder, Hash, Signature, SigningKey, sha3_256};
use toolcap_fleet::{
    Certificate, Endorsement, Evidence, EvidenceKind, FleetConfig, Moments, NodeId, Signed,
    Summary, aggregate, local_summary,
};
use toolcap_trust::{ClockEntry, ClockWriter, SubsequenceReceiver};

use crate::attestation::{
    AttestHandle, AttestMsg, AttestationRecord, PeerCheck, PeerState, fresh_nonce, root_name,
    sha256,
};
use crate::cosign::{CoSignRequest, check_certificate, check_proposal, get_signed, put_signed};
use crate::nats::{Delivery, NatsTransport};
use crate::{ClusterError, FrameKind, Level, Link, LinkKeys, Membership};

/// Domain tag of a summary frame's payload.
const SUMMARY_TAG: &[u8] = b"toolcap/cluster/summary-frame/v1";
/// Domain tag of an evidence frame's payload.
const EVIDENCE_TAG: &[u8] = b"toolcap/cluster/evidence-frame/v1";
/// Domain tag of an endorsement frame's payload (a committee member's co-signature).
const ENDORSEMENT_TAG: &[u8] = b"toolcap/cluster/endorsement-frame/v1";
/// Payload version: the signed record followed by its clock entry.
const FRAME_VERSION: u16 = 2;
/// How many forwarded findings the status keeps.
const KEEP_FINDINGS: usize = 64;

/// The [`StateStore`] name of a node's clock writer state.
pub const WRITER_STATE: &str = "clock-writer";
/// The [`StateStore`] name of a node's clock receiver state (entries of acknowledged frames).
pub const RECEIVER_STATE: &str = "clock-receiver";
/// The [`StateStore`] name of the children a node holds proofs against (left out of merges).
pub const PROVEN_STATE: &str = "proven-false";
const PROVEN_TAG: &[u8] = b"toolcap/cluster/proven-false/v1";

/// Where a node keeps the small protocol state that must survive a restart: its clock writer
/// (so it never reuses a counter or breaks its chain) and its receiver (so a replay of a frame
/// it processed before the restart is still refused).
pub trait StateStore: Send + Sync {
    /// The bytes saved under `name`, if any.
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, ClusterError>;
    /// Replaces what is saved under `name`, durably, before returning.
    fn save(&self, name: &str, bytes: &[u8]) -> Result<(), ClusterError>;
}

/// Per-agent feature vectors of a local node, already in the fleet's dimension.
pub trait StatsSource: Send + Sync {
    /// One row per agent.
    fn rows(&self) -> Vec<Vec<f64>>;
}

/// Where an aggregator's signed evidence goes (the node's audit log).
pub trait EvidenceSink: Send + Sync {
    /// Makes one signed evidence record durable; returns its audit index.
    fn record(&self, evidence: &Signed<Evidence>) -> Result<u64, ClusterError>;
    /// Makes one attestation decision durable (`signature`: the verifier's, by `signer`, over
    /// the record's canonical bytes under its tag); returns its audit index.
    fn record_attestation(
        &self,
        record: &AttestationRecord,
        signer: NodeId,
        signature: &Signature,
    ) -> Result<u64, ClusterError>;
}

/// Everything a node needs to run the protocol.
pub struct NodeLoopConfig {
    /// This node's id in the membership.
    pub me: String,
    /// Its Ed25519 identity key (signs summaries and evidence).
    pub identity: SigningKey,
    /// Its Noise link keys.
    pub link: LinkKeys,
    /// The verified membership list.
    pub membership: Membership,
    /// Epoch length.
    pub epoch: Duration,
    /// The fleet's agreed parameters (dimension, clipping box, robust merge).
    pub fleet: FleetConfig,
    /// SIMULATION SWITCH for tests and demos, never for production: a local node adds this to
    /// every coordinate of the mean it reports, so it sends poisoned but validly signed
    /// summaries (a Byzantine node). Zero (the default) is an honest node.
    pub byzantine_shift: f64,
    /// Admit a child's frames only after its TPM quote verifies against the membership's
    /// reference (every child must have one).
    pub require_attestation: bool,
    /// This node's own attester, to answer its parent's challenges.
    pub attester: Option<AttestHandle>,
}

impl std::fmt::Debug for NodeLoopConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeLoopConfig")
            .field("me", &self.me)
            .field("epoch", &self.epoch)
            .field("byzantine_shift", &self.byzantine_shift)
            .field("require_attestation", &self.require_attestation)
            .finish_non_exhaustive()
    }
}

/// One recorded finding, as the status shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FindingView {
    /// The epoch.
    pub epoch: u64,
    /// The child it is about.
    pub subject: String,
    /// What was found.
    pub kind: &'static str,
    /// The measured value.
    pub value: f64,
    /// The bound.
    pub bound: f64,
    /// Whether the child was left out.
    pub rejected: bool,
    /// The signed evidence's audit index.
    pub audit_index: u64,
}

/// How a child stands with a node that requires attestation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PeerAttestation {
    /// `pending` (no valid quote yet), `admitted` or `refused`.
    pub state: &'static str,
    /// Why it was refused.
    pub reason: Option<String>,
    /// The root of trust of its last valid quote: with swtpm it is software.
    pub root_of_trust: Option<&'static str>,
    /// When the last decision was taken (Unix ms).
    pub decided_unix_ms: Option<u64>,
    /// The audit index of the signed record of the last decision.
    pub audit_index: Option<u64>,
    /// Challenges sent.
    pub challenges: u64,
}

/// What a node shows about the cluster (`GET /v1/cluster`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ClusterStatus {
    /// This node.
    pub node: String,
    /// Its level.
    pub level: String,
    /// Its parent.
    pub parent: Option<String>,
    /// The last epoch this node sent a summary for.
    pub last_sent_epoch: Option<u64>,
    /// Summaries sent.
    pub summaries_sent: u64,
    /// Per child: the last epoch received from it.
    pub children_last_epoch: BTreeMap<String, u64>,
    /// Frames or summaries refused (bad frame, bad signature, wrong sender).
    pub refused: u64,
    /// The last merged epoch.
    pub merged_epoch: Option<u64>,
    /// The merged baseline (mean vector) of the last merged epoch.
    pub baseline: Option<Vec<f64>>,
    /// The count behind it.
    pub baseline_count: u64,
    /// Children rejected by the robust merge at least once.
    pub flagged: BTreeSet<String>,
    /// The most recent findings (at most 64).
    pub findings: Vec<FindingView>,
    /// Whether this node admits children only after a verified quote.
    pub require_attestation: bool,
    /// Per child, its attestation (when required).
    pub attestation: BTreeMap<String, PeerAttestation>,
    /// Frames refused because their sender is not admitted (no valid quote).
    pub refused_unattested: u64,
    /// This node's own attester, if it has one, and its root of trust.
    pub attester: Option<&'static str>,
    /// Quotes this node sent in answer to its parent's challenges.
    pub quotes_sent: u64,
    /// This node's vector clock: one counter per member, its own and those it learned from its
    /// children's entries.
    pub clock: Vec<u64>,
    /// Children's frames refused for their clock entry, by reason (`replayed`, `reordered`,
    /// `spliced`, `forged`, ...).
    pub clock_refused: BTreeMap<String, u64>,
    /// Evidence records this node sent to its parent.
    pub evidence_sent: u64,
    /// Evidence its children found and sent up (signature checked, recorded in this node's
    /// audit log), the most recent 64.
    pub reported_findings: Vec<ReportedFinding>,
    /// Nodes below its children that a child's signed evidence says were rejected.
    pub flagged_below: BTreeSet<String>,
    /// Times the clock receiver's state could not be saved (a restart would then accept a
    /// replay of the frames settled since the last save).
    pub state_errors: u64,
    /// The quorum (decision 0097): the last epoch whose own summary gathered a certificate
    /// from this node's committee (its children).
    pub certified_epoch: Option<u64>,
    /// Summaries this node sent up with a certificate, and without one (its committee did not
    /// endorse in time: that epoch is degraded).
    pub certified_sent: u64,
    /// See `certified_sent`.
    pub uncertified_sent: u64,
    /// Endorsements this node signed for its parent's proposals.
    pub endorsements_sent: u64,
    /// Proposals of its parent it refused to endorse, by reason (`differs`: the recomputed
    /// merge is not the proposal, a false summary).
    pub endorse_refused: BTreeMap<String, u64>,
    /// The last merged epoch that is final: every child reported, and every child that has a
    /// committee sent a valid certificate.
    pub final_epoch: Option<u64>,
    /// The baseline of `final_epoch` (what stays when later epochs are degraded).
    pub final_baseline: Option<Vec<f64>>,
    /// Merged epochs that were not final (a child missing or uncertified), and the last one.
    pub degraded_epochs: u64,
    /// See `degraded_epochs`.
    pub last_degraded_epoch: Option<u64>,
    /// Children's summaries refused for a certificate that does not verify.
    pub certificate_refused: u64,
    /// Proofs this node sent to its grandparent that its parent signed a false summary.
    pub proofs_sent: u64,
    /// Valid proofs received against its children.
    pub proofs_received: u64,
    /// Children proven (by a grandchild's proof, recomputed here) to have signed a false
    /// summary; they are left out of this node's merges.
    pub proven_false: BTreeSet<String>,
}

/// A finding a child reported, as this node recorded it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ReportedFinding {
    /// The child that found it and signed it.
    pub reporter: String,
    /// The epoch.
    pub epoch: u64,
    /// The node it is about.
    pub subject: String,
    /// What was found.
    pub kind: &'static str,
    /// The measured value.
    pub value: f64,
    /// The bound.
    pub bound: f64,
    /// Its index in this node's audit log.
    pub audit_index: u64,
}

/// Shared handle on a node's status.
pub type StatusHandle = Arc<Mutex<ClusterStatus>>;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The payload a clock entry binds: SHA3-256 of the record's canonical bytes.
pub fn clock_payload<T: Canonical>(record: &T) -> Hash {
    sha3_256(&record.to_canonical())
}

fn encode_signed<T: Canonical>(tag: &[u8], s: &Signed<T>, clock: &ClockEntry) -> Vec<u8> {
    let mut enc = Encoder::new(tag, FRAME_VERSION);
    put_signed(&mut enc, s);
    enc.bytes(&clock.to_bytes());
    enc.finish()
}

fn decode_signed<T: Canonical>(
    tag: &[u8],
    bytes: &[u8],
) -> Result<(Signed<T>, ClockEntry), ClusterError> {
    let mut dec = Decoder::new(bytes, tag, &[FRAME_VERSION])?;
    let signed = get_signed(&mut dec)?;
    let clock = ClockEntry::from_bytes(dec.bytes()?)?;
    dec.finish()?;
    Ok((signed, clock))
}

/// A summary frame's content.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryFrame {
    /// The signed summary.
    pub summary: Signed<Summary>,
    /// The sender's clock entry for it.
    pub clock: ClockEntry,
    /// The quorum certificate of its committee, when it gathered one (aggregators only).
    pub certificate: Option<Certificate>,
}

impl SummaryFrame {
    /// The payload: signed summary (signer, signature, canonical bytes), clock entry, and the
    /// optional certificate.
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new(SUMMARY_TAG, FRAME_VERSION);
        put_signed(&mut enc, &self.summary);
        enc.bytes(&self.clock.to_bytes());
        match &self.certificate {
            Some(c) => enc.bool(true).bytes(&c.to_canonical()),
            None => enc.bool(false),
        };
        enc.finish()
    }

    /// Decodes [`SummaryFrame::encode`]'s bytes (no signature checked yet).
    pub fn decode(bytes: &[u8]) -> Result<SummaryFrame, ClusterError> {
        let mut dec = Decoder::new(bytes, SUMMARY_TAG, &[FRAME_VERSION])?;
        let summary = get_signed(&mut dec)?;
        let clock = ClockEntry::from_bytes(dec.bytes()?)?;
        let certificate = if dec.bool()? {
            Some(Certificate::from_canonical(dec.bytes()?)?)
        } else {
            None
        };
        dec.finish()?;
        Ok(SummaryFrame {
            summary,
            clock,
            certificate,
        })
    }
}

/// The payload of an evidence frame: signed evidence and the sender's clock entry for it.
pub fn encode_signed_evidence(e: &Signed<Evidence>, clock: &ClockEntry) -> Vec<u8> {
    encode_signed(EVIDENCE_TAG, e, clock)
}

/// Decodes [`encode_signed_evidence`]'s bytes (neither signature checked yet).
pub fn decode_signed_evidence(
    bytes: &[u8],
) -> Result<(Signed<Evidence>, ClockEntry), ClusterError> {
    decode_signed(EVIDENCE_TAG, bytes)
}

/// The payload of an endorsement frame: a committee member's signed endorsement of its
/// parent's proposal and its clock entry for it.
pub fn encode_signed_endorsement(e: &Signed<Endorsement>, clock: &ClockEntry) -> Vec<u8> {
    encode_signed(ENDORSEMENT_TAG, e, clock)
}

/// Decodes [`encode_signed_endorsement`]'s bytes (neither signature checked yet).
pub fn decode_signed_endorsement(
    bytes: &[u8],
) -> Result<(Signed<Endorsement>, ClockEntry), ClusterError> {
    decode_signed(ENDORSEMENT_TAG, bytes)
}

/// The clock's id of the `i`-th member.
fn clock_id(i: usize) -> Result<toolcap_trust::NodeId, ClusterError> {
    u32::try_from(i)
        .map(toolcap_trust::NodeId)
        .map_err(|_| ClusterError::Membership("more members than a vector clock holds".into()))
}

/// The fleet view of a cluster membership: node `i` is the `i`-th member.
pub fn fleet_membership(m: &Membership) -> toolcap_fleet::Membership {
    toolcap_fleet::Membership::new(m.members.iter().map(|x| x.identity).collect())
}

/// The fleet level number of a cluster level (local 0, regional 1, global 2).
pub(crate) fn level_code(l: Level) -> u8 {
    match l {
        Level::Local => 0,
        Level::Regional => 1,
        Level::Global => 2,
    }
}

/// Moments of per-agent rows, clipped to the fleet's box.
pub fn moments_of(fleet: &FleetConfig, rows: &[Vec<f64>]) -> Result<Moments, ClusterError> {
    let mut m = Moments::new(fleet.dim);
    for row in rows {
        if row.len() != fleet.dim {
            continue;
        }
        let mut r = row.clone();
        fleet.clip.clip(&mut r);
        m.push(&r)
            .map_err(|e| ClusterError::Membership(format!("statistics: {e}")))?;
    }
    Ok(m)
}

/// Drops all but the newest [`KEEP_FINDINGS`] entries.
fn keep_last<T>(v: &mut Vec<T>) {
    let excess = v.len().saturating_sub(KEEP_FINDINGS);
    v.drain(..excess);
}

/// The `byzantine_shift` simulation switch: `m` with `shift` added to every mean coordinate.
fn shifted(m: Moments, shift: f64) -> Moments {
    if shift == 0.0 || m.count() == 0 {
        return m;
    }
    let mean: Vec<f64> = m.mean().iter().map(|x| x + shift).collect();
    Moments::from_parts(m.count(), mean, m.comoment().to_vec()).unwrap_or(m)
}

struct Pending {
    summaries: BTreeMap<NodeId, Signed<Summary>>,
    /// Children whose summary came with a valid certificate.
    certified: BTreeSet<NodeId>,
    deliveries: Vec<(Delivery, ClockEntry)>,
}

/// An epoch's aggregate waiting for its committee's endorsements.
struct Proposal {
    signed: Signed<Summary>,
    votes: Vec<Signed<Endorsement>>,
    /// When it goes up without a certificate (Unix ms).
    deadline_ms: u64,
}

/// One node's protocol state.
pub struct NodeLoop {
    cfg: NodeLoopConfig,
    me: NodeId,
    level: Level,
    parent: Option<crate::Member>,
    children: BTreeMap<String, NodeId>,
    link: Link,
    fleet_members: toolcap_fleet::Membership,
    pending: BTreeMap<u64, Pending>,
    closed_below: u64,
    status: StatusHandle,
    /// Per child, its attestation check (only when attestation is required).
    peers: BTreeMap<String, PeerCheck>,
    /// This node's clock: one entry per frame it sends up.
    clock: ClockWriter,
    /// Checks each child's entries as its frames arrive.
    clock_live: SubsequenceReceiver,
    /// The same, over the frames already acknowledged: what is persisted, so that after a
    /// restart the frames the broker delivers again (never acknowledged) are accepted once more
    /// and anything acknowledged before is refused as a replay.
    clock_committed: SubsequenceReceiver,
    /// Where the clock state is kept (none: in memory only).
    state: Option<Arc<dyn StateStore>>,
    /// This node's committee (its children), as fleet ids.
    committee: Vec<NodeId>,
    /// The children that have children of their own (whose summaries need a certificate).
    aggregating_children: BTreeSet<NodeId>,
    /// Proposals awaiting endorsement, by epoch.
    proposals: BTreeMap<u64, Proposal>,
    /// The hash of the summary this node sent up, for its last epochs.
    sent: BTreeMap<u64, Hash>,
    /// Children proven to have signed a false summary: left out of every merge.
    proven: BTreeSet<NodeId>,
}

impl std::fmt::Debug for NodeLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeLoop")
            .field("me", &self.cfg.me)
            .finish_non_exhaustive()
    }
}

impl NodeLoop {
    /// Prepares the protocol state of `cfg.me`.
    pub fn new(cfg: NodeLoopConfig) -> Result<NodeLoop, ClusterError> {
        let membership = cfg.membership.clone();
        let idx = membership
            .members
            .iter()
            .position(|m| m.id == cfg.me)
            .ok_or_else(|| ClusterError::UnknownNode(cfg.me.clone()))?;
        let member = &membership.members[idx];
        if member.link_key != cfg.link.public() {
            return Err(ClusterError::Membership(
                "this node's link key is not the one in the membership".into(),
            ));
        }
        if member.identity != cfg.identity.verifying_key() {
            return Err(ClusterError::Membership(
                "this node's identity key is not the one in the membership".into(),
            ));
        }
        let level = member.level;
        let parent = member
            .parent
            .as_deref()
            .and_then(|p| membership.member(p))
            .cloned();
        let children: BTreeMap<String, NodeId> = membership
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.parent.as_deref() == Some(cfg.me.as_str()))
            .map(|(i, m)| (m.id.clone(), NodeId(i as u64)))
            .collect();
        let aggregating_children = children
            .values()
            .copied()
            .filter(|c| {
                usize::try_from(c.0)
                    .is_ok_and(|i| !crate::cosign::committee(&membership, i).is_empty())
            })
            .collect();
        let n = membership.members.len();
        let clock = ClockWriter::new(
            clock_id(idx)?,
            n,
            SigningKey::from_seed(&cfg.identity.to_seed()),
        );
        let child_keys = membership
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| children.contains_key(&m.id))
            .map(|(i, m)| Ok((clock_id(i)?, m.identity)))
            .collect::<Result<Vec<_>, ClusterError>>()?;
        let clock_live = SubsequenceReceiver::new(n, child_keys.iter().copied());
        let clock_committed = clock_live.clone();
        let mut link = Link::new(
            &cfg.me,
            LinkKeys::from_secret(&cfg.link.secret())?,
            membership.clone(),
        )?;
        // A restarted node continues above every sequence number it used before.
        link.set_seq_floor(now_ms().saturating_mul(1000));
        let mut peers = BTreeMap::new();
        if cfg.require_attestation {
            for child in membership.children(&cfg.me) {
                // Fail closed: a child without a reference could never be admitted.
                let reference = child.attestation.as_ref().ok_or_else(|| {
                    ClusterError::Membership(format!(
                        "require_attestation: child {:?} has no attestation reference in the membership",
                        child.id
                    ))
                })?;
                peers.insert(child.id.clone(), PeerCheck::new(reference)?);
            }
        }
        let status = Arc::new(Mutex::new(ClusterStatus {
            node: cfg.me.clone(),
            level: level.name().to_owned(),
            parent: parent.as_ref().map(|p| p.id.clone()),
            require_attestation: cfg.require_attestation,
            attestation: peers
                .keys()
                .map(|id| {
                    (
                        id.clone(),
                        PeerAttestation {
                            state: "pending",
                            reason: None,
                            root_of_trust: None,
                            decided_unix_ms: None,
                            audit_index: None,
                            challenges: 0,
                        },
                    )
                })
                .collect(),
            attester: cfg.attester.as_ref().map(|a| root_name(a.root_of_trust())),
            clock: clock.vector().to_vec(),
            ..ClusterStatus::default()
        }));
        Ok(NodeLoop {
            fleet_members: fleet_membership(&membership),
            me: NodeId(idx as u64),
            level,
            parent,
            children,
            link,
            pending: BTreeMap::new(),
            closed_below: 0,
            status,
            peers,
            clock,
            clock_live,
            clock_committed,
            state: None,
            committee: crate::cosign::committee(&membership, idx),
            aggregating_children,
            proposals: BTreeMap::new(),
            sent: BTreeMap::new(),
            proven: BTreeSet::new(),
            cfg,
        })
    }

    /// Keeps the clock state in `store`, resuming from what it holds. A state that does not
    /// decode or does not fit this membership is an error: the node does not start rather than
    /// forget which counters it used or which frames it accepted.
    pub fn with_state(mut self, store: Arc<dyn StateStore>) -> Result<NodeLoop, ClusterError> {
        let n = self.cfg.membership.members.len();
        let me = clock_id(self.me.0 as usize)?;
        if let Some(bytes) = store.load(WRITER_STATE)? {
            let key = SigningKey::from_seed(&self.cfg.identity.to_seed());
            self.clock = ClockWriter::resume(me, n, key, &bytes).map_err(|e| {
                ClusterError::State(format!(
                    "{WRITER_STATE}: {e} (a membership change needs a fresh state)"
                ))
            })?;
        }
        if let Some(bytes) = store.load(RECEIVER_STATE)? {
            let keys = self
                .cfg
                .membership
                .members
                .iter()
                .enumerate()
                .filter(|(_, m)| self.children.contains_key(&m.id))
                .map(|(i, m)| Ok((clock_id(i)?, m.identity)))
                .collect::<Result<Vec<_>, ClusterError>>()?;
            self.clock_committed = SubsequenceReceiver::resume(n, keys, &bytes)
                .map_err(|e| ClusterError::State(format!("{RECEIVER_STATE}: {e}")))?;
            self.clock_live = self.clock_committed.clone();
        }
        if let Some(bytes) = store.load(PROVEN_STATE)? {
            let mut dec = Decoder::new(&bytes, PROVEN_TAG, &[1])
                .map_err(|e| ClusterError::State(format!("{PROVEN_STATE}: {e}")))?;
            let n = dec.seq()?;
            for _ in 0..n {
                let node = NodeId(dec.u64()?);
                if self.children.values().any(|c| *c == node) {
                    self.proven.insert(node);
                }
            }
            dec.finish()?;
            let names: Vec<String> = self
                .children
                .iter()
                .filter(|(_, id)| self.proven.contains(id))
                .map(|(n, _)| n.clone())
                .collect();
            if let Ok(mut s) = self.status.lock() {
                s.proven_false.extend(names.iter().cloned());
                s.flagged.extend(names);
            }
        }
        if let Ok(mut s) = self.status.lock() {
            s.clock = self.clock.vector().to_vec();
        }
        self.state = Some(store);
        Ok(self)
    }

    /// The node's status, shared with the HTTP handler.
    pub fn status(&self) -> StatusHandle {
        Arc::clone(&self.status)
    }

    fn epoch_ms(&self) -> u64 {
        self.cfg.epoch.as_millis().max(1) as u64
    }

    fn refuse(&self) {
        if let Ok(mut s) = self.status.lock() {
            s.refused += 1;
        }
    }

    /// Runs until `shutdown` resolves.
    pub async fn run(
        mut self,
        transport: NatsTransport,
        stats: Arc<dyn StatsSource>,
        sink: Arc<dyn EvidenceSink>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ClusterError> {
        let me = self
            .cfg
            .membership
            .member(&self.cfg.me)
            .cloned()
            .ok_or_else(|| ClusterError::UnknownNode(self.cfg.me.clone()))?;
        // A node reads its inbox if it has children, or a parent (whose challenges and
        // proposals it answers).
        let mut inbox = if self.children.is_empty() && self.parent.is_none() {
            None
        } else {
            Some(transport.inbox(&me).await?)
        };
        let mut tick = tokio::time::interval(Duration::from_millis(self.epoch_ms() / 4 + 1));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                _ = tick.tick() => self.on_tick(&transport, &*stats, &*sink).await,
                next = async {
                    match inbox.as_mut() {
                        Some(i) => i.next().await,
                        None => std::future::pending().await,
                    }
                } => match next {
                    Some(Ok(d)) => self.on_delivery(d, &transport, &*sink).await,
                    Some(Err(_)) => self.refuse(),
                    None => return Err(ClusterError::Transport("inbox closed".into())),
                },
            }
        }
    }

    async fn on_delivery(
        &mut self,
        d: Delivery,
        transport: &NatsTransport,
        sink: &dyn EvidenceSink,
    ) {
        let Ok(opened) = self.link.open(d.frame()) else {
            // Not ours, forged or replayed: nothing to keep, do not ask for it again.
            self.refuse();
            let _ = d.ack().await;
            return;
        };
        if opened.header.kind == FrameKind::Attestation {
            self.on_attestation(&opened.header.from, &opened.payload, transport, sink)
                .await;
            let _ = d.ack().await;
            return;
        }
        if let Some(peer) = self.peers.get(&opened.header.from)
            && !peer.admitted(now_ms())
        {
            // Attestation is required and this child has no valid quote: its frames are refused.
            if let Ok(mut s) = self.status.lock() {
                s.refused_unattested += 1;
            }
            let _ = d.ack().await;
            return;
        }
        if opened.header.kind == FrameKind::CoSign
            && self
                .parent
                .as_ref()
                .is_some_and(|p| p.id == opened.header.from)
        {
            self.on_cosign_request(&opened.payload, transport, sink)
                .await;
            let _ = d.ack().await;
            return;
        }
        if opened.header.kind == FrameKind::Evidence
            && !self.children.contains_key(&opened.header.from)
        {
            // A grandchild's proof that one of our children signed a false summary.
            self.on_proof(&opened.payload, sink);
            let _ = d.ack().await;
            return;
        }
        let Some(&child) = self.children.get(&opened.header.from) else {
            self.refuse();
            let _ = d.ack().await;
            return;
        };
        let from = opened.header.from.clone();
        match opened.header.kind {
            FrameKind::Summary => self.on_summary(child, from, &opened.payload, d).await,
            FrameKind::Evidence => {
                self.on_evidence(child, from, &opened.payload, d, sink)
                    .await
            }
            FrameKind::CoSign => {
                self.on_endorsement(child, &opened.payload, d, transport)
                    .await
            }
            _ => {
                self.refuse();
                let _ = d.ack().await;
            }
        }
    }

    /// Checks a child's clock entry for a record it signed: it must be the child's own, bind
    /// this record, and pass the receiver's rules. On success the child's vector is merged into
    /// this node's clock.
    fn check_clock<T: Canonical>(&mut self, child: NodeId, record: &T, e: &ClockEntry) -> bool {
        let own = usize::try_from(child.0)
            .ok()
            .and_then(|i| clock_id(i).ok())
            .is_some_and(|id| id == e.node);
        let verdict = if !own || e.payload != clock_payload(record) {
            Err("unbound")
        } else {
            self.clock_live.accept(e).map_err(|r| r.name())
        };
        match verdict {
            Ok(()) => {
                self.clock.observe(&e.vector);
                if let Ok(mut s) = self.status.lock() {
                    s.clock = self.clock.vector().to_vec();
                }
                true
            }
            Err(reason) => {
                if let Ok(mut s) = self.status.lock() {
                    *s.clock_refused.entry(reason.to_owned()).or_default() += 1;
                }
                false
            }
        }
    }

    async fn on_summary(&mut self, child: NodeId, from: String, payload: &[u8], d: Delivery) {
        let checked = SummaryFrame::decode(payload).ok().filter(|f| {
            // The link sender, the signer and the summary's node must all be the same child.
            let signed = &f.summary;
            signed.signer == child
                && signed.record.node == child
                && signed.verify(&self.fleet_members).is_ok()
                && signed.record.level + 1 == level_code(self.level)
        });
        let Some(frame) = checked else {
            self.refuse();
            let _ = d.ack().await;
            return;
        };
        let certified = match &frame.certificate {
            None => false,
            Some(c) => {
                if check_certificate(
                    &self.cfg.fleet,
                    c,
                    &frame.summary.record,
                    &self.cfg.membership,
                    &self.fleet_members,
                )
                .is_err()
                {
                    // A certificate that does not verify is a forgery, not a missing one.
                    if let Ok(mut s) = self.status.lock() {
                        s.certificate_refused += 1;
                    }
                    self.refuse();
                    let _ = d.ack().await;
                    return;
                }
                true
            }
        };
        let (signed, entry) = (frame.summary, frame.clock);
        if !self.check_clock(child, &signed.record, &entry) {
            self.refuse();
            let _ = d.ack().await;
            return;
        }
        let epoch = signed.record.epoch;
        if epoch < self.closed_below {
            // Too late for its epoch (already merged): acknowledged, counted as received.
            self.settle(vec![(d, entry)]).await;
        } else {
            let p = self.pending.entry(epoch).or_insert_with(|| Pending {
                summaries: BTreeMap::new(),
                certified: BTreeSet::new(),
                deliveries: Vec::new(),
            });
            if certified {
                p.certified.insert(child);
            }
            p.summaries.insert(child, signed);
            p.deliveries.push((d, entry));
        }
        if let Ok(mut s) = self.status.lock() {
            let e = s.children_last_epoch.entry(from).or_insert(epoch);
            *e = (*e).max(epoch);
        }
    }

    /// Evidence a child found among its own children: checked, recorded in this node's audit
    /// log, acknowledged.
    async fn on_evidence(
        &mut self,
        child: NodeId,
        from: String,
        payload: &[u8],
        d: Delivery,
        sink: &dyn EvidenceSink,
    ) {
        let checked = decode_signed_evidence(payload).ok().filter(|(signed, _)| {
            let ev = &signed.record;
            // Signed by the child, as its reporter, about one of the child's own children.
            let subject_parent = self.member(ev.subject).and_then(|m| m.parent.as_deref());
            signed.signer == child
                && ev.reporter == child
                && subject_parent == Some(from.as_str())
                && ev.level + 2 == level_code(self.level)
                && signed.verify(&self.fleet_members).is_ok()
        });
        let Some((signed, entry)) = checked else {
            self.refuse();
            let _ = d.ack().await;
            return;
        };
        if !self.check_clock(child, &signed.record, &entry) {
            self.refuse();
            let _ = d.ack().await;
            return;
        }
        let Ok(index) = sink.record(&signed) else {
            // Not durable: left unacknowledged for the broker to deliver again.
            return;
        };
        let ev = &signed.record;
        let subject = self.member_name(ev.subject);
        let view = ReportedFinding {
            reporter: from,
            epoch: ev.epoch,
            subject: subject.clone(),
            kind: ev.kind.name(),
            value: ev.value,
            bound: ev.bound,
            audit_index: index,
        };
        if let Ok(mut s) = self.status.lock() {
            if ev.kind != EvidenceKind::CountCapped {
                s.flagged_below.insert(subject);
            }
            s.reported_findings.push(view);
            keep_last(&mut s.reported_findings);
        }
        self.settle(vec![(d, entry)]).await;
    }

    /// Acknowledges processed frames, then records their clock entries in the committed
    /// receiver and persists it. In this order: a crash in between leaves an acknowledged
    /// frame's entry out of the saved state (harmless, the broker will not deliver it again),
    /// never an unacknowledged frame's entry in it (which would refuse its redelivery).
    async fn settle(&mut self, deliveries: Vec<(Delivery, ClockEntry)>) {
        if deliveries.is_empty() {
            return;
        }
        for (d, e) in deliveries {
            let _ = d.ack().await;
            // Checked on arrival; an entry settled after a later one of the same child (epochs
            // closing out of order) is refused here, and the state keeps the later one.
            let _ = self.clock_committed.accept(&e);
        }
        if let Some(store) = &self.state
            && store
                .save(RECEIVER_STATE, &self.clock_committed.state())
                .is_err()
            && let Ok(mut s) = self.status.lock()
        {
            s.state_errors += 1;
        }
    }

    /// Stamps a record this node is about to send up with its next clock entry, saving the
    /// writer's state first (a restarted node must not reuse the counter).
    fn stamp<T: Canonical>(&mut self, record: &T) -> Option<ClockEntry> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).ok()?;
        let entry = self.clock.tick(clock_payload(record), nonce);
        if let Some(store) = &self.state {
            store.save(WRITER_STATE, &self.clock.state()).ok()?;
        }
        if let Ok(mut s) = self.status.lock() {
            s.clock = self.clock.vector().to_vec();
        }
        Some(entry)
    }

    /// An attestation frame: a challenge from our parent, or a quote from a child.
    async fn on_attestation(
        &mut self,
        from: &str,
        payload: &[u8],
        transport: &NatsTransport,
        sink: &dyn EvidenceSink,
    ) {
        let Ok(msg) = AttestMsg::decode(payload) else {
            self.refuse();
            return;
        };
        match msg {
            AttestMsg::Challenge { nonce } => {
                let Some(parent) = self.parent.clone() else {
                    self.refuse();
                    return;
                };
                if parent.id != from {
                    self.refuse();
                    return;
                }
                let Some(attester) = self.cfg.attester.clone() else {
                    // Nothing to answer with: the parent will refuse us, visibly.
                    return;
                };
                let Ok(evidence) = attester.quote(&nonce).await else {
                    return;
                };
                let answer = AttestMsg::Quote { nonce, evidence }.encode();
                if self
                    .deliver(transport, &parent, FrameKind::Attestation, &answer)
                    .await
                    && let Ok(mut s) = self.status.lock()
                {
                    s.quotes_sent += 1;
                }
            }
            AttestMsg::Quote { nonce, evidence } => {
                let now = now_ms();
                let Some(peer) = self.peers.get_mut(from) else {
                    self.refuse();
                    return;
                };
                let Some(outcome) = peer.check(&nonce, &evidence, now) else {
                    // Not an answer to the outstanding challenge: stale or replayed.
                    self.refuse();
                    return;
                };
                let (admitted, reason, root) = match &outcome {
                    Ok(root) => (true, "quote verified".to_owned(), Some(*root)),
                    Err(e) => (false, e.to_string(), None),
                };
                let record = AttestationRecord {
                    verifier: self.cfg.me.clone(),
                    subject: from.to_owned(),
                    admitted,
                    reason: reason.clone(),
                    root_of_trust: match root {
                        None => 0,
                        Some(toolcap_attest::RootOfTrust::Software) => 1,
                        Some(toolcap_attest::RootOfTrust::Hardware) => 2,
                    },
                    nonce,
                    quote_digest: sha256(&evidence.attest),
                    unix_ms: now,
                };
                let signature = self
                    .cfg
                    .identity
                    .sign(AttestationRecord::TAG, &record.to_canonical());
                let index = match sink.record_attestation(&record, self.me, &signature) {
                    Ok(i) => Some(i),
                    Err(_) => {
                        // An admission that cannot be made durable does not stand.
                        peer.state = PeerState::Refused {
                            reason: "audit log unavailable".to_owned(),
                        };
                        None
                    }
                };
                let state = match &peer.state {
                    PeerState::Admitted { .. } => "admitted",
                    PeerState::Refused { .. } => "refused",
                    PeerState::Pending => "pending",
                };
                let reason = match &peer.state {
                    PeerState::Refused { reason } => Some(reason.clone()),
                    _ => None,
                };
                if let Ok(mut s) = self.status.lock()
                    && let Some(v) = s.attestation.get_mut(from)
                {
                    v.state = state;
                    v.reason = reason;
                    v.root_of_trust = root.map(root_name);
                    v.decided_unix_ms = Some(now);
                    v.audit_index = index;
                }
            }
        }
    }

    /// Challenges every child whose admission is missing, refused or due for renewal.
    async fn challenge_children(&mut self, transport: &NatsTransport) {
        let now = now_ms();
        let retry = (2 * self.epoch_ms()).max(1000);
        let due: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, p)| p.challenge_due(now, retry))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let Some(member) = self.cfg.membership.member(&id).cloned() else {
                continue;
            };
            let Ok(nonce) = fresh_nonce() else {
                return;
            };
            let msg = AttestMsg::Challenge { nonce }.encode();
            let Ok(frame) = self.link.seal(&id, FrameKind::Attestation, &msg) else {
                continue;
            };
            if let Some(p) = self.peers.get_mut(&id) {
                p.challenge = Some((nonce, now));
            }
            if transport.send(&member, frame).await.is_ok()
                && let Ok(mut s) = self.status.lock()
                && let Some(v) = s.attestation.get_mut(&id)
            {
                v.challenges += 1;
                if v.state == "admitted" && !self.peers.get(&id).is_some_and(|p| p.admitted(now)) {
                    v.state = "pending";
                }
            }
        }
    }

    async fn on_tick(
        &mut self,
        transport: &NatsTransport,
        stats: &dyn StatsSource,
        sink: &dyn EvidenceSink,
    ) {
        if !self.peers.is_empty() {
            self.challenge_children(transport).await;
        }
        // Proposals whose committee did not endorse in time go up without a certificate.
        let now = now_ms();
        let due: Vec<u64> = self
            .proposals
            .iter()
            .filter(|(_, p)| p.deadline_ms <= now)
            .map(|(e, _)| *e)
            .collect();
        for e in due {
            if let Some(p) = self.proposals.remove(&e) {
                self.send_up(transport, p.signed, None).await;
            }
        }
        let current = now_ms() / self.epoch_ms();
        if self.children.is_empty() {
            // A local node reports each finished epoch once.
            let epoch = current.saturating_sub(1);
            let sent = self.status.lock().ok().and_then(|s| s.last_sent_epoch);
            if sent.is_some_and(|s| s >= epoch) {
                return;
            }
            let rows = stats.rows();
            let Ok(mut m) = moments_of(&self.cfg.fleet, &rows) else {
                return;
            };
            if m.count() == 0 {
                // No agents yet: nothing to report (an empty summary would be merged as malformed).
                return;
            }
            m = shifted(m, self.cfg.byzantine_shift);
            let agents = u32::try_from(rows.len()).unwrap_or(u32::MAX);
            let summary = local_summary(&self.cfg.fleet, epoch, self.me, agents, m);
            let signed = Signed::sign(summary, self.me, &self.cfg.identity);
            self.send_up(transport, signed, None).await;
            return;
        }
        // Close every epoch that is complete or two epochs old.
        let epochs: Vec<u64> = self.pending.keys().copied().collect();
        for e in epochs {
            let complete = self
                .pending
                .get(&e)
                .is_some_and(|p| p.summaries.len() == self.children.len());
            if e < current && (complete || e + 2 <= current) {
                self.close(e, transport, sink).await;
            }
        }
    }

    async fn close(&mut self, epoch: u64, transport: &NatsTransport, sink: &dyn EvidenceSink) {
        let Some(p) = self.pending.remove(&epoch) else {
            return;
        };
        self.closed_below = self.closed_below.max(epoch + 1);
        let children: Vec<&Summary> = p.summaries.values().map(|s| &s.record).collect();
        let level = level_code(self.level);
        let quarantined: Vec<NodeId> = self.proven.iter().copied().collect();
        let agg = match aggregate(
            &self.cfg.fleet,
            epoch,
            level,
            self.me,
            &children,
            &quarantined,
        ) {
            Ok(a) => a,
            Err(_) => {
                // Nothing mergeable: the frames are processed, the epoch is skipped.
                self.settle(p.deliveries).await;
                return;
            }
        };
        let names: BTreeMap<NodeId, String> = self
            .children
            .iter()
            .map(|(n, id)| (*id, n.clone()))
            .collect();
        let mut views = Vec::new();
        let mut found = Vec::new();
        for f in &agg.outcome.findings {
            let record = p
                .summaries
                .get(&f.subject)
                .map(|s| s.record.hash())
                .unwrap_or(Hash([0; 32]));
            let ev = Evidence {
                epoch,
                level: level.saturating_sub(1),
                reporter: self.me,
                subject: f.subject,
                kind: f.kind,
                coord: f.coord,
                value: f.value,
                bound: f.bound,
                record,
            };
            let signed = Signed::sign(ev, self.me, &self.cfg.identity);
            let Ok(index) = sink.record(&signed) else {
                // Evidence that cannot be made durable: keep the frames unacknowledged so the
                // broker delivers them again after a restart.
                return;
            };
            found.push(signed);
            views.push(FindingView {
                epoch,
                subject: names.get(&f.subject).cloned().unwrap_or_default(),
                kind: f.kind.name(),
                value: f.value,
                bound: f.bound,
                rejected: f.rejected,
                audit_index: index,
            });
        }
        if let Ok(mut s) = self.status.lock() {
            for v in &views {
                if v.rejected {
                    s.flagged.insert(v.subject.clone());
                }
            }
            s.findings.extend(views);
            keep_last(&mut s.findings);
            s.merged_epoch = Some(epoch);
            s.baseline = Some(agg.summary.output.mean().to_vec());
            s.baseline_count = agg.summary.output.count();
        }
        // Final: every child reported, and every child with a committee of its own sent a
        // certificate (decision 0097). Otherwise degraded: the last final baseline stands.
        let is_final = p.summaries.len() == self.children.len()
            && p.summaries
                .keys()
                .all(|c| p.certified.contains(c) || !self.aggregating_children.contains(c));
        if let Ok(mut s) = self.status.lock() {
            if is_final {
                s.final_epoch = Some(epoch);
                s.final_baseline = Some(agg.summary.output.mean().to_vec());
            } else {
                s.degraded_epochs += 1;
                s.last_degraded_epoch = Some(epoch);
            }
        }
        self.settle(p.deliveries).await;
        for ev in found {
            self.send_evidence_up(transport, ev).await;
        }
        let mut summary = agg.summary;
        // The simulation switch on an aggregator: a false proposal its committee refuses.
        summary.output = shifted(summary.output, self.cfg.byzantine_shift);
        let inputs = p.summaries.into_values().collect();
        self.propose(transport, summary, inputs).await;
    }

    /// Signs this epoch's aggregate and asks the committee (the children) to endorse it; it goes
    /// up once a quorum has, or without a certificate at the deadline.
    async fn propose(
        &mut self,
        transport: &NatsTransport,
        summary: Summary,
        inputs: Vec<Signed<Summary>>,
    ) {
        let epoch = summary.epoch;
        let signed = Signed::sign(summary, self.me, &self.cfg.identity);
        let request = CoSignRequest {
            proposal: signed.clone(),
            inputs,
        }
        .encode();
        let children: Vec<String> = self.children.keys().cloned().collect();
        for id in children {
            let Some(member) = self.cfg.membership.member(&id).cloned() else {
                continue;
            };
            // Too large a request (a very wide committee) fails to seal: the epoch goes up
            // uncertified at its deadline.
            self.deliver(transport, &member, FrameKind::CoSign, &request)
                .await;
        }
        self.proposals.insert(
            epoch,
            Proposal {
                signed,
                votes: Vec::new(),
                deadline_ms: now_ms().saturating_add(self.epoch_ms()),
            },
        );
    }

    /// A proposal of this node's parent: recomputed and, when it is exactly the merge of the
    /// signed inputs (this node's own summary among them, if it sent one), endorsed.
    async fn on_cosign_request(
        &mut self,
        payload: &[u8],
        transport: &NatsTransport,
        sink: &dyn EvidenceSink,
    ) {
        let Some(parent) = self.parent.clone() else {
            return;
        };
        let Some(pidx) = self
            .cfg
            .membership
            .members
            .iter()
            .position(|m| m.id == parent.id)
        else {
            return;
        };
        let Ok(req) = CoSignRequest::decode(payload) else {
            self.refuse();
            return;
        };
        let mine = self.sent.get(&req.proposal.record.epoch).copied();
        let verdict = match mine {
            // The aggregator left out (or replaced) what this node sent it for the epoch.
            Some(h)
                if !req
                    .inputs
                    .iter()
                    .any(|s| s.signer == self.me && s.record.hash() == h) =>
            {
                Err("omitted")
            }
            _ => check_proposal(
                &self.cfg.fleet,
                &self.cfg.membership,
                &self.fleet_members,
                pidx,
                level_code(parent.level),
                &req,
            )
            .map_err(crate::cosign::Refusal::name),
        };
        let hash = match verdict {
            Ok(h) => h,
            Err(reason) => {
                if let Ok(mut s) = self.status.lock() {
                    *s.endorse_refused.entry(reason.to_owned()).or_default() += 1;
                }
                if reason == crate::cosign::Refusal::Differs.name() {
                    self.prove_false(pidx, &parent, req, transport, sink).await;
                }
                return;
            }
        };
        let vote = Signed::sign(
            crate::cosign::endorsement(&req.proposal.record, hash, self.me),
            self.me,
            &self.cfg.identity,
        );
        let Some(entry) = self.stamp(&vote.record) else {
            return;
        };
        let payload = encode_signed_endorsement(&vote, &entry);
        if self
            .deliver(transport, &parent, FrameKind::CoSign, &payload)
            .await
            && let Ok(mut s) = self.status.lock()
        {
            s.endorsements_sent += 1;
        }
    }

    /// Our parent signed a false summary: sign `FalseSummary` evidence, record it in our audit
    /// log, and send it with the request (the proof) to the parent's parent.
    async fn prove_false(
        &mut self,
        pidx: usize,
        parent: &crate::Member,
        request: CoSignRequest,
        transport: &NatsTransport,
        sink: &dyn EvidenceSink,
    ) {
        let p = &request.proposal.record;
        let ev = Evidence {
            epoch: p.epoch,
            level: p.level,
            reporter: self.me,
            subject: NodeId(pidx as u64),
            kind: EvidenceKind::FalseSummary,
            coord: None,
            value: 0.0,
            bound: 0.0,
            record: p.hash(),
        };
        let evidence = Signed::sign(ev, self.me, &self.cfg.identity);
        let Ok(index) = sink.record(&evidence) else {
            return;
        };
        if let Ok(mut s) = self.status.lock() {
            s.findings.push(FindingView {
                epoch: p.epoch,
                subject: parent.id.clone(),
                kind: EvidenceKind::FalseSummary.name(),
                value: 0.0,
                bound: 0.0,
                rejected: false,
                audit_index: index,
            });
            keep_last(&mut s.findings);
        }
        let Some(grandparent) = parent
            .parent
            .as_deref()
            .and_then(|g| self.cfg.membership.member(g))
            .cloned()
        else {
            return;
        };
        let proof = crate::cosign::FalseSummaryProof { evidence, request }.encode();
        if self
            .deliver(transport, &grandparent, FrameKind::Evidence, &proof)
            .await
            && let Ok(mut s) = self.status.lock()
        {
            s.proofs_sent += 1;
        }
    }

    /// A grandchild's proof against one of our children: checked by recomputing the merge;
    /// the first proof against a child is recorded in our audit log, and the child is left out
    /// of our merges from then on (its numbers are proven false).
    fn on_proof(&mut self, payload: &[u8], sink: &dyn EvidenceSink) {
        let checked = crate::cosign::FalseSummaryProof::decode(payload).and_then(|p| {
            let subject = p.check(
                &self.cfg.fleet,
                &self.cfg.membership,
                &self.fleet_members,
                self.me.0 as usize,
            )?;
            Ok((p, subject))
        });
        let Ok((proof, subject)) = checked else {
            self.refuse();
            return;
        };
        if let Ok(mut s) = self.status.lock() {
            s.proofs_received += 1;
        }
        if self.proven.contains(&subject) {
            return;
        }
        let Ok(index) = sink.record(&proof.evidence) else {
            // Not durable: the next proof (every lying epoch brings some) tries again.
            return;
        };
        self.proven.insert(subject);
        if let Some(store) = &self.state {
            let mut enc = Encoder::new(PROVEN_TAG, 1);
            enc.seq(self.proven.len());
            for n in &self.proven {
                enc.u64(n.0);
            }
            if store.save(PROVEN_STATE, &enc.finish()).is_err()
                && let Ok(mut s) = self.status.lock()
            {
                s.state_errors += 1;
            }
        }
        let ev = &proof.evidence.record;
        let view = ReportedFinding {
            reporter: self.member_name(ev.reporter),
            epoch: ev.epoch,
            subject: self.member_name(subject),
            kind: ev.kind.name(),
            value: ev.value,
            bound: ev.bound,
            audit_index: index,
        };
        if let Ok(mut s) = self.status.lock() {
            s.proven_false.insert(view.subject.clone());
            s.flagged.insert(view.subject.clone());
            s.reported_findings.push(view);
            keep_last(&mut s.reported_findings);
        }
    }

    /// A child's endorsement of one of this node's proposals; with a quorum, the certificate is
    /// assembled and the summary goes up with it.
    async fn on_endorsement(
        &mut self,
        child: NodeId,
        payload: &[u8],
        d: Delivery,
        transport: &NatsTransport,
    ) {
        let checked = decode_signed_endorsement(payload).ok().filter(|(v, _)| {
            v.signer == child && v.record.member == child && v.record.node == self.me
        });
        let Some((vote, entry)) = checked else {
            self.refuse();
            let _ = d.ack().await;
            return;
        };
        if !self.check_clock(child, &vote.record, &entry) {
            self.refuse();
            let _ = d.ack().await;
            return;
        }
        // Acknowledged, but not settled into the persisted receiver: an endorsement overtakes
        // the child's earlier summary still pending for its epoch, whose redelivery after a
        // restart must stay acceptable. A replayed endorsement after a restart finds no
        // proposal (they do not survive one) and counts for nothing.
        let _ = d.ack().await;
        let epoch = vote.record.epoch;
        let threshold = self.cfg.fleet.threshold;
        let Some(p) = self.proposals.get_mut(&epoch) else {
            // Late: the epoch already went up without a certificate.
            return;
        };
        p.votes.push(vote);
        if p.votes.len() < threshold.required(self.committee.len()) {
            return;
        }
        let Ok(cert) = Certificate::assemble(
            epoch,
            p.signed.record.level,
            self.me,
            &p.votes,
            &self.committee,
            threshold,
            &self.fleet_members,
        ) else {
            return;
        };
        if cert.output != p.signed.record.hash() {
            return;
        }
        if let Some(p) = self.proposals.remove(&epoch) {
            self.send_up(transport, p.signed, Some(cert)).await;
        }
    }

    /// Sends one piece of this node's signed evidence to its parent.
    async fn send_evidence_up(&mut self, transport: &NatsTransport, ev: Signed<Evidence>) {
        let Some(parent) = self.parent.clone() else {
            return;
        };
        let Some(entry) = self.stamp(&ev.record) else {
            return;
        };
        let payload = encode_signed_evidence(&ev, &entry);
        if self
            .deliver(transport, &parent, FrameKind::Evidence, &payload)
            .await
            && let Ok(mut s) = self.status.lock()
        {
            s.evidence_sent += 1;
        }
    }

    /// The member with fleet id `n`.
    fn member(&self, n: NodeId) -> Option<&crate::Member> {
        usize::try_from(n.0)
            .ok()
            .and_then(|i| self.cfg.membership.members.get(i))
    }

    /// The name of the member with fleet id `n` (empty if there is none).
    fn member_name(&self, n: NodeId) -> String {
        self.member(n).map(|m| m.id.clone()).unwrap_or_default()
    }

    /// Seals `payload` for `to` and publishes it; whether the broker stored it (a payload too
    /// large for a frame, or a broker error, is `false`).
    async fn deliver(
        &mut self,
        transport: &NatsTransport,
        to: &crate::Member,
        kind: FrameKind,
        payload: &[u8],
    ) -> bool {
        match self.link.seal(&to.id, kind, payload) {
            Ok(frame) => transport.send(to, frame).await.is_ok(),
            Err(_) => false,
        }
    }

    async fn send_up(
        &mut self,
        transport: &NatsTransport,
        signed: Signed<Summary>,
        certificate: Option<Certificate>,
    ) {
        let epoch = signed.record.epoch;
        if certificate.is_some()
            && let Ok(mut s) = self.status.lock()
        {
            s.certified_epoch = Some(epoch);
        }
        let Some(parent) = self.parent.clone() else {
            return;
        };
        let Some(entry) = self.stamp(&signed.record) else {
            return;
        };
        let hash = signed.record.hash();
        let certified = certificate.is_some();
        let frame = SummaryFrame {
            summary: signed,
            clock: entry,
            certificate,
        };
        if self
            .deliver(transport, &parent, FrameKind::Summary, &frame.encode())
            .await
        {
            self.sent.insert(epoch, hash);
            while self.sent.len() > 16 {
                self.sent.pop_first();
            }
            if let Ok(mut s) = self.status.lock() {
                s.last_sent_epoch = Some(epoch);
                s.summaries_sent += 1;
                if !self.committee.is_empty() {
                    if certified {
                        s.certified_sent += 1;
                    } else {
                        s.uncertified_sent += 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Member;
    use proptest::prelude::*;

    #[derive(Default)]
    struct MemState(Mutex<BTreeMap<String, Vec<u8>>>);
    impl StateStore for MemState {
        fn load(&self, name: &str) -> Result<Option<Vec<u8>>, ClusterError> {
            Ok(self.0.lock().unwrap().get(name).cloned())
        }
        fn save(&self, name: &str, bytes: &[u8]) -> Result<(), ClusterError> {
            self.0
                .lock()
                .unwrap()
                .insert(name.to_owned(), bytes.to_vec());
            Ok(())
        }
    }

    /// A regional node `r` with one child `c`; returns the membership and both seeds.
    fn pair() -> (Membership, [u8; 32], [u8; 32], Vec<LinkKeys>) {
        let (rs, cs) = ([1u8; 32], [2u8; 32]);
        let links = vec![LinkKeys::generate().unwrap(), LinkKeys::generate().unwrap()];
        let members = vec![
            Member::new(
                "r",
                Level::Regional,
                None,
                SigningKey::from_seed(&rs).verifying_key(),
                links[0].public(),
            ),
            Member::new(
                "c",
                Level::Local,
                Some("r"),
                SigningKey::from_seed(&cs).verifying_key(),
                links[1].public(),
            ),
        ];
        let m = Membership {
            cluster: "t".into(),
            version: 1,
            members,
        };
        (m, rs, cs, links)
    }

    fn node(m: &Membership, me: &str, seed: [u8; 32], link: &LinkKeys) -> NodeLoop {
        NodeLoop::new(NodeLoopConfig {
            me: me.into(),
            identity: SigningKey::from_seed(&seed),
            link: LinkKeys::from_secret(&link.secret()).unwrap(),
            membership: m.clone(),
            epoch: Duration::from_secs(1),
            fleet: FleetConfig::new(2, -10.0, 10.0).unwrap(),
            byzantine_shift: 0.0,
            require_attestation: false,
            attester: None,
        })
        .unwrap()
    }

    fn summary(epoch: u64) -> Summary {
        let fleet = FleetConfig::new(2, -10.0, 10.0).unwrap();
        let m = Moments::from_rows(&[1.0, 2.0, 3.0, 4.0], 2).unwrap();
        local_summary(&fleet, epoch, NodeId(1), 2, m)
    }

    #[test]
    fn a_childs_clock_entry_must_bind_its_record_and_continue_its_chain() {
        let (m, rs, cs, links) = pair();
        let mut parent = node(&m, "r", rs, &links[0]);
        let mut child = node(&m, "c", cs, &links[1]);
        let (s1, s2) = (summary(1), summary(2));
        let e1 = child.stamp(&s1).unwrap();
        assert!(parent.check_clock(NodeId(1), &s1, &e1));
        assert_eq!(
            parent.clock.vector(),
            &[0, 1],
            "the child's counter is learned"
        );
        // The same entry again, an entry moved onto another record, a forged one.
        assert!(!parent.check_clock(NodeId(1), &s1, &e1));
        let e2 = child.stamp(&s2).unwrap();
        assert!(!parent.check_clock(NodeId(1), &s1, &e2));
        let mut forged = e2.clone();
        forged.nonce = [9; 16];
        assert!(!parent.check_clock(NodeId(1), &s2, &forged));
        // Claimed by the wrong child.
        assert!(!parent.check_clock(NodeId(0), &s2, &e2));
        assert!(parent.check_clock(NodeId(1), &s2, &e2));
        let refused = parent.status.lock().unwrap().clock_refused.clone();
        assert_eq!(refused.get("replayed"), Some(&1), "{refused:?}");
        assert_eq!(refused.get("forged"), Some(&1), "{refused:?}");
        assert_eq!(refused.get("unbound"), Some(&2), "{refused:?}");
    }

    #[test]
    fn a_restarted_node_continues_its_clock_from_its_state() {
        let (m, rs, cs, links) = pair();
        let store: Arc<MemState> = Arc::default();
        let mut parent = node(&m, "r", rs, &links[0]);
        let mut child = node(&m, "c", cs, &links[1])
            .with_state(store.clone())
            .unwrap();
        for e in 1..=3 {
            let s = summary(e);
            let entry = child.stamp(&s).unwrap();
            assert!(parent.check_clock(NodeId(1), &s, &entry));
        }
        let mut again = node(&m, "c", cs, &links[1])
            .with_state(store.clone())
            .unwrap();
        let s = summary(4);
        let entry = again.stamp(&s).unwrap();
        assert_eq!(entry.counter, 4);
        assert!(
            parent.check_clock(NodeId(1), &s, &entry),
            "the chain continues"
        );
        // A corrupt state is an error, not a silent fresh start.
        store.save(WRITER_STATE, b"garbage").unwrap();
        assert!(node(&m, "c", cs, &links[1]).with_state(store).is_err());
    }

    proptest! {
        #[test]
        fn frame_payload_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SummaryFrame::decode(&bytes);
            let _ = decode_signed_evidence(&bytes);
            let _ = decode_signed_endorsement(&bytes);
            let _ = CoSignRequest::decode(&bytes);
        }

        #[test]
        fn a_changed_byte_never_decodes_to_the_same_evidence(i in 0usize..400, x in 1u8..=255) {
            let key = SigningKey::from_seed(&[3; 32]);
            let ev = Evidence {
                epoch: 5,
                level: 0,
                reporter: NodeId(1),
                subject: NodeId(2),
                kind: EvidenceKind::MeanOutlier,
                coord: Some(0),
                value: 7.5,
                bound: 3.0,
                record: Hash([4; 32]),
            };
            let signed = Signed::sign(ev, NodeId(1), &key);
            let mut w = ClockWriter::new(toolcap_trust::NodeId(1), 3, SigningKey::from_seed(&[3; 32]));
            let entry = w.tick(clock_payload(&signed.record), [5; 16]);
            let mut bytes = encode_signed_evidence(&signed, &entry);
            let i = i % bytes.len();
            bytes[i] ^= x;
            if let Ok(decoded) = decode_signed_evidence(&bytes) {
                prop_assert_ne!(decoded, (signed, entry));
            }
        }
    }

    #[test]
    fn summary_frames_round_trip_and_reject_trailing_bytes() {
        let fleet = FleetConfig::new(2, -10.0, 10.0).unwrap();
        let m = Moments::from_rows(&[1.0, 2.0, 3.0, 4.0], 2).unwrap();
        let key = SigningKey::generate_os().unwrap();
        let s = Signed::sign(local_summary(&fleet, 3, NodeId(1), 2, m), NodeId(1), &key);
        let mut w = ClockWriter::new(toolcap_trust::NodeId(1), 3, SigningKey::from_seed(&[7; 32]));
        let entry = w.tick(clock_payload(&s.record), [1; 16]);
        let frame = SummaryFrame {
            summary: s,
            clock: entry,
            certificate: None,
        };
        let bytes = frame.encode();
        assert_eq!(SummaryFrame::decode(&bytes).unwrap(), frame);
        let mut long = bytes.clone();
        long.push(0);
        assert!(SummaryFrame::decode(&long).is_err());
        assert!(SummaryFrame::decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
