//! Fleet aggregation for toolcap that survives Byzantine nodes: verifiable hierarchy, robust
//! merge, quorum certificates, drift tracking. Pure: no I/O, no clock, no randomness; the
//! caller injects all three (the simulator and the node do).
//!
//! The main types and how they fit together:
//! - [`Moments`]: mergeable sufficient statistics (count, mean, co-moments) with Chan et al.'s
//!   parallel merge.
//! - [`Topology`]: local nodes over agents, regional levels, one global node; fan-in 64 by
//!   default; dense [`NodeId`]s so [`Membership`] (the public keys) is a vector.
//! - [`Summary`]: what a node signs each epoch (epoch, level, node, Merkle root of its
//!   children's summary hashes, clipping box, quarantine list, output), canonically encoded
//!   with `toolcap-crypto` and wrapped in [`Signed`].
//! - [`aggregate`] / [`robust_merge`]: a parent's output from its children: outlier and
//!   variance bounds, count caps, trimmed mean or median; every rejection a [`Finding`], which
//!   the caller signs as [`Evidence`] for the audit log.
//! - [`vote`], [`Endorsement`], [`Certificate`], [`Threshold`]: the children of an aggregator
//!   are its committee; each recomputes the output and endorses its hash; a quorum
//!   (`ceil(3N/4)` by default) of one hash makes it final.
//! - [`EpochTree`] / [`verify`]: the signed tree of an epoch and its recomputation from the
//!   leaves up; any tampering anywhere is found.
//! - [`DriftTracker`]: per-node sums of standardised deviations from consensus across epochs;
//!   flags sleepers that are always slightly off in one direction.
//!
//! The protocol, its fault bound and its bias bound are written down in
//! `docs/fleet-protocol.md`.
//!
//! ```
//! use toolcap_fleet::{aggregate, local_summary, FleetConfig, Moments, NodeId};
//!
//! # fn main() -> toolcap_fleet::Result<()> {
//! let cfg = FleetConfig::new(2, -10.0, 10.0)?;
//! // Four local nodes, each summarising two agents; the last one lies about its mean.
//! let locals: Vec<_> = (0..4u64)
//!     .map(|i| {
//!         let shift = if i == 3 { 9.0 } else { 0.1 * i as f64 };
//!         let rows = [shift, 1.0, shift + 0.5, 2.0];
//!         Ok(local_summary(&cfg, 7, NodeId(i), 2, Moments::from_rows(&rows, 2)?))
//!     })
//!     .collect::<toolcap_fleet::Result<_>>()?;
//! let children: Vec<_> = locals.iter().collect();
//! let agg = aggregate(&cfg, 7, 1, NodeId(4), &children, &[])?;
//! assert_eq!(agg.outcome.findings[0].subject, NodeId(3)); // rejected, with evidence
//! assert!(agg.summary.output.mean()[0] < 1.0);
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

mod drift;
mod error;
mod merge;
pub mod merkle;
mod node;
mod quorum;
mod record;
mod stats;
mod topology;
mod tree;

pub use drift::{DriftConfig, DriftFlag, DriftTracker};
pub use error::{Error, Result};
pub use merge::{
    Child, Estimator, Finding, MergeOutcome, RobustConfig, median, robust_merge, scaled_mad,
    spread_factor,
};
pub use node::{
    Aggregate, DEFAULT_DIM, DEFAULT_FANOUT, FleetConfig, RefuseReason, Vote, aggregate,
    local_summary, vote,
};
pub use quorum::{Certificate, Threshold};
pub use record::{
    ClipBox, Endorsement, Evidence, EvidenceKind, MAX_DIM, Membership, NodeId, Signed, Summary,
    verify_all,
};
pub use stats::Moments;
pub use topology::Topology;
pub use tree::{EpochTree, Position, verify};
