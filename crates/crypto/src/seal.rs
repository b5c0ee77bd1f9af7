//! Sealing data at rest with XChaCha20-Poly1305.
//!
//! Nonces: every [`SealingKey::seal`] draws a fresh random 192-bit nonce from the caller's
//! CSPRNG and stores it in front of the ciphertext. With 192 random bits the chance that two of
//! 2^64 messages under one key share a nonce is below 2^-64, so no counter state has to
//! survive crashes or be shared between processes, and a nonce is never knowingly reused. (With
//! the 96-bit nonce of plain ChaCha20-Poly1305 random nonces would need a per-key limit of about
//! 2^32 messages; the extended nonce removes that limit.)
//!
//! Sealed layout: `0x01 (format version) || nonce (24) || ciphertext || tag (16)`. The
//! associated data (`aad`) is authenticated, not stored: pass the same context to
//! [`SealingKey::open`], e.g. the file name or record type, so a blob cannot be moved to
//! another context.

use std::fmt;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const FORMAT: u8 = 0x01;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Bytes a sealed blob adds to its plaintext.
pub const SEAL_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// A 256-bit XChaCha20-Poly1305 key, zeroized on drop; `Debug` hides it.
pub struct SealingKey(Zeroizing<[u8; 32]>);

impl SealingKey {
    /// A fresh key from an injected CSPRNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(key.as_mut());
        SealingKey(key)
    }
    /// Wraps existing key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SealingKey(Zeroizing::new(bytes))
    }
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&chacha20poly1305::Key::from(*self.0))
    }
    /// Encrypts and authenticates `plaintext`, binding `aad`; the nonce comes from `rng`.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| Error::SealOpen)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }
    /// Authenticates and decrypts a blob made by [`SealingKey::seal`] with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < SEAL_OVERHEAD || sealed[0] != FORMAT {
            return Err(Error::SealOpen);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
        let msg = &sealed[1 + NONCE_LEN..];
        self.cipher()
            .decrypt(&XNonce::from(nonce), Payload { msg, aad })
            .map(Zeroizing::new)
            .map_err(|_| Error::SealOpen)
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn seal_open_and_tamper() {
        let key = SealingKey::generate(&mut rng());
        let a = key.seal(&mut rng(), b"ctx", b"secret data").unwrap();
        let b = key.seal(&mut rng(), b"ctx", b"secret data").unwrap();
        assert_ne!(a, b, "fresh nonce each time");
        assert_eq!(key.open(b"ctx", &a).unwrap().as_slice(), b"secret data");
        assert!(key.open(b"other", &a).is_err());
        for i in 0..a.len() {
            let mut t = a.clone();
            t[i] ^= 1;
            assert!(key.open(b"ctx", &t).is_err(), "byte {i}");
        }
        assert!(key.open(b"ctx", &a[..SEAL_OVERHEAD - 1]).is_err());
        assert!(SealingKey::generate(&mut rng()).open(b"ctx", &a).is_err());
        assert_eq!(format!("{key:?}"), "SealingKey(..)");
    }
}
