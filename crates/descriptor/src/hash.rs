//! Deterministic name hashes: FNV-1a 32 for command and family names, folded to 16 bits for
//! subcommand ids.
//!
//! FNV-1a as specified in draft-eastlake-fnv (offset basis 0x811C9DC5, prime 0x01000193), over
//! the UTF-8 bytes of the name, no normalisation: `Git` and `git` hash differently.

use core::fmt;

const FNV32_OFFSET: u32 = 0x811C_9DC5;
const FNV32_PRIME: u32 = 0x0100_0193;

/// The FNV-1a 32-bit hash of `bytes`.
pub const fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h = FNV32_OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u32;
        h = h.wrapping_mul(FNV32_PRIME);
        i += 1;
    }
    h
}

/// The 32-bit FNV-1a hash of a command or family name, as carried by v2 descriptors and v3
/// family parents.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommandHash(u32);

impl CommandHash {
    /// The hash of this name.
    pub const fn of(name: &str) -> CommandHash {
        CommandHash(fnv1a32(name.as_bytes()))
    }

    /// A hash read off the wire (every 32-bit value is a possible hash).
    pub const fn from_u32(h: u32) -> CommandHash {
        CommandHash(h)
    }

    /// The raw value.
    pub const fn value(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for CommandHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommandHash({:#010x})", self.0)
    }
}

impl fmt::Display for CommandHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A subcommand's 16-bit id within its family: the FNV-1a 32 hash of its name, xor-folded
/// (`(h >> 16) ^ (h & 0xFFFF)`, as the FNV draft recommends for shorter hashes).
///
/// Ids are unique within a family by construction of the encoder: a family with two
/// subcommands whose ids collide cannot be encoded.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubcommandId(u16);

impl SubcommandId {
    /// The id of this subcommand name.
    pub const fn of(name: &str) -> SubcommandId {
        let h = fnv1a32(name.as_bytes());
        SubcommandId(((h >> 16) ^ (h & 0xFFFF)) as u16)
    }

    /// An id read off the wire.
    pub const fn from_u16(id: u16) -> SubcommandId {
        SubcommandId(id)
    }

    /// The raw value.
    pub const fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for SubcommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubcommandId({:#06x})", self.0)
    }
}

impl fmt::Display for SubcommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a32_known_answers() {
        // Test vectors from draft-eastlake-fnv, section "FNV-1a 32".
        assert_eq!(fnv1a32(b""), 0x811C_9DC5);
        assert_eq!(fnv1a32(b"a"), 0xE40C_292C);
        assert_eq!(fnv1a32(b"foobar"), 0xBF9C_F968);
    }

    #[test]
    fn subcommand_id_folds() {
        let h = fnv1a32(b"status");
        assert_eq!(
            SubcommandId::of("status").value(),
            ((h >> 16) ^ (h & 0xFFFF)) as u16
        );
        assert_ne!(SubcommandId::of("push"), SubcommandId::of("pull"));
    }
}
