//! The one error type of the crate.

/// Everything that can go wrong in the trust layer. Verification failures are deliberately
/// coarse: a bad proof or signature says only that, never which byte was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A clipping box is empty, inverted, not finite or of the wrong dimension.
    #[error("invalid clipping box: {0}")]
    InvalidBox(&'static str),
    /// A vector has a different dimension than its box or clock expects.
    #[error("dimension mismatch: expected {expected}, got {got}")]
    Dimension {
        /// The dimension required.
        expected: usize,
        /// The dimension supplied.
        got: usize,
    },
    /// A value is NaN, infinite or does not fit the fixed-point encoding.
    #[error("value out of range for fixed point: {0}")]
    OutOfRange(&'static str),
    /// A configuration value is invalid (non-positive epsilon, delta outside (0,1), ...).
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// A release would exceed the stream's privacy budget; nothing was released.
    #[error(
        "privacy budget exhausted: requested epsilon {requested_epsilon}, remaining {remaining_epsilon}"
    )]
    BudgetExhausted {
        /// The epsilon the refused release would have cost.
        requested_epsilon: f64,
        /// The epsilon still available on the stream.
        remaining_epsilon: f64,
    },
    /// The noise sampler failed (no entropy); nothing was released.
    #[error("noise sampler failed")]
    Sampler,
    /// A range proof or commitment opening did not verify.
    #[error("invalid proof")]
    InvalidProof,
    /// A commitment's homomorphic sum does not open to the claimed aggregate.
    #[error("commitment sum does not open to the claimed aggregate")]
    SumMismatch,
    /// A signature did not verify, or the signer is unknown.
    #[error("invalid signature")]
    InvalidSignature,
    /// A record's encoding is malformed.
    #[error("malformed record")]
    Malformed,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
