//! The toolcap cryptographic core: canonical encoding, Ed25519 signatures, SHA3-256, sealing.
//!
//! Everything here is built on vetted crates (`ed25519-dalek`, RustCrypto's `sha3`, `sha2`,
//! `chacha20poly1305`, `subtle`, `zeroize`); nothing is home-made.
//!
//! - [`Encoder`] / [`Decoder`] and the [`Canonical`] trait: the one byte encoding of every signed
//!   record (domain-separation tag, version, big-endian integers, length-prefixed fields,
//!   floats as IEEE-754 bits; decoding rejects other tags, unknown versions and trailing bytes).
//! - [`SigningKey`], [`VerifyingKey`], [`Signature`]: Ed25519. [`SigningKey::sign`] takes the
//!   record's tag so a signature cannot be replayed as another record type;
//!   [`VerifyingKey::verify`] is strict; [`verify_batch`] checks many at once. Secret keys are
//!   zeroized on drop and `Debug` never shows them. Randomness is injected
//!   ([`SigningKey::generate`]) or taken from the OS ([`SigningKey::generate_os`]).
//! - [`Hash`], [`HashAlg`]: 32-byte digests; SHA3-256 (FIPS 202) by default, SHA-256 selectable.
//! - [`SealingKey`]: XChaCha20-Poly1305 for data at rest, random 192-bit nonces (see [`seal`]).
//! - [`keyfile`]: the only I/O in the crate: key files written 0600, refused when readable by
//!   group or others, missing keys an error.
//!
//! ```
//! use toolcap_crypto::{Canonical, Decoder, Encoder, SigningKey, Result};
//!
//! #[derive(Debug, PartialEq)]
//! struct Summary { epoch: u64, mean: f64, node: String }
//!
//! impl Canonical for Summary {
//!     const TAG: &'static [u8] = b"toolcap/example/summary/v1";
//!     const VERSION: u16 = 1;
//!     fn encode_body(&self, enc: &mut Encoder) {
//!         enc.u64(self.epoch).f64(self.mean).str(&self.node);
//!     }
//!     fn decode_body(dec: &mut Decoder<'_>) -> Result<Self> {
//!         Ok(Summary { epoch: dec.u64()?, mean: dec.f64()?, node: dec.str()?.to_owned() })
//!     }
//! }
//!
//! # fn main() -> Result<()> {
//! let key = SigningKey::generate_os()?;
//! let record = Summary { epoch: 7, mean: 0.25, node: "eu-1".into() };
//! let bytes = record.to_canonical();
//! let sig = key.sign(Summary::TAG, &bytes);
//! key.verifying_key().verify(Summary::TAG, &bytes, &sig)?;
//! assert!(key.verifying_key().verify(b"toolcap/other/v1", &bytes, &sig).is_err());
//! assert_eq!(Summary::from_canonical(&bytes)?, record);
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

mod encoding;
mod error;
mod hash;
pub mod keyfile;
pub mod seal;
mod sign;

pub use encoding::{Canonical, Decoder, Encoder, MAX_LEN};
pub use error::{Error, Result};
pub use hash::{Hash, HashAlg, Hasher, ct_eq, sha3_256, sha256};
pub use seal::{SEAL_OVERHEAD, SealingKey};
pub use sign::{
    BatchItem, PUBLIC_LEN, SECRET_LEN, SIGNATURE_LEN, Signature, SigningKey, VerifyingKey,
    verify_batch,
};

/// Re-exported so callers can name the CSPRNG traits without their own `rand_core` dependency.
pub use rand_core;

/// The operating system's CSPRNG as an infallible [`rand_core::CryptoRng`].
///
/// It panics if the OS random source fails, which on Linux means `getrandom(2)` itself is
/// broken; use [`SigningKey::generate_os`] for a fallible path.
pub fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}
