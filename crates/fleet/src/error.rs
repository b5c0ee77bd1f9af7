//! The crate's one error type.

use crate::record::NodeId;

/// Everything that can go wrong in `toolcap-fleet`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two statistics, or a statistic and a vector, have different dimensions.
    #[error("dimension mismatch: expected {expected}, got {got}")]
    Dimension {
        /// The dimension required.
        expected: usize,
        /// The dimension found.
        got: usize,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("non-finite value in {0}")]
    NonFinite(&'static str),
    /// A configuration value is outside its domain.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The robust merge had no acceptable child left.
    #[error("no child accepted by the robust merge")]
    NothingAccepted,
    /// A node id is not in the membership list.
    #[error("unknown node {0}")]
    UnknownNode(NodeId),
    /// No output hash gathered endorsements from a quorum of the committee.
    #[error("no quorum: best hash has {best} of {required} required endorsements")]
    NoQuorum {
        /// Endorsements gathered by the most endorsed hash.
        best: usize,
        /// Endorsements required.
        required: usize,
    },
    /// A certificate is malformed: duplicate signer, non-member, wrong fields.
    #[error("invalid certificate for node {node}: {reason}")]
    Certificate {
        /// The certified node.
        node: NodeId,
        /// What is wrong.
        reason: &'static str,
    },
    /// The signed tree does not check out: a signature, a hash, a certificate or a recomputed
    /// output differs from what was published.
    #[error("tree verification failed at level {level}, node {node}: {what}")]
    Tampered {
        /// The level of the offending position.
        level: u8,
        /// The offending node.
        node: NodeId,
        /// What did not match.
        what: &'static str,
    },
    /// A cryptographic operation or canonical decoding failed.
    #[error(transparent)]
    Crypto(#[from] toolcap_crypto::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
