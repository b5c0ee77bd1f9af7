//! The v3 hierarchical descriptor: one family parent and a delta per subcommand.
//!
//! ```text
//! parent, 16 bytes
//! offset size field
//!  0     4    magic 0x54 0x43 0x50 0x03 ("TCP\x03")
//!  4     1    format version, 0x01
//!  5     1    risk floor, one-hot: bit n set = level n (0 SAFE .. 4 CRITICAL); bits 5-7 reserved
//!  6     4    family hash, FNV-1a 32 of the family name's UTF-8 bytes
//! 10     2    common flags: set in every subcommand (bits 0-15 of the v2 flags)
//! 12     2    subcommand count n
//! 14     2    CRC-16/CCITT-FALSE of parent bytes 0..14 followed by all n deltas
//!
//! delta, 8 bytes each, sorted by strictly increasing id
//!  0     2    subcommand id: FNV-1a 32 of the subcommand name, xor-folded to 16 bits
//!  2     1    risk above the floor (bits 0-2, floor + offset <= CRITICAL); bits 3-7 reserved
//!  3     2    specific flags: the subcommand's flags minus the common ones (disjoint from them)
//!  5     1    typical time, log2 of microseconds (bits 0-5); bits 6-7 reserved
//!  6     1    typical memory, log2 of bytes (bits 0-5); bits 6-7 reserved
//!  7     1    typical output size, log2 of bytes (bits 0-5); bits 6-7 reserved
//! ```
//!
//! Lossless for the family hash, the floor, the common flags, and every subcommand's id, risk,
//! full flag set (common | specific) and perf profile. Dropped: the names themselves (only their
//! hashes travel), the v2 per-subcommand command hash and CRC, and capability bits 16-31 (all
//! reserved today; a flag named there would need a new v3 version).

use crate::crc::{crc16, crc16_update};
use crate::v2::{RISK_BITS, exponents, risk_from_one_hot, risk_one_hot};
use crate::{Capabilities, CommandHash, Error, Magnitude, Perf, Risk, SubcommandId};

/// The v3 magic, `"TCP\x03"`.
pub const MAGIC_V3: [u8; 4] = [0x54, 0x43, 0x50, 0x03];
/// The v3 format version this crate writes and reads.
pub const VERSION_V3: u8 = 0x01;
/// The length of the v3 family parent.
pub const PARENT_LEN_V3: usize = 16;
/// The length of one v3 subcommand delta.
pub const DELTA_LEN_V3: usize = 8;

/// One subcommand of a family as v3 carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubcommandDescriptor {
    /// The subcommand's id within its family.
    pub id: SubcommandId,
    /// Its risk (the floor plus the encoded offset).
    pub risk: Risk,
    /// All its flags (the family's common flags plus its specific ones).
    pub caps: Capabilities,
    /// Its performance profile.
    pub perf: Perf,
}

impl SubcommandDescriptor {
    /// The descriptor of the subcommand `name`.
    pub const fn new(
        name: &str,
        risk: Risk,
        caps: Capabilities,
        perf: Perf,
    ) -> SubcommandDescriptor {
        SubcommandDescriptor {
            id: SubcommandId::of(name),
            risk,
            caps,
            perf,
        }
    }
}

/// A v3 family: a parent and its subcommands, validated so that it always encodes.
///
/// Invariants (checked by [`FamilyDescriptor::new`] and by decoding): at most 65535 subcommands,
/// ids unique and sorted, every subcommand at or above the floor and holding every common flag.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FamilyDescriptor {
    hash: CommandHash,
    floor: Risk,
    common: Capabilities,
    subcommands: Vec<SubcommandDescriptor>,
}

impl FamilyDescriptor {
    /// A family from its parts; the subcommands are sorted by id.
    pub fn new(
        name: &str,
        floor: Risk,
        common: Capabilities,
        subcommands: impl IntoIterator<Item = SubcommandDescriptor>,
    ) -> Result<FamilyDescriptor, Error> {
        let mut subcommands: Vec<SubcommandDescriptor> = subcommands.into_iter().collect();
        if subcommands.len() > usize::from(u16::MAX) {
            return Err(Error::TooManySubcommands(subcommands.len()));
        }
        subcommands.sort_by_key(|s| s.id);
        for pair in subcommands.windows(2) {
            if let [a, b] = pair
                && a.id == b.id
            {
                return Err(Error::DuplicateId(a.id));
            }
        }
        for s in &subcommands {
            if s.risk < floor {
                return Err(Error::BelowFloor {
                    risk: s.risk,
                    floor,
                });
            }
            if !s.caps.contains(common) {
                return Err(Error::MissingCommonFlags(s.id));
            }
        }
        Ok(FamilyDescriptor {
            hash: CommandHash::of(name),
            floor,
            common,
            subcommands,
        })
    }

    /// Hash of the family name.
    pub fn hash(&self) -> CommandHash {
        self.hash
    }

    /// The lowest risk of any subcommand.
    pub fn floor(&self) -> Risk {
        self.floor
    }

    /// The flags every subcommand has.
    pub fn common(&self) -> Capabilities {
        self.common
    }

    /// The subcommands, sorted by id.
    pub fn subcommands(&self) -> &[SubcommandDescriptor] {
        &self.subcommands
    }

    /// The subcommand with this id.
    pub fn subcommand(&self, id: SubcommandId) -> Option<&SubcommandDescriptor> {
        self.subcommands
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .and_then(|i| self.subcommands.get(i))
    }

    /// The encoded length: 16 + 8 per subcommand.
    pub fn encoded_len(&self) -> usize {
        PARENT_LEN_V3 + DELTA_LEN_V3 * self.subcommands.len()
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&MAGIC_V3);
        out.push(VERSION_V3);
        out.push(risk_one_hot(self.floor));
        out.extend_from_slice(&self.hash.value().to_be_bytes());
        out.extend_from_slice(&low16(self.common).to_be_bytes());
        // The constructor bounds the count by u16::MAX.
        out.extend_from_slice(&(self.subcommands.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        for s in &self.subcommands {
            out.extend_from_slice(&s.id.value().to_be_bytes());
            out.push(s.risk.ordinal() - self.floor.ordinal());
            out.extend_from_slice(&low16(s.caps.difference(self.common)).to_be_bytes());
            out.push(s.perf.time.exponent());
            out.push(s.perf.memory.exponent());
            out.push(s.perf.output.exponent());
        }
        let crc = family_crc(&out).to_be_bytes();
        out[14] = crc[0];
        out[15] = crc[1];
        out
    }

    /// Decodes exactly one v3 family; anything after it is [`Error::TrailingBytes`].
    pub fn decode(bytes: &[u8]) -> Result<FamilyDescriptor, Error> {
        let (f, rest) = FamilyDescriptor::decode_prefix(bytes)?;
        if rest.is_empty() {
            Ok(f)
        } else {
            Err(Error::TrailingBytes(rest.len()))
        }
    }

    /// Decodes the v3 family at the start of `bytes`, returning it and the bytes after it.
    ///
    /// Checks, in order: parent length, magic, version, total length, CRC, reserved bits, the
    /// floor, then each delta (reserved bits, risk offset, canonical flags, id order).
    pub fn decode_prefix(bytes: &[u8]) -> Result<(FamilyDescriptor, &[u8]), Error> {
        let Some((p, _)) = bytes.split_first_chunk::<PARENT_LEN_V3>() else {
            return Err(Error::Truncated {
                needed: PARENT_LEN_V3,
                actual: bytes.len(),
            });
        };
        let magic = [p[0], p[1], p[2], p[3]];
        if magic != MAGIC_V3 {
            return Err(Error::Magic(magic));
        }
        if p[4] != VERSION_V3 {
            return Err(Error::Version(p[4]));
        }
        let count = usize::from(u16::from_be_bytes([p[12], p[13]]));
        let total = PARENT_LEN_V3 + DELTA_LEN_V3 * count;
        if bytes.len() < total {
            return Err(Error::Truncated {
                needed: total,
                actual: bytes.len(),
            });
        }
        let (blob, rest) = bytes.split_at(total);
        let stored = u16::from_be_bytes([p[14], p[15]]);
        let computed = family_crc(blob);
        if stored != computed {
            return Err(Error::Crc { stored, computed });
        }
        if p[5] & !RISK_BITS != 0 {
            return Err(Error::Reserved { offset: 5 });
        }
        let floor = risk_from_one_hot(p[5])?;
        let common = Capabilities::from_bits(u32::from(u16::from_be_bytes([p[10], p[11]])))
            .ok_or(Error::Reserved { offset: 10 })?;
        let hash = CommandHash::from_u32(u32::from_be_bytes([p[6], p[7], p[8], p[9]]));

        let mut subcommands = Vec::with_capacity(count);
        for (index, d) in blob[PARENT_LEN_V3..].chunks_exact(DELTA_LEN_V3).enumerate() {
            let base = PARENT_LEN_V3 + DELTA_LEN_V3 * index;
            let &[i0, i1, offset, f0, f1, time, memory, output] = d else {
                return Err(Error::Truncated {
                    needed: total,
                    actual: bytes.len(),
                });
            };
            if offset & !0b111 != 0 {
                return Err(Error::Reserved { offset: base + 2 });
            }
            let risk = Risk::from_ordinal(floor.ordinal() + offset)
                .ok_or(Error::RiskOffset { floor, offset })?;
            let specific = Capabilities::from_bits(u32::from(u16::from_be_bytes([f0, f1])))
                .ok_or(Error::Reserved { offset: base + 3 })?;
            if specific.intersects(common) {
                return Err(Error::RedundantFlags { index });
            }
            for (k, byte) in [time, memory, output].into_iter().enumerate() {
                if byte > Magnitude::MAX_EXPONENT {
                    return Err(Error::Reserved {
                        offset: base + 5 + k,
                    });
                }
            }
            let id = SubcommandId::from_u16(u16::from_be_bytes([i0, i1]));
            if let Some(prev) = subcommands.last().map(|s: &SubcommandDescriptor| s.id)
                && prev >= id
            {
                return Err(Error::Unsorted { index });
            }
            let perf = exponents(time, memory, output)?;
            subcommands.push(SubcommandDescriptor {
                id,
                risk,
                caps: common | specific,
                perf,
            });
        }
        Ok((
            FamilyDescriptor {
                hash,
                floor,
                common,
                subcommands,
            },
            rest,
        ))
    }
}

/// The CRC of a whole encoded family: parent bytes 0..14, then the deltas (skipping the CRC
/// field itself). `blob` is at least the parent long.
fn family_crc(blob: &[u8]) -> u16 {
    let (head, tail) = blob.split_at(blob.len().min(PARENT_LEN_V3));
    let (covered, _crc_field) = head.split_at(head.len().min(14));
    crc16_update(crc16(covered), tail)
}

/// The low 16 bits of a flag set: every named flag lives there (bits 16-31 are reserved).
fn low16(caps: Capabilities) -> u16 {
    (caps.bits() & 0xFFFF) as u16
}
