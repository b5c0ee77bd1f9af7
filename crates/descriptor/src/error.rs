//! The crate's error type.

use crate::{Risk, SubcommandId};

/// Why bytes are not a valid descriptor, or why a family cannot be encoded.
///
/// Each malformation has its own variant so that callers and tests can tell them apart.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes than the format needs.
    #[error("descriptor too short: {needed} bytes needed, {actual} given")]
    Truncated {
        /// Bytes the format needs (for v3, known only once the count is read).
        needed: usize,
        /// Bytes given.
        actual: usize,
    },
    /// Bytes left over after a complete descriptor.
    #[error("{0} trailing bytes after the descriptor")]
    TrailingBytes(usize),
    /// The first four bytes are not the format's magic.
    #[error("bad magic {0:02x?}")]
    Magic([u8; 4]),
    /// The format version byte is not one this decoder knows.
    #[error("unsupported format version {0:#04x}")]
    Version(u8),
    /// The stored CRC-16 does not match the bytes.
    #[error("crc mismatch: stored {stored:#06x}, computed {computed:#06x}")]
    Crc {
        /// The CRC in the descriptor.
        stored: u16,
        /// The CRC of the bytes it covers.
        computed: u16,
    },
    /// A reserved bit or byte is not zero.
    #[error("reserved bits set at byte {offset}")]
    Reserved {
        /// Offset of the offending byte from the start of the input.
        offset: usize,
    },
    /// The one-hot risk byte has no level set.
    #[error("no risk level set")]
    NoRisk,
    /// The one-hot risk byte has two or more levels set.
    #[error("more than one risk level set ({0:#04x})")]
    MultipleRisks(u8),
    /// A v3 subcommand's risk offset takes it above `CRITICAL`.
    #[error("risk offset {offset} above floor {floor} is beyond CRITICAL")]
    RiskOffset {
        /// The family's risk floor.
        floor: Risk,
        /// The subcommand's offset.
        offset: u8,
    },
    /// A v3 subcommand repeats a flag its family already has in common (non-canonical).
    #[error("subcommand {index} repeats the family's common flags")]
    RedundantFlags {
        /// Index of the subcommand delta.
        index: usize,
    },
    /// v3 subcommand ids are not strictly increasing (unsorted or duplicated).
    #[error("subcommand ids not strictly increasing at index {index}")]
    Unsorted {
        /// Index of the first out-of-order delta.
        index: usize,
    },
    /// Encoding: a family has more subcommands than the 16-bit count holds.
    #[error("too many subcommands: {0} (at most 65535)")]
    TooManySubcommands(usize),
    /// Encoding: a subcommand is less risky than the family floor.
    #[error("subcommand risk {risk} is below the family floor {floor}")]
    BelowFloor {
        /// The subcommand's risk.
        risk: Risk,
        /// The family floor.
        floor: Risk,
    },
    /// Encoding: a subcommand lacks one of the family's common flags.
    #[error("subcommand {0} lacks a common flag of its family")]
    MissingCommonFlags(SubcommandId),
    /// Encoding: two subcommands of one family have the same id.
    #[error("two subcommands share the id {0}")]
    DuplicateId(SubcommandId),
}
