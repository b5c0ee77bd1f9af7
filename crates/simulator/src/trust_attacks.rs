//! The trust layer in the simulator (`toolcap-trust`): the attacks `temporal`,
//! `clock-forgery`, `false-evidence` and `shadow-network`, and the trust phase that runs after
//! the epochs of every attack and fills the trust fields of the [`Report`](crate::Report).
//!
//! The trust phase runs on the first region (the local nodes under the first level-1
//! aggregator), with the run's Byzantine placement and real Ed25519 keys of its own:
//! - clocks: every member ticks a signed vector-clock entry per epoch; honest receivers check
//!   every entry; Byzantine members (under `clock-forgery`, `shadow-network`) also send
//!   forged, tampered, replayed, reordered and spliced entries;
//! - evidence: every member reports a signed log-likelihood ratio per agent per epoch on the
//!   region's agents, from the behavioural detector (`toolcap-behavior`) scoring a fresh window
//!   of the agent's actions against its trained baseline (compromised agents are half
//!   intruder, see `agents.rs`); Byzantine members (under `false-evidence`, `shadow-network`)
//!   frame clean agents, cover compromised ones, forge records in honest names, replay records
//!   and lie about their own view; the quarantine is the median of all members' assessments;
//! - local reports: members summarise their agents' data (N(0, 1) per coordinate; Byzantine
//!   members through the attack's own `local_report` hook) with a signed timestamp; the
//!   region checks freshness against a CSPRNG-drawn window, bounds the baseline's movement,
//!   runs the synchronised-shift alarm, classifies induced partitions (`temporal`) and
//!   raises the quorum; a DP release of the region's sum goes upward every epoch;
//! - commitments: some members commit to their clipped reports with Bulletproofs range
//!   proofs; the parent verifies them and the homomorphic sum (a Byzantine parent under
//!   `temporal` / `shadow-network` also claims an inflated sum, which must be rejected).
//!
//! `forged_accepted` counts every attacker-made clock entry, evidence record, stale or
//! replayed timestamp or inflated sum that an honest check accepted: it must be 0.

use std::collections::BTreeSet;
use std::time::Instant;

use rand::Rng;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use toolcap_crypto::{Hash, SigningKey, sha3_256};
use toolcap_fleet::{Moments, NodeId, Summary, Topology};
use toolcap_trust::clock::{ClockEntry, ClockReceiver, ClockWriter};
use toolcap_trust::staleness::{SyncShiftConfig, bound_movement};
use toolcap_trust::{
    AgentId, Assessment, Budget, ClipBox, ConsensusConfig, DataKind, DpConfig, Evidence,
    EvidenceKind, EvidenceView, FixedPoint, KeyRing, Llr, Mechanism, Partition, QuorumPolicy,
    RangeParams, ReleaseStream, SignedEvidence, SignedTimestamp, StalenessConfig, SumOpening,
    SyncShiftDetector, Timestamp, decide, verify_sum,
};

use crate::attacks::{Attack, AttackEntry, Ctx, MemberVote, shifted, std_error};
use crate::{Error, SimConfig};

/// The trust fields of the report.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct TrustReport {
    /// Attacker-made clock entries, evidence records, timestamps or sums an honest check
    /// accepted (must be 0).
    pub forged_accepted: u64,
    /// Attacker-made items sent to honest checks.
    pub forged_attempted: u64,
    /// Compromised agents among the agents the quarantine decided on.
    pub agents_compromised: u64,
    /// Agents the quarantine decided on (the first region's, at most 128).
    pub agents_assessed: u64,
    /// Quarantined and compromised / quarantined (1 when nothing was quarantined).
    pub agent_precision: f64,
    /// Quarantined and compromised / compromised (1 when nothing was compromised).
    pub agent_recall: f64,
    /// Epsilon charged to the region's upward release stream over the run.
    pub dp_epsilon_spent: f64,
    /// Median time to verify one node's aggregated range proof, in milliseconds.
    pub proof_verify_ms_p50: f64,
    /// Epochs in which the synchronised-shift alarm fired.
    pub sync_alarm_epochs: u32,
    /// Epochs whose baseline move was cut to the per-epoch bound.
    pub baseline_clamped_epochs: u32,
    /// Epochs under an induced partition (`temporal`, `shadow-network`).
    pub partition_epochs: u32,
    /// Of those, epochs the raised quorum left degraded (fail closed).
    pub partition_degraded_epochs: u32,
}

/// `temporal`: shifts timed right after refreshes and during induced partitions.
pub(crate) const TEMPORAL: AttackEntry = AttackEntry {
    name: "temporal",
    about: "shifts timed right after baseline refreshes and during induced partitions",
    build: || Box::new(Temporal),
};

/// `clock-forgery`: forged, tampered, replayed, reordered and spliced clock entries.
pub(crate) const CLOCK_FORGERY: AttackEntry = AttackEntry {
    name: "clock-forgery",
    about: "forged, replayed, reordered and spliced vector-clock entries",
    build: || Box::new(Passive),
};

/// `false-evidence`: framing honest agents and covering compromised ones.
pub(crate) const FALSE_EVIDENCE: AttackEntry = AttackEntry {
    name: "false-evidence",
    about: "false evidence: framing clean agents, covering compromised ones, forged reports",
    build: || Box::new(Passive),
};

/// `shadow-network`: the combined campaign.
pub(crate) const SHADOW_NETWORK: AttackEntry = AttackEntry {
    name: "shadow-network",
    about: "combined campaign: trust earned first, then ~30% of local and all Byzantine higher aggregators shift 0.1% in step",
    build: || Box::new(Shadow),
};

/// Epochs between baseline refreshes in the `temporal` timeline.
const REFRESH_EVERY: u32 = 4;

fn after_refresh(ctx: &Ctx) -> bool {
    ctx.epoch >= ctx.warmup && (ctx.epoch - ctx.warmup).is_multiple_of(REFRESH_EVERY)
}

fn induced_partition(epoch: u32, warmup: u32) -> bool {
    epoch >= warmup && (epoch - warmup) % REFRESH_EVERY == 1
}

/// The trust attacks that act only in the trust phase behave honestly in the aggregation.
#[derive(Debug)]
struct Passive;
impl Attack for Passive {}

#[derive(Debug)]
struct Temporal;

impl Attack for Temporal {
    fn local_report(&self, ctx: &Ctx, honest: &Moments) -> Moments {
        // Just under the aggregation's per-epoch outlier bound (5 standard errors), right
        // after a refresh, when a fixed staleness window would make it stick longest.
        if after_refresh(ctx) {
            shifted(honest, |j, m| 4.5 * std_error(m, j))
        } else {
            honest.clone()
        }
    }

    fn vote(&self, ctx: &Ctx, honest: Hash, _proposal: Hash) -> MemberVote {
        // Starve the quorum during the partitions it induces.
        if induced_partition(ctx.epoch, ctx.warmup) {
            MemberVote::Withhold
        } else {
            MemberVote::Endorse(honest)
        }
    }
}

#[derive(Debug)]
struct Shadow;

impl Shadow {
    fn active(ctx: &Ctx) -> bool {
        if ctx.epoch < ctx.warmup {
            return false;
        }
        // About three quarters of the Byzantine local nodes take part (30% of all at
        // `--byzantine 0.4`), every Byzantine aggregator above them does.
        ctx.level > 0 || sha3_256(&ctx.node.0.to_be_bytes()).0[0] < 192
    }

    /// 0.1% of a standard deviation per active epoch, in step, accumulating.
    fn shift(ctx: &Ctx) -> f64 {
        0.001 * f64::from(ctx.epoch - ctx.warmup + 1)
    }
}

impl Attack for Shadow {
    fn local_report(&self, ctx: &Ctx, honest: &Moments) -> Moments {
        if !Shadow::active(ctx) {
            return honest.clone();
        }
        let k = Shadow::shift(ctx);
        shifted(honest, |j, m| k * m.variance(j).sqrt())
    }

    fn proposal(&self, ctx: &Ctx, honest: &Summary) -> Summary {
        if !Shadow::active(ctx) {
            return honest.clone();
        }
        let k = Shadow::shift(ctx);
        let mut s = honest.clone();
        s.output = shifted(&honest.output, |j, m| k * m.variance(j).sqrt());
        s
    }

    fn vote(&self, ctx: &Ctx, honest: Hash, _proposal: Hash) -> MemberVote {
        if Shadow::active(ctx) {
            MemberVote::Withhold
        } else {
            MemberVote::Endorse(honest)
        }
    }
}

/// At most this many of the region's agents are assessed.
const MAX_AGENTS: u64 = 128;
/// Epochs of evidence and clock exchange (the first ones).
const TRUST_EPOCHS: u32 = 4;
/// Members whose range proofs are made and checked per proof epoch, and proof epochs.
const PROOF_NODES: usize = 4;
const PROOF_EPOCHS: u32 = 1;
/// Distinct honest views (members share them round-robin; each misses 2% of the records).
const VIEWS: usize = 4;
/// Simulated time between epochs, in milliseconds.
const EPOCH_MS: u64 = 5_000;

/// Whether gossip loses record `idx` of `epoch` on its way to `view` (about 2%): a fixed
/// SplitMix64-style mix, so runs are reproducible.
fn lost(epoch: u32, view: usize, idx: usize) -> bool {
    let mut z = (u64::from(epoch) << 48) ^ ((view as u64) << 32) ^ idx as u64;
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z.is_multiple_of(50)
}

/// Checks the trust options before a run starts.
pub(crate) fn validate(cfg: &SimConfig) -> Result<(), Error> {
    if !(0.0..=1.0).contains(&cfg.compromised) {
        return Err(Error::Config("compromised fraction must be in [0, 1]"));
    }
    if !(cfg.dp_epsilon.is_finite() && cfg.dp_epsilon > 0.0) {
        return Err(Error::Config("dp epsilon must be positive"));
    }
    if !(0.0..1.0).contains(&cfg.dp_delta) {
        return Err(Error::Config("dp delta must be in [0, 1)"));
    }
    Ok(())
}

fn normal<R: RngCore>(rng: &mut R) -> f64 {
    // Box-Muller; the simulated detector's noise, not a privacy mechanism.
    let u1: f64 = rng.r#gen::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.r#gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn node_key(seed: u64, i: usize) -> SigningKey {
    let mut enc = Vec::with_capacity(40);
    enc.extend_from_slice(b"toolcap/sim/trust-key");
    enc.extend_from_slice(&seed.to_be_bytes());
    enc.extend_from_slice(&(i as u64).to_be_bytes());
    SigningKey::from_seed(&sha3_256(&enc).0)
}

fn nonce<R: RngCore>(rng: &mut R) -> [u8; 16] {
    let mut n = [0u8; 16];
    rng.fill_bytes(&mut n);
    n
}

struct Region {
    members: Vec<NodeId>,
    byz: Vec<bool>,
    keys: Vec<SigningKey>,
    ring: KeyRing,
}

fn tnode(i: usize) -> toolcap_trust::NodeId {
    toolcap_trust::NodeId(i as u32)
}

/// Runs the trust phase for `cfg` on the run's topology and Byzantine placement.
pub(crate) fn run(
    cfg: &SimConfig,
    topo: &Topology,
    byzantine: &BTreeSet<NodeId>,
) -> Result<TrustReport, Error> {
    let entry = crate::attacks::lookup(&cfg.attack).ok_or_else(|| Error::UnknownAttack {
        name: cfg.attack.clone(),
        known: crate::attacks::names(),
    })?;
    let attack = (entry.build)();
    let attack = attack.as_ref();
    let name = entry.name;
    let evil_clock = matches!(name, "clock-forgery" | "shadow-network");
    let evil_evidence = matches!(name, "false-evidence" | "shadow-network");
    let evil_time = matches!(name, "temporal" | "shadow-network");
    let mut rng = ChaCha20Rng::seed_from_u64(cfg.seed ^ 0x0074_7275_7374);

    let members: Vec<NodeId> = if topo.levels() >= 2 {
        topo.committee(1, 0)
    } else {
        vec![topo.id(0, 0)]
    };
    let n = members.len();
    let byz: Vec<bool> = members.iter().map(|m| byzantine.contains(m)).collect();
    let keys: Vec<SigningKey> = (0..n).map(|i| node_key(cfg.seed, i)).collect();
    let ring: KeyRing = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (tnode(i), k.verifying_key()))
        .collect();
    let region = Region {
        members,
        byz,
        keys,
        ring,
    };
    let warmup = (cfg.epochs / 4).max(1);
    let mut report = TrustReport {
        forged_accepted: 0,
        forged_attempted: 0,
        agents_compromised: 0,
        agents_assessed: 0,
        agent_precision: 1.0,
        agent_recall: 1.0,
        dp_epsilon_spent: 0.0,
        proof_verify_ms_p50: 0.0,
        sync_alarm_epochs: 0,
        baseline_clamped_epochs: 0,
        partition_epochs: 0,
        partition_degraded_epochs: 0,
    };
    clocks(cfg, &region, evil_clock, &mut rng, &mut report)?;
    evidence(cfg, topo, &region, evil_evidence, &mut rng, &mut report)?;
    reports(
        cfg,
        attack,
        &region,
        evil_time,
        warmup,
        &mut rng,
        &mut report,
    )?;
    Ok(report)
}

fn clocks(
    cfg: &SimConfig,
    region: &Region,
    evil: bool,
    rng: &mut ChaCha20Rng,
    report: &mut TrustReport,
) -> Result<(), Error> {
    let n = region.members.len();
    let mut writers: Vec<ClockWriter> = (0..n)
        .map(|i| ClockWriter::new(tnode(i), n, node_key(cfg.seed, i)))
        .collect();
    // A Byzantine member's second chain under the same key, for splices.
    let mut forks: Vec<Option<ClockWriter>> = (0..n)
        .map(|i| region.byz[i].then(|| ClockWriter::new(tnode(i), n, node_key(cfg.seed, i))))
        .collect();
    let honest: Vec<usize> = (0..n).filter(|i| !region.byz[*i]).take(VIEWS).collect();
    let mut receivers: Vec<ClockReceiver> = honest
        .iter()
        .map(|_| {
            ClockReceiver::new(
                n,
                (0..n).map(|i| (tnode(i), region.keys[i].verifying_key())),
            )
        })
        .collect();
    let mut previous: Vec<ClockEntry> = Vec::new();
    for epoch in 0..cfg.epochs.min(TRUST_EPOCHS) {
        let mut genuine: Vec<ClockEntry> = Vec::with_capacity(n);
        let mut attacks: Vec<Vec<ClockEntry>> = vec![Vec::new(); n];
        let mut followups: Vec<Vec<ClockEntry>> = vec![Vec::new(); n];
        for i in 0..n {
            let payload =
                sha3_256(&[u64::from(epoch).to_be_bytes(), (i as u64).to_be_bytes()].concat());
            if region.byz[i] && evil {
                // Two ticks: the second is sent first (reordered), then both in order.
                let first = writers[i].tick(payload, nonce(rng));
                let second = writers[i].tick(sha3_256(&payload.0), nonce(rng));
                if let Some(fork) = forks[i].as_mut() {
                    let f1 = fork.tick(sha3_256(b"fork"), nonce(rng));
                    let _ = fork.tick(sha3_256(b"fork2"), nonce(rng));
                    if epoch > 0 {
                        attacks[i].push(f1);
                    }
                }
                attacks[i].push(second.clone());
                genuine.push(first);
                followups[i].push(second);
            } else {
                genuine.push(writers[i].tick(payload, nonce(rng)));
            }
        }
        if evil {
            let victims: Vec<usize> = (0..n).filter(|i| !region.byz[*i]).collect();
            for b in (0..n).filter(|i| region.byz[*i]) {
                let Some(&h) = victims.get(b % victims.len().max(1)) else {
                    continue;
                };
                // Forged: claims to be h, signed with b's key.
                let mut w = ClockWriter::new(tnode(h), n, node_key(cfg.seed, b));
                w.observe(writers[h].vector());
                attacks[b].push(w.tick(sha3_256(b"forged"), nonce(rng)));
                // Tampered: h's genuine entry with a changed vector.
                let mut t = genuine[h].clone();
                if let Some(v) = t.vector.get_mut(b) {
                    *v += 1;
                }
                attacks[b].push(t);
                // Replayed: h's entry from the previous epoch.
                if let Some(old) = previous.get(h) {
                    attacks[b].push(old.clone());
                }
            }
        }
        for rx in receivers.iter_mut() {
            // Attacks first (where they could do most harm), then the genuine history.
            for list in &attacks {
                for e in list {
                    report.forged_attempted += 1;
                    if rx.accept(e).is_ok() {
                        report.forged_accepted += 1;
                    }
                }
            }
            for (i, e) in genuine.iter().enumerate() {
                rx.accept(e)
                    .map_err(|_| Error::Config("an honest clock entry was rejected"))?;
                for f in &followups[i] {
                    rx.accept(f)
                        .map_err(|_| Error::Config("an honest clock entry was rejected"))?;
                }
            }
        }
        let last: Vec<u64> = receivers
            .first()
            .map(|r| r.known().to_vec())
            .unwrap_or_default();
        for w in writers.iter_mut() {
            w.observe(&last);
        }
        for f in forks.iter_mut().flatten() {
            f.observe(&last);
        }
        previous = genuine;
    }
    Ok(())
}

fn evidence(
    cfg: &SimConfig,
    topo: &Topology,
    region: &Region,
    evil: bool,
    rng: &mut ChaCha20Rng,
    report: &mut TrustReport,
) -> Result<(), Error> {
    let n = region.members.len();
    // The region's agents (the first ones), each witnessed by every member of the region.
    let agents: Vec<u64> = (0..(n as u64 * topo.fanout())
        .min(topo.agents())
        .min(MAX_AGENTS))
        .collect();
    let compromised: Vec<bool> = agents
        .iter()
        .map(|_| rng.r#gen::<f64>() < cfg.compromised)
        .collect();
    let (watched, population, detector) = crate::agents::watch(rng, &compromised)?;
    let config = ConsensusConfig::default();
    let mut views: Vec<EvidenceView> = (0..VIEWS)
        .map(|_| EvidenceView::new(config.clone()))
        .collect();
    let mut counter = 0u64;
    let mut fresh_id = |rng: &mut ChaCha20Rng| {
        counter += 1;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&counter.to_be_bytes());
        id[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
        id
    };
    let honest: Vec<usize> = (0..n).filter(|i| !region.byz[*i]).collect();
    for epoch in 0..cfg.epochs.min(TRUST_EPOCHS) {
        let mut batch: Vec<SignedEvidence> = Vec::new();
        let mut forged: Vec<SignedEvidence> = Vec::new();
        for ((a, bad), agent) in agents.iter().zip(&compromised).zip(&watched) {
            for r in 0..n {
                let (kind, llr) = if region.byz[r] && evil {
                    if *bad {
                        (EvidenceKind::Clean, -20.0)
                    } else {
                        (EvidenceKind::Alert, 20.0)
                    }
                } else {
                    // An honest member scores the window it saw with the agent's baseline.
                    let z = agent.observe(rng, &population, &detector);
                    (
                        if z > crate::agents::ALERT_Z {
                            EvidenceKind::Alert
                        } else {
                            EvidenceKind::Clean
                        },
                        crate::agents::llr_of_z(z),
                    )
                };
                let e = Evidence {
                    id: fresh_id(rng),
                    agent: AgentId(*a),
                    reporter: tnode(r),
                    kind,
                    llr: Llr::from_nats(llr)?,
                    confidence: 900,
                    clock: u64::from(epoch) + 1,
                    payload: sha3_256(&[a.to_be_bytes(), u64::from(epoch).to_be_bytes()].concat())
                        .0,
                };
                if region.byz[r] && evil && *a == agents[0] {
                    // A forgery in an honest reporter's name, signed with the Byzantine key
                    // (one per Byzantine member and epoch: each is checked by every view).
                    if let Some(&h) = honest.get((*a as usize + r) % honest.len().max(1)) {
                        let mut f = e.clone();
                        f.id = fresh_id(rng);
                        f.reporter = tnode(h);
                        forged.push(SignedEvidence::sign(f, &region.keys[r]));
                    }
                }
                batch.push(SignedEvidence::sign(e, &region.keys[r]));
            }
        }
        // Every record is checked once in one batch (all views would get the same answer)...
        toolcap_trust::signed::verify_evidence_batch(&batch, &region.ring)?;
        for (k, view) in views.iter_mut().enumerate() {
            let mut delivered = None;
            for (idx, s) in batch.iter().enumerate() {
                // ... and each view misses ~2% of them (lossy gossip), differently.
                if lost(epoch, k, idx) {
                    continue;
                }
                if view.add(&s.evidence).is_ok() && delivered.is_none() {
                    delivered = Some(s);
                }
            }
            // Forgeries and replays go through the full signed path.
            for f in &forged {
                report.forged_attempted += 1;
                if view.add_signed(f, &region.ring).is_ok() {
                    report.forged_accepted += 1;
                }
            }
            // A replay of a record this view already counted.
            if let Some(replay) = delivered.filter(|_| evil) {
                report.forged_attempted += 1;
                if view.add_signed(replay, &region.ring).is_ok() {
                    report.forged_accepted += 1;
                }
            }
        }
    }
    let (mut tp, mut fp, mut fneg) = (0u64, 0u64, 0u64);
    for (a, bad) in agents.iter().zip(&compromised) {
        let agent = AgentId(*a);
        let honest_view: Vec<Assessment> = views.iter().map(|v| v.assess(agent)).collect();
        let assessments: Vec<Assessment> = (0..n)
            .map(|m| {
                if region.byz[m] && evil {
                    // A Byzantine member lies about its view, in the attack's favour.
                    Assessment {
                        agent,
                        log_odds: Llr::from_nats(if *bad { -100.0 } else { 100.0 })
                            .unwrap_or_default(),
                        positive_reporters: if *bad { 0 } else { n },
                        reporters: n,
                    }
                } else {
                    honest_view[m % VIEWS]
                }
            })
            .collect();
        let d = decide(&config, &assessments);
        match (d.quarantine, *bad) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fneg += 1,
            (false, false) => {}
        }
    }
    report.agents_assessed = agents.len() as u64;
    report.agents_compromised = compromised.iter().filter(|b| **b).count() as u64;
    report.agent_precision = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    report.agent_recall = if tp + fneg == 0 {
        1.0
    } else {
        tp as f64 / (tp + fneg) as f64
    };
    Ok(())
}

#[allow(clippy::too_many_arguments)] // reason: one phase's state, passed once
fn reports(
    cfg: &SimConfig,
    attack: &dyn Attack,
    region: &Region,
    evil: bool,
    warmup: u32,
    rng: &mut ChaCha20Rng,
    report: &mut TrustReport,
) -> Result<(), Error> {
    let n = region.members.len();
    let dim = cfg.dim;
    let per_node = 64usize;
    let se = 1.0 / (per_node as f64).sqrt();
    let clip = ClipBox::uniform(dim, -8.0, 8.0)?;
    let dp = DpConfig {
        per_release: Budget::new(cfg.dp_epsilon, cfg.dp_delta)?,
        total: Budget::new(
            cfg.dp_epsilon * f64::from(cfg.epochs),
            (cfg.dp_delta * f64::from(cfg.epochs)).min(0.5),
        )?,
        mechanism: if cfg.dp_delta > 0.0 {
            Mechanism::Gaussian
        } else {
            Mechanism::Laplace
        },
        ..DpConfig::default()
    };
    let mut stream = ReleaseStream::new(dp, clip.clone())?;
    let params = RangeParams::new(&clip, FixedPoint::default())?;
    let staleness = StalenessConfig::default();
    let quorum = QuorumPolicy::default();
    // Regions can be small (a fan-in of 8 holds 2 Byzantine members at 25%): two nodes
    // moving four noise units together on one coordinate is already rare by chance.
    let mut sync = SyncShiftDetector::new(SyncShiftConfig {
        min_nodes: 2,
        ..SyncShiftConfig::default()
    });
    let mut baseline = vec![0.0; dim];
    let mut verify_ms: Vec<f64> = Vec::new();
    let mut stale_pool: Vec<SignedTimestamp> = Vec::new();
    for epoch in 0..cfg.epochs {
        let now = 1_000_000 + u64::from(epoch) * EPOCH_MS;
        let mut means: Vec<(u32, Vec<f64>)> = Vec::with_capacity(n);
        for i in 0..n {
            let rows: Vec<f64> = (0..per_node * dim).map(|_| normal(rng)).collect();
            let honest = Moments::from_rows(&rows, dim)?;
            let m = if region.byz[i] {
                let ctx = Ctx {
                    epoch,
                    epochs: cfg.epochs,
                    level: 0,
                    node: region.members[i],
                    warmup,
                };
                attack.local_report(&ctx, &honest)
            } else {
                honest
            };
            let mean = m.mean().to_vec();
            // Each report is stamped; the region checks it against a freshly drawn window.
            let payload = sha3_256(
                &mean
                    .iter()
                    .flat_map(|v| v.to_be_bytes())
                    .collect::<Vec<u8>>(),
            );
            let ts = SignedTimestamp::sign(
                Timestamp {
                    node: tnode(i),
                    kind: DataKind::Baseline,
                    issued_ms: now,
                    payload,
                },
                &region.keys[i],
            );
            ts.check(&region.ring, &payload, &staleness, now + 200, rng)
                .map_err(|_| Error::Config("an honest timestamp was refused"))?;
            if i == 0 {
                stale_pool.push(ts);
            }
            means.push((i as u32, mean));
        }
        // A temporal attacker replays a report two epochs old as if it were current.
        if let Some(old) = stale_pool
            .get((epoch as usize).wrapping_sub(2))
            .filter(|_| evil)
        {
            report.forged_attempted += 1;
            let payload = old.timestamp.payload;
            if old
                .check(&region.ring, &payload, &staleness, now + 200, rng)
                .is_ok()
            {
                report.forged_accepted += 1;
            }
        }
        if sync
            .observe(u64::from(epoch), &means, &vec![se; dim])
            .is_some()
        {
            report.sync_alarm_epochs += 1;
        }
        // The baseline follows the members' median, at most 0.05 sd per epoch.
        let mut proposed = Vec::with_capacity(dim);
        for j in 0..dim {
            let mut col: Vec<f64> = means.iter().map(|(_, m)| m[j]).collect();
            col.sort_unstable_by(f64::total_cmp);
            proposed.push(col[col.len() / 2]);
        }
        let bounded = bound_movement(&baseline, &proposed, &vec![0.05; dim])?;
        if !bounded.clamped.is_empty() {
            report.baseline_clamped_epochs += 1;
        }
        baseline = bounded.value;
        // Induced partitions: the attacker cuts a fifth of the honest members off.
        if evil && induced_partition(epoch, warmup) {
            report.partition_epochs += 1;
            let honest = region.byz.iter().filter(|b| !**b).count();
            let cut = honest / 5;
            let class = Partition::classify(&[n - cut, cut], n);
            let needed = quorum.required(class, n);
            // Byzantine members withhold; only reachable honest members sign.
            if honest - cut < needed {
                report.partition_degraded_epochs += 1;
            }
        }
        let contributions: Vec<Vec<f64>> = means.iter().map(|(_, m)| m.clone()).collect();
        stream.release(&contributions)?;
        if epoch < PROOF_EPOCHS {
            let context = [b"toolcap/sim/region/".as_slice(), &epoch.to_be_bytes()].concat();
            let mut committed = Vec::new();
            let mut sum = SumOpening::new(dim);
            for c in contributions.iter().take(PROOF_NODES) {
                let (cc, opening) = toolcap_trust::commit(&params, &context, c, rng)?;
                sum.add(&opening)?;
                committed.push(cc);
            }
            for cc in &committed {
                let start = Instant::now();
                cc.verify(&params, &context, rng)?;
                verify_ms.push(start.elapsed().as_secs_f64() * 1e3);
            }
            let claimed = sum.fixed_sum(&params);
            verify_sum(&params, &context, &committed, &sum, &claimed, rng)?;
            if evil {
                // A Byzantine parent inflates the sum it aggregated.
                let mut inflated = sum.clone();
                inflated.danger_shift(0, 1 << 16);
                let claimed = inflated.fixed_sum(&params);
                report.forged_attempted += 1;
                if verify_sum(&params, &context, &committed, &inflated, &claimed, rng).is_ok() {
                    report.forged_accepted += 1;
                }
            }
        }
    }
    // The stream is spent exactly: one more release must be refused.
    if stream.release(&[]).is_ok() {
        return Err(Error::Config(
            "the privacy accountant released beyond its budget",
        ));
    }
    report.dp_epsilon_spent = stream.accountant().spent().epsilon;
    verify_ms.sort_unstable_by(f64::total_cmp);
    report.proof_verify_ms_p50 = verify_ms.get(verify_ms.len() / 2).copied().unwrap_or(0.0);
    Ok(())
}
