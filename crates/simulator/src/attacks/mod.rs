//! The attacks the simulator knows. Each is one module with one [`Attack`] implementation and
//! one line in [`REGISTRY`].

use std::fmt::Debug;

use toolcap_crypto::Hash;
use toolcap_fleet::{Moments, NodeId, Summary};

mod none;
mod sub_threshold;
mod tree_poisoning;

/// Where a Byzantine node is when an attack hook is called.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Ctx {
    /// The epoch (0-based).
    pub epoch: u32,
    /// Total epochs of the run.
    pub epochs: u32,
    /// The node's level.
    pub level: u8,
    /// The node.
    pub node: NodeId,
    /// Epochs a sleeper behaves well before it starts (`max(1, epochs / 4)`).
    pub warmup: u32,
}

/// How a Byzantine committee member votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberVote {
    /// Sign an endorsement of this hash.
    Endorse(Hash),
    /// Sign nothing.
    Withhold,
}

/// What Byzantine nodes do. Every hook has an honest default, so an attack overrides only what
/// it changes; new hooks get honest defaults too, so adding one never breaks an attack.
pub trait Attack: Debug + Send + Sync {
    /// The statistic a Byzantine local node reports (signed with its real key) instead of the
    /// honest statistic of its agents.
    fn local_report(&self, _ctx: &Ctx, honest: &Moments) -> Moments {
        honest.clone()
    }
    /// The summary a Byzantine aggregator signs instead of its honest recomputation.
    fn proposal(&self, _ctx: &Ctx, honest: &Summary) -> Summary {
        honest.clone()
    }
    /// How a Byzantine committee member votes, given the honest recomputation's hash and the
    /// hash of what its aggregator proposed.
    fn vote(&self, _ctx: &Ctx, honest: Hash, _proposal: Hash) -> MemberVote {
        MemberVote::Endorse(honest)
    }
}

/// One registered attack.
#[derive(Debug, Clone, Copy)]
pub struct AttackEntry {
    /// The name `--attack` takes.
    pub name: &'static str,
    /// One line on what it does.
    pub about: &'static str,
    /// Builds it.
    pub build: fn() -> Box<dyn Attack>,
}

/// Every attack, in the order `--help` lists them. Adding an attack: a module and one line.
pub const REGISTRY: &[AttackEntry] = &[
    none::ENTRY,
    tree_poisoning::ENTRY,
    sub_threshold::ENTRY,
    crate::trust_attacks::TEMPORAL,
    crate::trust_attacks::CLOCK_FORGERY,
    crate::trust_attacks::FALSE_EVIDENCE,
    crate::trust_attacks::SHADOW_NETWORK,
];

/// The attack named `name`.
pub fn lookup(name: &str) -> Option<&'static AttackEntry> {
    REGISTRY.iter().find(|e| e.name == name)
}

/// The registered names, comma-separated.
pub fn names() -> String {
    REGISTRY
        .iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Scales every coordinate `j` of a copy of `m`'s mean by adding `shift[j]`.
pub(crate) fn shifted(m: &Moments, shift: impl Fn(usize, &Moments) -> f64) -> Moments {
    let mean: Vec<f64> = m
        .mean()
        .iter()
        .enumerate()
        .map(|(j, v)| v + shift(j, m))
        .collect();
    Moments::from_parts(m.count(), mean, m.comoment().to_vec()).unwrap_or_else(|_| m.clone())
}

/// Per-coordinate standard error of `m`'s mean (`sqrt(var / n)`), from its own statistic.
pub(crate) fn std_error(m: &Moments, j: usize) -> f64 {
    (m.variance(j) / (m.count().max(1) as f64)).sqrt()
}
