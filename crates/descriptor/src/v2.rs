//! The v2 descriptor: 24 bytes, big-endian, one command.
//!
//! ```text
//! offset size field
//!  0     4    magic 0x54 0x43 0x50 0x02 ("TCP\x02")
//!  4     1    format version, 0x01
//!  5     1    risk, one-hot: bit n set = level n (0 SAFE .. 4 CRITICAL); bits 5-7 reserved
//!  6     4    command hash, FNV-1a 32 of the command name's UTF-8 bytes
//! 10     4    capability flags; bits 0-15 named, bits 16-31 reserved
//! 14     1    typical time, log2 of microseconds (bits 0-5); bits 6-7 reserved
//! 15     1    typical memory, log2 of bytes (bits 0-5); bits 6-7 reserved
//! 16     1    typical output size, log2 of bytes (bits 0-5); bits 6-7 reserved
//! 17     5    reserved, zero
//! 22     2    CRC-16/CCITT-FALSE of bytes 0..22
//! ```

use crate::crc::crc16_v2;
use crate::{Capabilities, CommandHash, Error, Magnitude, Perf, Risk};

/// The v2 magic, `"TCP\x02"`.
pub const MAGIC_V2: [u8; 4] = [0x54, 0x43, 0x50, 0x02];
/// The v2 format version this crate writes and reads.
pub const VERSION_V2: u8 = 0x01;
/// The length of a v2 descriptor.
pub const LEN_V2: usize = 24;

/// A decoded v2 descriptor. Every field's type holds only valid values, so every value of this
/// type encodes, and decodes back to itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Descriptor {
    /// Hash of the command name.
    pub hash: CommandHash,
    /// Risk level.
    pub risk: Risk,
    /// Capability flags.
    pub caps: Capabilities,
    /// Performance profile.
    pub perf: Perf,
}

impl Descriptor {
    /// The descriptor of the command `name`.
    pub const fn new(name: &str, risk: Risk, caps: Capabilities, perf: Perf) -> Descriptor {
        Descriptor {
            hash: CommandHash::of(name),
            risk,
            caps,
            perf,
        }
    }

    /// The 24 wire bytes.
    pub fn to_bytes(&self) -> [u8; LEN_V2] {
        let mut b = [0u8; LEN_V2];
        b[0] = MAGIC_V2[0];
        b[1] = MAGIC_V2[1];
        b[2] = MAGIC_V2[2];
        b[3] = MAGIC_V2[3];
        b[4] = VERSION_V2;
        b[5] = risk_one_hot(self.risk);
        let h = self.hash.value().to_be_bytes();
        b[6] = h[0];
        b[7] = h[1];
        b[8] = h[2];
        b[9] = h[3];
        let c = self.caps.bits().to_be_bytes();
        b[10] = c[0];
        b[11] = c[1];
        b[12] = c[2];
        b[13] = c[3];
        b[14] = self.perf.time.exponent();
        b[15] = self.perf.memory.exponent();
        b[16] = self.perf.output.exponent();
        let crc = crc16_v2(&b).to_be_bytes();
        b[22] = crc[0];
        b[23] = crc[1];
        b
    }

    /// Decodes exactly one v2 descriptor; anything after it is [`Error::TrailingBytes`].
    pub fn decode(bytes: &[u8]) -> Result<Descriptor, Error> {
        match <&[u8; LEN_V2]>::try_from(bytes) {
            Ok(b) => Descriptor::parse(b),
            Err(_) if bytes.len() > LEN_V2 => Err(Error::TrailingBytes(bytes.len() - LEN_V2)),
            Err(_) => Err(Error::Truncated {
                needed: LEN_V2,
                actual: bytes.len(),
            }),
        }
    }

    /// Decodes the v2 descriptor at the start of `bytes`, returning it and the bytes after it.
    ///
    /// Checks, in order: length, magic, version, CRC, reserved bits, risk.
    pub fn decode_prefix(bytes: &[u8]) -> Result<(Descriptor, &[u8]), Error> {
        let Some((b, rest)) = bytes.split_first_chunk::<LEN_V2>() else {
            return Err(Error::Truncated {
                needed: LEN_V2,
                actual: bytes.len(),
            });
        };
        Descriptor::parse(b).map(|d| (d, rest))
    }

    /// Checks, in order: magic, version, CRC, reserved bits, risk.
    fn parse(b: &[u8; LEN_V2]) -> Result<Descriptor, Error> {
        let magic = [b[0], b[1], b[2], b[3]];
        if magic != MAGIC_V2 {
            return Err(Error::Magic(magic));
        }
        if b[4] != VERSION_V2 {
            return Err(Error::Version(b[4]));
        }
        let stored = u16::from_be_bytes([b[22], b[23]]);
        let computed = crc16_v2(b);
        if stored != computed {
            return Err(Error::Crc { stored, computed });
        }
        // One combined test on the hot path; the slow path names the first offending byte.
        let reserved = (b[5] & !RISK_BITS)
            | b[10]
            | b[11]
            | ((b[14] | b[15] | b[16]) & !Magnitude::MAX_EXPONENT)
            | b[17]
            | b[18]
            | b[19]
            | b[20]
            | b[21];
        if reserved != 0 {
            return Err(Error::Reserved {
                offset: first_reserved(b),
            });
        }
        let risk = risk_from_one_hot(b[5])?;
        let bits = u32::from_be_bytes([b[10], b[11], b[12], b[13]]);
        // Bits 16-31 were checked above; this also rejects any bit in 0-15 left unnamed.
        let caps = Capabilities::from_bits(bits).ok_or(Error::Reserved { offset: 12 })?;
        let perf = exponents(b[14], b[15], b[16])?;
        let hash = CommandHash::from_u32(u32::from_be_bytes([b[6], b[7], b[8], b[9]]));
        Ok(Descriptor {
            hash,
            risk,
            caps,
            perf,
        })
    }
}

/// The offset of the first byte of a v2 descriptor with a reserved bit set. Called only once one
/// is known to be set, so when bytes 5-20 are clean the culprit is byte 21.
fn first_reserved(b: &[u8; LEN_V2]) -> usize {
    let masks: [(usize, u8); 10] = [
        (5, !RISK_BITS),
        (10, 0xFF),
        (11, 0xFF),
        (14, !Magnitude::MAX_EXPONENT),
        (15, !Magnitude::MAX_EXPONENT),
        (16, !Magnitude::MAX_EXPONENT),
        (17, 0xFF),
        (18, 0xFF),
        (19, 0xFF),
        (20, 0xFF),
    ];
    masks
        .iter()
        .find(|&&(i, m)| b[i] & m != 0)
        .map_or(21, |&(i, _)| i)
}

/// Bits of the one-hot risk byte that name a level.
pub(crate) const RISK_BITS: u8 = 0b0001_1111;

/// The one-hot byte of a risk level.
pub(crate) const fn risk_one_hot(risk: Risk) -> u8 {
    1 << risk.ordinal()
}

/// The risk level of a one-hot byte whose reserved bits are known to be clear.
pub(crate) fn risk_from_one_hot(byte: u8) -> Result<Risk, Error> {
    // A match rather than count_ones: the baseline x86-64 target has no popcnt instruction.
    match byte {
        0x01 => Ok(Risk::Safe),
        0x02 => Ok(Risk::Low),
        0x04 => Ok(Risk::Medium),
        0x08 => Ok(Risk::High),
        0x10 => Ok(Risk::Critical),
        0x00 => Err(Error::NoRisk),
        _ => Err(Error::MultipleRisks(byte)),
    }
}

/// A perf profile from three exponent bytes known to be at most 63.
pub(crate) fn exponents(time: u8, memory: u8, output: u8) -> Result<Perf, Error> {
    // Unreachable error: callers checked each byte's reserved bits first.
    Perf::from_exponents(time, memory, output).ok_or(Error::Reserved { offset: 0 })
}
