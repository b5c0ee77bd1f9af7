//! Capability descriptors of the Tool Capability Protocol (TCP).
//!
//! A descriptor says what a command can do: its [`Risk`] level (one of five, `SAFE` to
//! `CRITICAL`), its [`Capabilities`] (a bitset of named flags such as `destructive` or
//! `network-download`) and a coarse [`Perf`] profile (typical time, memory and output size as
//! powers of two). Commands are identified by the FNV-1a 32 [`CommandHash`] of their name.
//!
//! Two binary formats, both big-endian, frozen, and documented byte by byte in
//! `docs/descriptor-format.md`:
//!
//! - **v2** ([`Descriptor`]): exactly 24 bytes for one command, with a CRC-16/CCITT-FALSE.
//! - **v3** ([`FamilyDescriptor`]): a 16-byte parent for a tool family (`git`, `docker`, ...)
//!   with its risk floor and common flags, then an 8-byte delta per subcommand
//!   ([`SubcommandDescriptor`], identified by a 16-bit [`SubcommandId`]).
//!
//! Decoding parses into types that cannot hold an invalid state; every malformation is a
//! distinct [`Error`] variant, never a panic. The crate does no I/O.
//!
//! v2 layout (see [`Descriptor`] for the checks):
//!
//! ```text
//!  0..4   magic 54 43 50 02      14  time exponent (log2 us)
//!  4      version 01             15  memory exponent (log2 bytes)
//!  5      risk, one-hot          16  output exponent (log2 bytes)
//!  6..10  FNV-1a 32 name hash    17..22 reserved, zero
//! 10..14  capability flags       22..24 CRC-16/CCITT-FALSE of bytes 0..22
//! ```
//!
//! # Example
//!
//! ```
//! use toolcap_descriptor::{Capabilities, Descriptor, Perf, Risk};
//!
//! let curl = Descriptor::new(
//!     "curl",
//!     Risk::Medium,
//!     Capabilities::NETWORK_ACCESS | Capabilities::NETWORK_DOWNLOAD,
//!     Perf::typical(500_000, 8 << 20, 64 << 10),
//! );
//! let bytes = curl.to_bytes();
//! assert_eq!(bytes.len(), 24);
//! assert_eq!(Descriptor::decode(&bytes), Ok(curl));
//!
//! let mut corrupt = bytes;
//! corrupt[12] ^= 0x01;
//! assert!(matches!(Descriptor::decode(&corrupt), Err(toolcap_descriptor::Error::Crc { .. })));
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

mod caps;
mod crc;
mod error;
mod hash;
mod perf;
mod risk;
mod v2;
mod v3;

pub use caps::{Capabilities, UnknownCapability};
pub use crc::crc16;
pub use error::Error;
pub use hash::{CommandHash, SubcommandId, fnv1a32};
pub use perf::{Magnitude, Perf, parse_duration_us, parse_size_bytes};
pub use risk::{Risk, UnknownRisk};
pub use v2::{Descriptor, LEN_V2, MAGIC_V2, VERSION_V2};
pub use v3::{
    DELTA_LEN_V3, FamilyDescriptor, MAGIC_V3, PARENT_LEN_V3, SubcommandDescriptor, VERSION_V3,
};

/// A decoded descriptor of either format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A v2 command descriptor.
    V2(Descriptor),
    /// A v3 family.
    V3(FamilyDescriptor),
}

/// Decodes a v2 or v3 descriptor, chosen by its magic; exactly one, no trailing bytes.
pub fn decode_any(bytes: &[u8]) -> Result<Decoded, Error> {
    match bytes.first_chunk::<4>() {
        Some(m) if *m == MAGIC_V3 => FamilyDescriptor::decode(bytes).map(Decoded::V3),
        _ => Descriptor::decode(bytes).map(Decoded::V2),
    }
}
