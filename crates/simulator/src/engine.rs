//! The epoch loop: every node's part of the protocol, honest or Byzantine, run for real.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use toolcap_crypto::{Canonical, Hash, SigningKey};
use toolcap_fleet::{
    Aggregate, Certificate, ClipBox, DriftTracker, Endorsement, EpochTree, Evidence, EvidenceKind,
    FleetConfig, Membership, Moments, NodeId, Position, Signed, Summary, Topology, Vote, aggregate,
    local_summary, verify_all, vote,
};

use crate::attacks::{self, Attack, Ctx, MemberVote};
use crate::world::{SplitMix, Truth, bias_bound, node_key, peak_rss_bytes, place_byzantine};
use crate::{Error, Report, SimConfig};

/// Statistical findings against one node in this many epochs flag it.
const REPEATS_TO_FLAG: u32 = 3;

/// An alarm raised by a failed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    /// The epoch.
    pub epoch: u32,
    /// The aggregator's level.
    pub level: u8,
    /// The aggregator whose output gathered no quorum.
    pub node: NodeId,
    /// Endorsements of the most endorsed hash.
    pub best: usize,
    /// Endorsements required.
    pub required: usize,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The measured report.
    pub report: Report,
    /// Every signed evidence record, in the order it was produced.
    pub evidence: Vec<Signed<Evidence>>,
    /// An in-memory audit log (RFC 6962 tree, SHA3-256) with one leaf per evidence record, in
    /// the same order: the record's canonical bytes followed by its signer and signature.
    pub audit: toolcap_audit::Tree,
    /// Every alarm.
    pub alarms: Vec<Alarm>,
    /// The last finalized epoch's signed tree.
    pub last_final_tree: Option<EpochTree>,
    /// The bias bound the run was held to, in honest standard deviations.
    pub bias_bound: f64,
    /// The Byzantine nodes.
    pub byzantine: BTreeSet<NodeId>,
    /// The flagged nodes and the epoch each was first flagged in.
    pub flagged: BTreeMap<NodeId, u32>,
    /// The hierarchy.
    pub topology: Topology,
    /// The public keys.
    pub membership: Membership,
    /// The protocol parameters.
    pub config: FleetConfig,
}

struct World {
    cfg: FleetConfig,
    topo: Topology,
    truth: Truth,
    keys: Vec<SigningKey>,
    members: Membership,
    byz: Vec<bool>,
    attack: Box<dyn Attack>,
    seed: u64,
    threads: usize,
    epochs: u32,
    warmup: u32,
}

impl World {
    fn key(&self, n: NodeId) -> &SigningKey {
        &self.keys[n.0 as usize]
    }
    fn is_byz(&self, n: NodeId) -> bool {
        self.byz[n.0 as usize]
    }
    fn ctx(&self, epoch: u32, level: u8, node: NodeId) -> Ctx {
        Ctx {
            epoch,
            epochs: self.epochs,
            level,
            node,
            warmup: self.warmup,
        }
    }
}

/// Maps `f` over `0..n` on `threads` scoped threads, keeping the order. Threads take small
/// blocks of indices from a shared counter, so an expensive stretch of positions (a Byzantine
/// aggregator, a large committee) does not leave the other threads idle.
fn par_map<T: Send>(n: u64, threads: usize, f: impl Fn(u64) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, 64) as u64;
    if threads == 1 || n < 2 {
        return (0..n).map(f).collect();
    }
    // About 16 blocks per thread: small enough to balance, large enough to keep the counter cold.
    let block = (n / (threads * 16)).max(1);
    let next = AtomicU64::new(0);
    let (f, next) = (&f, &next);
    let mut blocks: Vec<(u64, Vec<T>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.min(n))
            .map(|_| {
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let a = next.fetch_add(block, Ordering::Relaxed);
                        if a >= n {
                            break mine;
                        }
                        let b = (a + block).min(n);
                        mine.push((a, (a..b).map(f).collect::<Vec<T>>()));
                    }
                })
            })
            .collect();
        // A worker that panicked re-raises here: dropping its blocks would misalign the results.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    blocks.sort_unstable_by_key(|(a, _)| *a);
    blocks.into_iter().flat_map(|(_, v)| v).collect()
}

struct LocalOut {
    position: Position,
    sum: Vec<f64>,
}

fn run_local(w: &World, epoch: u32, i: u64) -> Result<LocalOut, Error> {
    let dim = w.cfg.dim;
    let agents = w.topo.children(0, i);
    let n = (agents.end - agents.start) as usize;
    let mut rows = vec![0.0; n * dim];
    SplitMix::new(&[w.seed, u64::from(epoch), i]).normals(&mut rows);
    let mut sum = vec![0.0; dim];
    for row in rows.chunks_exact_mut(dim) {
        for (j, x) in row.iter_mut().enumerate() {
            *x = w.truth.mu[j] + w.truth.sigma[j] * *x;
        }
        w.cfg.clip.clip(row);
        for (s, x) in sum.iter_mut().zip(row.iter()) {
            *s += x;
        }
    }
    let honest = Moments::from_rows(&rows, dim)?;
    let node = w.topo.id(0, i);
    let report = if w.is_byz(node) {
        w.attack.local_report(&w.ctx(epoch, 0, node), &honest)
    } else {
        honest
    };
    let summary = local_summary(&w.cfg, u64::from(epoch), node, n as u32, report);
    let proposal = Signed::sign(summary.clone(), node, w.key(node));
    Ok(LocalOut {
        position: Position {
            proposal,
            accepted: summary,
            certificate: None,
        },
        sum,
    })
}

/// One committee's drift observations: `(child, mean, spread factor)` per child, then the
/// committee's centre and scale.
type CommitteeDrift = (Vec<(NodeId, Vec<f64>, f64)>, Vec<f64>, Vec<f64>);

struct AggOut {
    position: Position,
    certified: bool,
    alarm: Option<Alarm>,
    evidence: Vec<Signed<Evidence>>,
    /// `(child, child level, child mean)` with the committee's centre and scale.
    drift: Option<CommitteeDrift>,
}

/// The audit-log leaf of one evidence record: canonical bytes, signer id, signature.
pub fn evidence_leaf(e: &Signed<Evidence>) -> Vec<u8> {
    let mut leaf = e.record.to_canonical();
    leaf.extend_from_slice(&e.signer.0.to_be_bytes());
    leaf.extend_from_slice(&e.signature.to_bytes());
    leaf
}

fn evidence_record(w: &World, reporter: NodeId, e: Evidence) -> Signed<Evidence> {
    Signed::sign(e, reporter, w.key(reporter))
}

#[allow(clippy::too_many_arguments)] // reason: one position's whole context, used once
fn run_aggregator(
    w: &World,
    epoch: u32,
    level: u8,
    k: u64,
    below: &[Position],
    below_certified: &[bool],
    quarantine: &BTreeSet<NodeId>,
) -> Result<AggOut, Error> {
    let e64 = u64::from(epoch);
    let node = w.topo.id(level, k);
    let committee = w.topo.committee(level, k);
    let range = w.topo.children(level, k);
    let children = &below[range.start as usize..range.end as usize];
    let certified_below = &below_certified[range.start as usize..range.end as usize];
    let honest_members: Vec<NodeId> = committee
        .iter()
        .copied()
        .filter(|m| !w.is_byz(*m))
        .collect();
    let mut evidence = Vec::new();

    // 1. The parent checks every child: its signature (one batch), and for aggregator children
    //    their certificate. Children that fail are excluded (listed with the quarantined).
    let proposals: Vec<&Signed<Summary>> = children.iter().map(|c| &c.proposal).collect();
    let bad = verify_all(&proposals, &w.members);
    // Aggregator children's certificates, all their endorsements in one batch.
    let mut cert_ok = vec![false; children.len()];
    if level >= 2 {
        let committees: Vec<Vec<NodeId>> = (0..children.len())
            .map(|i| w.topo.committee(level - 1, range.start + i as u64))
            .collect();
        let (mut at, mut certs) = (Vec::new(), Vec::new());
        for (i, c) in children.iter().enumerate() {
            if let Some(cert) = &c.certificate {
                at.push(i);
                certs.push((cert, committees[i].as_slice()));
            }
        }
        let checked = Certificate::verify_many(&certs, w.cfg.threshold, &w.members);
        for (i, r) in at.into_iter().zip(checked) {
            cert_ok[i] = r.is_ok();
        }
    }
    let mut excluded: Vec<NodeId> = Vec::new();
    for (i, c) in children.iter().enumerate() {
        let cid = c.accepted.node;
        let sig_bad = bad.binary_search(&i).is_ok();
        let cert_bad = level >= 2 && !cert_ok[i];
        if (level == 1 && sig_bad) || cert_bad || !certified_below[i] {
            excluded.push(cid);
            if sig_bad {
                evidence.push((
                    node,
                    Evidence {
                        epoch: e64,
                        level: level - 1,
                        reporter: node,
                        subject: cid,
                        kind: EvidenceKind::BadSignature,
                        coord: None,
                        value: 0.0,
                        bound: 0.0,
                        record: c.proposal.record.hash(),
                    },
                ));
            }
        } else if quarantine.contains(&cid) {
            excluded.push(cid);
        }
    }
    let accepted_children: Vec<&Summary> = children.iter().map(|c| &c.accepted).collect();

    // 2. The honest recomputation: what an honest aggregator publishes and what every honest
    //    member computes before endorsing (the same bytes; computed once here and shared).
    let honest: Result<Aggregate, _> =
        aggregate(&w.cfg, e64, level, node, &accepted_children, &excluded);
    let fallback = || Summary {
        epoch: e64,
        level,
        node,
        children_root: toolcap_fleet::merkle::root(
            &accepted_children
                .iter()
                .map(|s| s.hash())
                .collect::<Vec<_>>(),
        ),
        children: accepted_children.len() as u32,
        quarantined: excluded.clone(),
        clip: w.cfg.clip.clone(),
        output: Moments::new(w.cfg.dim),
    };
    let honest_summary = honest
        .as_ref()
        .map_or_else(|_| fallback(), |a| a.summary.clone());
    let honest_hash = honest_summary.hash();

    // 3. The aggregator signs its proposal.
    let proposed = if w.is_byz(node) {
        w.attack
            .proposal(&w.ctx(epoch, level, node), &honest_summary)
    } else {
        honest_summary.clone()
    };
    let proposal = Signed::sign(proposed, node, w.key(node));
    let proposal_hash = proposal.record.hash();

    // 4. Every member votes with its own key. Honest members decide on the same recomputation,
    //    so their choice is the same and is computed once.
    let honest_choice = match vote(
        &w.cfg,
        committee.len(),
        honest
            .as_ref()
            .map_err(|_| toolcap_fleet::Error::NothingAccepted),
    ) {
        Vote::Endorse(h) => MemberVote::Endorse(h),
        _ => MemberVote::Withhold,
    };
    let mut votes = Vec::with_capacity(committee.len());
    for &m in &committee {
        let choice = if w.is_byz(m) {
            w.attack
                .vote(&w.ctx(epoch, level - 1, m), honest_hash, proposal_hash)
        } else {
            honest_choice
        };
        if let MemberVote::Endorse(h) = choice {
            let rec = Endorsement {
                epoch: e64,
                level,
                node,
                output: h,
                member: m,
            };
            votes.push(Signed::sign(rec, m, w.key(m)));
        }
    }

    // 5. The certificate (assembly checks every endorsement signature in one batch).
    let cert = Certificate::assemble(
        e64,
        level,
        node,
        &votes,
        &committee,
        w.cfg.threshold,
        &w.members,
    );
    let (accepted, certificate, alarm) = match cert {
        Ok(c) if c.output == proposal_hash => (proposal.record.clone(), Some(c), None),
        Ok(c) if c.output == honest_hash && honest.is_ok() => {
            (honest_summary.clone(), Some(c), None)
        }
        Ok(c) => (
            honest_summary.clone(),
            None,
            Some(Alarm {
                epoch,
                level,
                node,
                best: c.signatures.len(),
                required: w.cfg.threshold.required(committee.len()),
            }),
        ),
        Err(toolcap_fleet::Error::NoQuorum { best, required }) => (
            honest_summary.clone(),
            None,
            Some(Alarm {
                epoch,
                level,
                node,
                best,
                required,
            }),
        ),
        Err(e) => return Err(e.into()),
    };
    let certified = certificate.is_some();

    // 6. Evidence: the merge's findings, a false proposal, false endorsements.
    let reporter = if w.is_byz(node) {
        honest_members.first().copied()
    } else {
        Some(node)
    };
    if let Ok(agg) = &honest {
        for f in &agg.outcome.findings {
            evidence.push((
                node,
                Evidence {
                    epoch: e64,
                    level: level - 1,
                    reporter: node,
                    subject: f.subject,
                    kind: f.kind,
                    coord: f.coord,
                    value: f.value,
                    bound: f.bound,
                    record: children
                        .iter()
                        .find(|c| c.accepted.node == f.subject)
                        .map_or(Hash::default(), |c| c.accepted.hash()),
                },
            ));
        }
    }
    if let Some(c) = &certificate {
        if c.output != proposal_hash {
            let gap = proposal
                .record
                .output
                .mean()
                .iter()
                .zip(accepted.output.mean())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            evidence.push((
                node,
                Evidence {
                    epoch: e64,
                    level,
                    reporter: node,
                    subject: node,
                    kind: EvidenceKind::FalseSummary,
                    coord: None,
                    value: gap,
                    bound: 0.0,
                    record: proposal_hash,
                },
            ));
        }
        for v in &votes {
            if v.record.output != c.output {
                evidence.push((
                    node,
                    Evidence {
                        epoch: e64,
                        level: level - 1,
                        reporter: node,
                        subject: v.signer,
                        kind: EvidenceKind::FalseEndorsement,
                        coord: None,
                        value: 1.0,
                        bound: 0.0,
                        record: toolcap_crypto::sha3_256(&v.record.to_canonical()),
                    },
                ));
            }
        }
    }
    let evidence = match reporter {
        Some(r) => evidence
            .into_iter()
            .map(|(_, mut e)| {
                e.reporter = r;
                evidence_record(w, r, e)
            })
            .collect(),
        None => Vec::new(),
    };

    // 7. What the drift tracker learns: every well-formed child's mean against the consensus.
    let drift = honest.as_ref().ok().and_then(|agg| {
        if agg.outcome.scale.is_empty() {
            return None;
        }
        let obs = children
            .iter()
            .filter(|c| c.accepted.output.dim() == w.cfg.dim && c.accepted.output.count() > 0)
            .map(|c| {
                let f = toolcap_fleet::spread_factor(
                    c.accepted.output.count(),
                    agg.outcome.median_count,
                );
                (c.accepted.node, c.accepted.output.mean().to_vec(), f)
            })
            .collect();
        Some((obs, agg.outcome.center.clone(), agg.outcome.scale.clone()))
    });

    Ok(AggOut {
        position: Position {
            proposal,
            accepted,
            certificate,
        },
        certified,
        alarm,
        evidence,
        drift,
    })
}

struct EpochOut {
    tree: EpochTree,
    finalized: bool,
    honest_mean: Vec<f64>,
    alarms: Vec<Alarm>,
    evidence: Vec<Signed<Evidence>>,
    drift: Vec<(u8, CommitteeDrift)>,
}

fn run_epoch(w: &World, epoch: u32, quarantine: &BTreeSet<NodeId>) -> Result<EpochOut, Error> {
    let dim = w.cfg.dim;
    let locals = par_map(w.topo.size(0), w.threads, |i| run_local(w, epoch, i));
    let mut honest_sum = vec![0.0; dim];
    let mut level0 = Vec::with_capacity(locals.len());
    for l in locals {
        let l = l?;
        for (s, x) in honest_sum.iter_mut().zip(&l.sum) {
            *s += x;
        }
        level0.push(l.position);
    }
    let honest_mean: Vec<f64> = honest_sum
        .iter()
        .map(|s| s / w.topo.agents() as f64)
        .collect();
    let mut levels = vec![level0];
    let mut certified_below = vec![true; w.topo.size(0) as usize];
    let (mut alarms, mut evidence, mut drift) = (Vec::new(), Vec::new(), Vec::new());
    let mut finalized = true;
    for level in 1..=w.topo.top() {
        let below = &levels[usize::from(level) - 1];
        let outs = par_map(w.topo.size(level), w.threads, |k| {
            run_aggregator(w, epoch, level, k, below, &certified_below, quarantine)
        });
        let mut positions = Vec::with_capacity(outs.len());
        let mut certified = Vec::with_capacity(outs.len());
        for o in outs {
            let o = o?;
            finalized &= o.certified;
            certified.push(o.certified);
            alarms.extend(o.alarm);
            evidence.extend(o.evidence);
            if let Some(d) = o.drift {
                drift.push((level - 1, d));
            }
            positions.push(o.position);
        }
        levels.push(positions);
        certified_below = certified;
    }
    Ok(EpochOut {
        tree: EpochTree {
            epoch: u64::from(epoch),
            levels,
        },
        finalized,
        honest_mean,
        alarms,
        evidence,
        drift,
    })
}

fn validate(cfg: &SimConfig) -> Result<(), Error> {
    if cfg.agents == 0 || cfg.agents > 100_000_000 {
        return Err(Error::Config("agents must be in 1..=100000000"));
    }
    if cfg.fanout < 2 || cfg.fanout > 65_536 {
        return Err(Error::Config("fanout must be in 2..=65536"));
    }
    if cfg.dim == 0 || cfg.dim > toolcap_fleet::MAX_DIM {
        return Err(Error::Config("dim must be in 1..=256"));
    }
    if !(0.0..=1.0).contains(&cfg.byzantine) {
        return Err(Error::Config("byzantine fraction must be in [0, 1]"));
    }
    if cfg.epochs == 0 || cfg.epochs > 100_000 {
        return Err(Error::Config("epochs must be in 1..=100000"));
    }
    Ok(())
}

/// A simulation in progress: set up once (keys, placement), then stepped one epoch at a time.
pub struct Simulation {
    world: World,
    entry: &'static attacks::AttackEntry,
    cfg: SimConfig,
    bound: f64,
    tracker: DriftTracker,
    flagged: BTreeMap<NodeId, u32>,
    repeats: BTreeMap<NodeId, u32>,
    quarantine: BTreeSet<NodeId>,
    evidence: Vec<Signed<Evidence>>,
    alarms: Vec<Alarm>,
    times: Vec<f64>,
    finalized: u32,
    degraded: u32,
    silent: u32,
    last_bias: Option<f64>,
    last_final_tree: Option<EpochTree>,
    detection_epoch: Option<u32>,
    epoch: u32,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("cfg", &self.cfg)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

/// What one epoch did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// The epoch.
    pub epoch: u32,
    /// Whether it was finalized.
    pub finalized: bool,
    /// Wall time, in milliseconds.
    pub ms: f64,
    /// Signatures made (summaries, endorsements, evidence).
    pub signatures: u64,
}

impl Simulation {
    /// Sets up the fleet: topology, one key per node (from the seed), Byzantine placement.
    pub fn new(cfg: &SimConfig) -> Result<Self, Error> {
        validate(cfg)?;
        let entry = attacks::lookup(&cfg.attack).ok_or_else(|| Error::UnknownAttack {
            name: cfg.attack.clone(),
            known: attacks::names(),
        })?;
        let topo = Topology::new(cfg.agents, cfg.fanout)?;
        let truth = Truth::new(cfg.dim);
        let mut fcfg = FleetConfig::new(cfg.dim, -1.0, 1.0)?;
        fcfg.clip = ClipBox::new(
            truth
                .mu
                .iter()
                .zip(&truth.sigma)
                .map(|(m, s)| m - 8.0 * s)
                .collect(),
            truth
                .mu
                .iter()
                .zip(&truth.sigma)
                .map(|(m, s)| m + 8.0 * s)
                .collect(),
        )?;
        let threads = cfg.threads.max(1);
        let keys = par_map(topo.nodes(), threads, |n| node_key(cfg.seed, n));
        let members = Membership::new(keys.iter().map(SigningKey::verifying_key).collect());
        let byz = place_byzantine(&topo, cfg.byzantine, fcfg.threshold, cfg.seed);
        let bound = bias_bound(&topo, fcfg.robust.estimator, fcfg.threshold);
        let tracker = DriftTracker::new(cfg.dim, fcfg.drift)?;
        let world = World {
            cfg: fcfg,
            topo,
            truth,
            keys,
            members,
            byz,
            attack: (entry.build)(),
            seed: cfg.seed,
            threads,
            epochs: cfg.epochs,
            warmup: (cfg.epochs / 4).max(1),
        };
        Ok(Simulation {
            world,
            entry,
            cfg: cfg.clone(),
            bound,
            tracker,
            flagged: BTreeMap::new(),
            repeats: BTreeMap::new(),
            quarantine: BTreeSet::new(),
            evidence: Vec::new(),
            alarms: Vec::new(),
            times: Vec::new(),
            finalized: 0,
            degraded: 0,
            silent: 0,
            last_bias: None,
            last_final_tree: None,
            detection_epoch: None,
            epoch: 0,
        })
    }

    /// Runs the next epoch.
    pub fn step(&mut self) -> Result<EpochStats, Error> {
        let epoch = self.epoch;
        self.epoch += 1;
        let start = Instant::now();
        let out = run_epoch(&self.world, epoch, &self.quarantine)?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        self.times.push(ms);
        let w = &self.world;
        let topo = &w.topo;
        let signatures = out.tree.levels.iter().map(|l| l.len() as u64).sum::<u64>()
            + out
                .tree
                .levels
                .iter()
                .flatten()
                .filter_map(|p| p.certificate.as_ref())
                .map(|c| c.signatures.len() as u64)
                .sum::<u64>()
            + out.evidence.len() as u64;

        // Flags: proofs at once, statistical findings when they repeat, drift when it crosses.
        let mut seen: BTreeSet<NodeId> = BTreeSet::new();
        let mut newly: Vec<NodeId> = Vec::new();
        for e in &out.evidence {
            let subject = e.record.subject;
            if e.record.kind.is_proof() {
                newly.push(subject);
            } else if seen.insert(subject) {
                let r = self.repeats.entry(subject).or_insert(0);
                *r += 1;
                if *r >= REPEATS_TO_FLAG {
                    newly.push(subject);
                }
            }
        }
        for (level, (obs, center, scale)) in &out.drift {
            for (n, mean, f) in obs {
                let wide: Vec<f64> = scale.iter().map(|s| s * f).collect();
                self.tracker.observe(*n, *level, mean, center, &wide)?;
            }
        }
        for f in self.tracker.evaluate() {
            if !self.flagged.contains_key(&f.node) {
                let reporter = topo
                    .locate(f.node)
                    .and_then(|(l, i)| topo.parent(l, i))
                    .map_or(topo.root(), |(l, i)| topo.id(l, i));
                self.evidence.push(Signed::sign(
                    Evidence {
                        epoch: u64::from(epoch),
                        level: f.level,
                        reporter,
                        subject: f.node,
                        kind: EvidenceKind::Drift,
                        coord: f.coord,
                        value: f.statistic,
                        bound: f.bound,
                        record: Hash::default(),
                    },
                    reporter,
                    w.key(reporter),
                ));
                newly.push(f.node);
            }
        }
        for n in newly {
            self.flagged.entry(n).or_insert(epoch);
            // Only local nodes' own data is unverifiable; an aggregator's accepted output is
            // its committee's recomputation, so excluding it would only lose honest data.
            if topo.locate(n).is_some_and(|(l, _)| l == 0) {
                self.quarantine.insert(n);
            }
        }

        if out.finalized {
            self.finalized += 1;
            let global = out.tree.global().map(|g| g.output.mean().to_vec());
            let bias = global.map(|g| {
                g.iter()
                    .zip(&out.honest_mean)
                    .zip(&w.truth.sigma)
                    .map(|((g, h), s)| (g - h).abs() / s)
                    .fold(0.0, f64::max)
            });
            if let Some(b) = bias {
                if b > self.bound {
                    self.silent += 1;
                }
                self.last_bias = Some(b);
            }
            self.last_final_tree = Some(out.tree);
        } else {
            self.degraded += 1;
        }
        if self.detection_epoch.is_none() && (!self.flagged.is_empty() || !out.alarms.is_empty()) {
            self.detection_epoch = Some(epoch);
        }
        self.alarms.extend(out.alarms);
        self.evidence.extend(out.evidence);
        Ok(EpochStats {
            epoch,
            finalized: out.finalized,
            ms,
            signatures,
        })
    }

    /// Ends the run and reports.
    pub fn finish(self) -> Outcome {
        let w = self.world;
        let byzantine: BTreeSet<NodeId> = w
            .byz
            .iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| NodeId(i as u64))
            .collect();
        let false_flags = self
            .flagged
            .keys()
            .filter(|n| !byzantine.contains(n))
            .count() as u64;
        let mut sorted = self.times.clone();
        let p50 = toolcap_fleet::median(&mut sorted);
        let report = Report {
            agents: self.cfg.agents,
            byzantine_fraction: self.cfg.byzantine,
            attack: self.entry.name.to_owned(),
            epochs: self.epoch,
            finalized_epochs: self.finalized,
            degraded_epochs: self.degraded,
            global_bias_sigma: self.last_bias,
            silent_poisoned_epochs: self.silent,
            detected: self.detection_epoch.is_some(),
            detection_epoch: self.detection_epoch,
            flagged_nodes: self.flagged.len() as u64,
            false_flags,
            epoch_ms_p50: p50,
            peak_rss_bytes: peak_rss_bytes(),
            trust: Default::default(),
        };
        let mut audit = toolcap_audit::Tree::new(toolcap_crypto::HashAlg::Sha3_256);
        for e in &self.evidence {
            audit.push_data(&evidence_leaf(e));
        }
        Outcome {
            report,
            audit,
            evidence: self.evidence,
            alarms: self.alarms,
            last_final_tree: self.last_final_tree,
            bias_bound: self.bound,
            byzantine,
            flagged: self.flagged,
            topology: w.topo,
            membership: w.members,
            config: w.cfg,
        }
    }
}

/// Runs the simulation `cfg` describes: set up, `cfg.epochs` epochs, report.
pub fn run(cfg: &SimConfig) -> Result<Outcome, Error> {
    crate::trust_attacks::validate(cfg)?;
    let mut sim = Simulation::new(cfg)?;
    for _ in 0..cfg.epochs {
        sim.step()?;
    }
    let mut out = sim.finish();
    out.report.trust = crate::trust_attacks::run(cfg, &out.topology, &out.byzantine)?;
    Ok(out)
}
