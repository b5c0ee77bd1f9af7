//! The toolcap fleet attack simulator: runs the attacks against the real protocol code
//! (`toolcap-fleet`), with real Ed25519 keys and signatures for every node.
//!
//! - [`SimConfig`]: fleet size, fan-in, dimension, Byzantine fraction, attack, epochs, seed.
//! - [`run`]: builds the hierarchy, gives every node its own key (the rest of the fleet holds
//!   only the public keys), places Byzantine nodes in every committee, and runs the epochs:
//!   agents draw feature vectors from a known distribution, local nodes summarise and sign,
//!   aggregators verify and merge robustly, committees recompute and endorse, certificates are
//!   assembled and checked, evidence is signed, the drift tracker flags. Returns a [`Outcome`]
//!   with the [`Report`] (the contract of `toolcap simulate fleet --json`), the signed
//!   evidence and the last epoch's signed tree.
//! - [`attacks`]: the [`Attack`] trait and the registry of attack names.
//!
//! ```
//! use toolcap_simulator::{run, SimConfig};
//!
//! let cfg = SimConfig { agents: 512, fanout: 16, dim: 4, epochs: 2, ..SimConfig::default() };
//! let out = run(&cfg).unwrap();
//! assert_eq!(out.report.finalized_epochs, 2);
//! assert_eq!(out.report.false_flags, 0);
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

mod agents;
pub mod attacks;
mod engine;
pub mod trust_attacks;
mod world;

pub use attacks::{Attack, AttackEntry, Ctx, MemberVote, REGISTRY};
pub use engine::{Alarm, EpochStats, Outcome, Simulation, evidence_leaf, run};

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `--attack` named no registered attack.
    #[error("unknown attack {name:?}; known attacks: {known}")]
    UnknownAttack {
        /// The name given.
        name: String,
        /// The registered names.
        known: String,
    },
    /// A parameter is outside its domain.
    #[error("invalid parameter: {0}")]
    Config(&'static str),
    /// The protocol code failed.
    #[error(transparent)]
    Fleet(#[from] toolcap_fleet::Error),
    /// The trust layer failed.
    #[error(transparent)]
    Trust(#[from] toolcap_trust::Error),
    /// The behavioural detector failed.
    #[error(transparent)]
    Behavior(#[from] toolcap_behavior::Error),
}

/// Parameters of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Agents in the fleet.
    pub agents: u64,
    /// Fan-in of every level (default 64).
    pub fanout: u64,
    /// Feature dimension (default 16).
    pub dim: usize,
    /// Fraction of each committee's members that are Byzantine, in `[0, 1]`.
    pub byzantine: f64,
    /// The attack's registered name.
    pub attack: String,
    /// Epochs to run (default 20).
    pub epochs: u32,
    /// Seed of everything random (keys, agents' data, placement).
    pub seed: u64,
    /// Worker threads (default: the machine's parallelism).
    pub threads: usize,
    /// Epsilon of each differentially private release (default 1.0).
    pub dp_epsilon: f64,
    /// Delta of each release (default 1e-7; 0 switches to the Laplace mechanism).
    pub dp_delta: f64,
    /// Fraction of agents that are compromised (default 0.05).
    pub compromised: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            agents: 10_000,
            fanout: toolcap_fleet::DEFAULT_FANOUT,
            dim: toolcap_fleet::DEFAULT_DIM,
            byzantine: 0.0,
            attack: "none".into(),
            epochs: 20,
            seed: 1,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            dp_epsilon: 1.0,
            dp_delta: 1e-7,
            compromised: 0.05,
        }
    }
}

/// What one run measured: the JSON object `toolcap simulate fleet --json` prints.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Agents in the fleet.
    pub agents: u64,
    /// The Byzantine fraction asked for.
    pub byzantine_fraction: f64,
    /// The attack's name.
    pub attack: String,
    /// Epochs run.
    pub epochs: u32,
    /// Epochs whose global output was certified at every level.
    pub finalized_epochs: u32,
    /// Epochs where some certificate failed: alarmed, previous final value kept.
    pub degraded_epochs: u32,
    /// `max_j |global mean_j - honest mean_j| / honest sd_j` in the last finalized epoch
    /// (`null` when no epoch was finalized).
    pub global_bias_sigma: Option<f64>,
    /// Finalized epochs whose bias exceeded the documented bound.
    pub silent_poisoned_epochs: u32,
    /// Whether the attack was noticed (a node flagged or an epoch alarmed).
    pub detected: bool,
    /// The first epoch (0-based) with a flag or an alarm.
    pub detection_epoch: Option<u32>,
    /// Distinct nodes flagged by the end of the run.
    pub flagged_nodes: u64,
    /// Honest nodes among them.
    pub false_flags: u64,
    /// Median wall time of one epoch, in milliseconds.
    pub epoch_ms_p50: f64,
    /// Peak resident memory of the process (`VmHWM`), if the platform reports it.
    pub peak_rss_bytes: Option<u64>,
    /// The trust layer's fields (`forged_accepted`, `agent_precision`, ...).
    #[serde(flatten)]
    pub trust: trust_attacks::TrustReport,
}
