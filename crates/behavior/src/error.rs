//! The crate's one error type.

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of its documented range.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// A training stream is too short to build and calibrate a baseline.
    #[error("training stream too short: {got} events, need at least {need}")]
    TooShort {
        /// Events given.
        got: usize,
        /// Events needed.
        need: usize,
    },
    /// A window to score holds no events.
    #[error("empty window")]
    EmptyWindow,
    /// Labels and scores do not line up (different lengths, or no positives or no negatives).
    #[error("labels do not match scores: {0}")]
    Labels(&'static str),
    /// An agent is not known to the monitor.
    #[error("unknown agent {0}")]
    UnknownAgent(u64),
}
