//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in `toolcap-crypto`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A signature, or a batch of them, did not verify (deliberately opaque).
    #[error("invalid signature")]
    InvalidSignature,
    /// A sealed blob failed authentication or is malformed (deliberately opaque).
    #[error("sealed data failed authentication")]
    SealOpen,
    /// A key's bytes do not form a valid key.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// Canonical decoding ran out of input.
    #[error("truncated record: needed {needed} more bytes")]
    Truncated {
        /// How many bytes were missing.
        needed: usize,
    },
    /// Canonical decoding finished with input left over.
    #[error("{0} trailing bytes after record")]
    TrailingBytes(usize),
    /// The record's domain-separation tag is not the one expected.
    #[error("wrong record tag")]
    WrongTag,
    /// The record's version is not one this code knows.
    #[error("unsupported record version {0}")]
    UnknownVersion(u16),
    /// A decoded field has a value outside its domain.
    #[error("invalid field: {0}")]
    InvalidField(&'static str),
    /// A length prefix exceeds the limit or the remaining input.
    #[error("length {0} exceeds the limit")]
    LengthLimit(u64),
    /// Hex or base64 text did not parse.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The operating system's random source failed.
    #[error("random source failed")]
    Random,
    /// A key file is missing; there is no fallback.
    #[error("key file {0} is missing")]
    KeyMissing(PathBuf),
    /// A secret key file can be read by group or others.
    #[error("key file {path} is readable by group or others (mode {mode:o}); run chmod 600")]
    KeyPermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyIo {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
