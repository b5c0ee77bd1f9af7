//! What an honest node does each epoch: summarise, aggregate, endorse.

use toolcap_crypto::Hash;

use crate::drift::DriftConfig;
use crate::error::{Error, Result};
use crate::merge::{Child, MergeOutcome, RobustConfig, robust_merge};
use crate::merkle;
use crate::quorum::Threshold;
use crate::record::{ClipBox, NodeId, Summary};
use crate::stats::Moments;

/// Dimension of feature vectors unless configured otherwise.
pub const DEFAULT_DIM: usize = 16;
/// Fan-in unless configured otherwise.
pub const DEFAULT_FANOUT: u64 = 64;

/// Everything the nodes of one fleet agree on.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// Dimension of the feature vectors.
    pub dim: usize,
    /// The declared clipping box.
    pub clip: ClipBox,
    /// Robust merge parameters.
    pub robust: RobustConfig,
    /// Quorum threshold of certificates.
    pub threshold: Threshold,
    /// Drift tracking parameters.
    pub drift: DriftConfig,
}

impl FleetConfig {
    /// Defaults for `dim` dimensions and a clipping box of `[lo, hi]` on every coordinate.
    pub fn new(dim: usize, lo: f64, hi: f64) -> Result<Self> {
        if dim == 0 || dim > crate::record::MAX_DIM {
            return Err(Error::Config("dimension must be in 1..=256"));
        }
        Ok(FleetConfig {
            dim,
            clip: ClipBox::uniform(dim, lo, hi)?,
            robust: RobustConfig::default(),
            threshold: Threshold::default(),
            drift: DriftConfig::default(),
        })
    }
}

/// A local node's summary of its agents' (already clipped) statistics.
pub fn local_summary(
    cfg: &FleetConfig,
    epoch: u64,
    node: NodeId,
    agents: u32,
    output: Moments,
) -> Summary {
    Summary {
        epoch,
        level: 0,
        node,
        children_root: merkle::empty_root(),
        children: agents,
        quarantined: Vec::new(),
        clip: cfg.clip.clone(),
        output,
    }
}

/// An aggregator's recomputed output and what the merge found.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// The summary the aggregator should publish.
    pub summary: Summary,
    /// The merge's findings, centre and scale.
    pub outcome: MergeOutcome,
}

/// Computes the summary of the aggregator `node` at `level` from its children's summaries (in
/// child order), excluding the children listed in `quarantined`. This is what the aggregator
/// publishes, what each committee member recomputes before endorsing, and what a verifier
/// recomputes from the signed tree.
pub fn aggregate(
    cfg: &FleetConfig,
    epoch: u64,
    level: u8,
    node: NodeId,
    children: &[&Summary],
    quarantined: &[NodeId],
) -> Result<Aggregate> {
    let hashes: Vec<Hash> = children.iter().map(|s| s.hash()).collect();
    let inputs: Vec<Child<'_>> = children
        .iter()
        .map(|s| Child {
            node: s.node,
            moments: &s.output,
        })
        .collect();
    let mut q: Vec<NodeId> = quarantined
        .iter()
        .copied()
        .filter(|n| children.iter().any(|c| c.node == *n))
        .collect();
    q.sort_unstable();
    q.dedup();
    let outcome = robust_merge(cfg.dim, &inputs, &q, &cfg.robust)?;
    let summary = Summary {
        epoch,
        level,
        node,
        children_root: merkle::root(&hashes),
        children: u32::try_from(children.len()).unwrap_or(u32::MAX),
        quarantined: q,
        clip: cfg.clip.clone(),
        output: outcome.output.clone(),
    };
    Ok(Aggregate { summary, outcome })
}

/// An honest member's vote on its aggregator's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    /// Endorse the summary with this hash (the member's own recomputation).
    Endorse(Hash),
    /// Refuse to endorse anything this epoch.
    Refuse(RefuseReason),
}

/// Why an honest member refuses to endorse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefuseReason {
    /// More of the committee's inputs were rejected or quarantined than the quorum tolerates:
    /// the robust bound no longer holds, so no output is vouched for.
    TooManyFaulty,
    /// The output could not be recomputed.
    NoOutput,
}

/// The vote of an honest member of a committee of `committee` members, given its own
/// recomputation `recomputed` (or the error recomputing gave).
pub fn vote(cfg: &FleetConfig, committee: usize, recomputed: Result<&Aggregate>) -> Vote {
    let agg = match recomputed {
        Ok(a) => a,
        Err(_) => return Vote::Refuse(RefuseReason::NoOutput),
    };
    let faulty =
        agg.outcome.findings.iter().filter(|f| f.rejected).count() + agg.summary.quarantined.len();
    if faulty > cfg.threshold.tolerated(committee) {
        return Vote::Refuse(RefuseReason::TooManyFaulty);
    }
    Vote::Endorse(agg.summary.hash())
}
