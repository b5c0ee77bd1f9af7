//! Fleet trust for toolcap: the security layer on top of the aggregation protocol.
//!
//! - [`evidence`]: Bayesian evidence consensus. [`Evidence`] records carry fixed-point
//!   log-likelihood ratios; an [`EvidenceView`] sums them per agent and reporter, caps each
//!   reporter and trims across reporters; [`decide`] combines nodes' views by the median and
//!   quarantines above a threshold. [`SignedEvidence`] puts every field under the reporter's
//!   Ed25519 signature.
//! - [`clock`]: signed, hash-chained vector clocks. A [`ClockWriter`] signs each event; a
//!   [`ClockReceiver`] rejects forged, replayed, reordered, spliced and premature entries
//!   with a typed [`ClockRejection`].
//! - [`staleness`]: per-record staleness windows drawn from an injected CSPRNG,
//!   [`SignedTimestamp`]s, [`Partition`] classes with a raised quorum, the per-epoch movement
//!   bound and the [`SyncShiftDetector`].
//! - [`dp`]: clipping, OpenDP's discrete Gaussian / Laplace noise and an (epsilon, delta)
//!   [`Accountant`] per [`ReleaseStream`] that refuses once spent.
//! - [`commit`]: Pedersen commitments and aggregated Bulletproofs range proofs that each
//!   contribution lies in its [`ClipBox`], and [`verify_sum`], the parent's homomorphic check.
//!
//! The crate is pure: no I/O, no clock reads; randomness is injected (`rand_core` 0.6
//! CSPRNGs) except inside OpenDP's samplers, which draw from their own generator.
//!
//! ```
//! use toolcap_trust::{decide, AgentId, ConsensusConfig, Evidence, EvidenceKind, EvidenceView, Llr, NodeId};
//!
//! let config = ConsensusConfig::default();
//! let mut view = EvidenceView::new(config.clone());
//! // Eight reporters each see 3 nats of evidence; the top and bottom two are trimmed.
//! for reporter in 0..8u8 {
//!     view.add(&Evidence {
//!         id: [reporter; 16],
//!         agent: AgentId(7),
//!         reporter: NodeId(reporter.into()),
//!         kind: EvidenceKind::Alert,
//!         llr: Llr::from_nats(3.0).unwrap(),
//!         confidence: 1000,
//!         clock: 1,
//!         payload: [0; 32],
//!     }).unwrap();
//! }
//! let decision = decide(&config, &[view.assess(AgentId(7))]);
//! assert!(decision.quarantine);
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

pub mod clock;
pub mod commit;
pub mod dp;
mod error;
pub mod evidence;
pub mod fixed;
pub mod signed;
pub mod staleness;

pub use clock::{
    Causality, ClockEntry, ClockReceiver, ClockRejection, ClockWriter, SubsequenceReceiver,
};
pub use commit::{CommittedContribution, Opening, RangeParams, SumOpening, commit, verify_sum};
pub use dp::{Accountant, Budget, DpConfig, Mechanism, Release, ReleaseStream};
pub use error::{Error, Result};
pub use evidence::{
    AgentId, Assessment, ConsensusConfig, Decision, Evidence, EvidenceKind, EvidenceView, Llr,
    NodeId, decide,
};
pub use fixed::{ClipBox, FixedPoint};
pub use signed::{KeyRing, SignedEvidence, SignedTimestamp, Timestamp};
pub use staleness::{DataKind, Partition, QuorumPolicy, StalenessConfig, SyncShiftDetector};
