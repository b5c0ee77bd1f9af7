//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in `toolcap-audit`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An inclusion or consistency proof did not verify (deliberately opaque).
    #[error("invalid proof")]
    InvalidProof,
    /// A leaf index at or beyond the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// A tree size the log does not have (or an old size above the new one).
    #[error("size {size} is out of range (tree size {tree_size})")]
    SizeOutOfRange {
        /// The requested size.
        size: u64,
        /// The size it was checked against.
        tree_size: u64,
    },
    /// A checkpoint or signed note is malformed.
    #[error("malformed checkpoint: {0}")]
    Note(&'static str),
    /// No signature on the note verifies with the given key.
    #[error("checkpoint signature does not verify with key {0}")]
    NoteSignature(String),
    /// A leaf is larger than [`crate::MAX_LEAF`].
    #[error("leaf of {0} bytes exceeds the limit")]
    LeafTooLarge(usize),
    /// A stored file is inconsistent: tampering, corruption or a torn write, named precisely.
    #[error("{file}: {detail}")]
    Tampered {
        /// The file inside the log directory.
        file: &'static str,
        /// What is wrong, with offsets and indices.
        detail: String,
    },
    /// A directory that should hold a log does not, or `init` was pointed at a non-empty one.
    #[error("{path}: {detail}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        detail: &'static str,
    },
    /// An earlier write failed half-way; the log refuses further appends until reopened.
    #[error("log is poisoned by an earlier write failure; reopen it")]
    Poisoned,
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A key or signature operation failed.
    #[error(transparent)]
    Crypto(#[from] toolcap_crypto::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
