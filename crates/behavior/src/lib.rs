//! Behavioural baselines, masquerade detection and behaviour similarity for toolcap agents.
//!
//! The crate is pure: no I/O, no clock, no global randomness.
//!
//! - [`Event`]: one action of an agent (command, capability flags, optional timestamp).
//! - [`Profile`]: bounded counts of an agent's commands, transitions and capabilities.
//! - [`Population`]: the pooled "not this agent" model the likelihood ratios compare against.
//! - [`Scorer`]: the detectors (naive Bayes, Markov, novelty, capability mix) over a window.
//! - [`Baseline`]: a profile with its per-agent [`Calibration`] and bounded, clean-only updating.
//! - [`Monitor`]: many agents' baselines turning windows into [`Alert`]s.
//! - [`SimHasher`], [`LshIndex`]: behaviour fingerprints and sub-quadratic similarity search.
//! - [`Roc`] and [`sea`]: the public masquerade benchmark protocol and its ROC curve.
//!
//! ```
//! use toolcap_behavior::{Baseline, Config, Event, Population};
//!
//! let cfg = Config::default();
//! let mine: Vec<Event> = (0..1000).map(|i| Event::command(["ls", "cd", "vi", "make"][i % 4])).collect();
//! let theirs: Vec<Event> = (0..1000).map(|i| Event::command(["ls", "curl", "sh", "nc"][i % 4])).collect();
//! let mut population = Population::new();
//! population.add_stream(&theirs);
//! let mut baseline = Baseline::train(&mine, &population, &cfg)?;
//! let normal = baseline.step(&mine[..100], &population, &cfg)?;
//! let odd = baseline.step(&theirs[..100], &population, &cfg)?;
//! assert!(odd.z > normal.z + 3.0);
//! # Ok::<(), toolcap_behavior::Error>(())
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

mod error;
mod event;
mod monitor;
mod profile;
mod roc;
pub mod sea;
mod simhash;
mod table;

pub use error::Error;
pub use event::{CommandId, Event};
pub use monitor::{AgentId, Alert, Monitor};
pub use profile::{
    Baseline, CAP_BITS, Calibration, Capacity, Config, Population, Profile, Scorer, Scores,
    Verdict, Weights,
};
pub use roc::{Roc, RocPoint};
pub use simhash::{
    Features, Fingerprint, Groups, LshIndex, Neighbours, SimHasher, correlation, shifted_together,
};
