//! The crate's error type.

/// Errors of membership, sealing and transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A canonical record failed to decode, or a signature failed to verify.
    #[error(transparent)]
    Crypto(#[from] toolcap_crypto::Error),
    /// The membership list is inconsistent (duplicate ids, unknown parents, ...).
    #[error("invalid membership: {0}")]
    Membership(String),
    /// A node id that is not in the membership list.
    #[error("unknown node {0:?}")]
    UnknownNode(String),
    /// A frame that does not parse, is not for us, or does not authenticate. Deliberately opaque.
    #[error("invalid frame")]
    InvalidFrame,
    /// A frame whose sequence number was already seen or is too old.
    #[error("replayed frame from {0:?}")]
    Replay(String),
    /// A payload larger than one frame can carry.
    #[error("payload of {0} bytes exceeds the frame limit")]
    TooLarge(usize),
    /// The Noise library failed on our own side (key setup).
    #[error("noise: {0}")]
    Noise(String),
    /// The broker connection or a JetStream operation failed.
    #[error("transport: {0}")]
    Transport(String),
    /// The node's persisted protocol state (clock writer, receiver) could not be read or written.
    #[error("node state: {0}")]
    State(String),
}
