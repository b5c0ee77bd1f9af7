//! Ed25519 signatures (RFC 8032) through `ed25519-dalek`, domain-separated by record tag.
//!
//! [`SigningKey::sign`] signs `u16 len(tag) || tag || message`, so a signature made for one record
//! type never verifies as another. Verification is strict (`verify_strict`: small-order keys
//! and `R` values and non-canonical `s` are rejected) and every failure is one opaque
//! [`Error::InvalidSignature`].

use std::fmt;

use ed25519_dalek::Signer as _;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::hash::Hash;

/// Length of a signing key's secret seed.
pub const SECRET_LEN: usize = 32;
/// Length of an encoded verifying key.
pub const PUBLIC_LEN: usize = 32;
/// Length of an encoded signature.
pub const SIGNATURE_LEN: usize = 64;

fn frame(tag: &[u8], message: &[u8]) -> Vec<u8> {
    let len = u16::try_from(tag.len()).unwrap_or(u16::MAX);
    let tag = &tag[..usize::from(len)];
    let mut out = Vec::with_capacity(2 + tag.len() + message.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(tag);
    out.extend_from_slice(message);
    out
}

/// An Ed25519 secret key. Its bytes are zeroized on drop and never shown by `Debug`.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A fresh key from an injected CSPRNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        SigningKey(ed25519_dalek::SigningKey::generate(rng))
    }
    /// A fresh key from the operating system's random source.
    pub fn generate_os() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; SECRET_LEN]);
        getrandom::fill(seed.as_mut()).map_err(|_| Error::Random)?;
        Ok(Self::from_seed(&seed))
    }
    /// The key whose RFC 8032 secret seed is `seed`.
    pub fn from_seed(seed: &[u8; SECRET_LEN]) -> Self {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(seed))
    }
    /// The secret seed, in a buffer zeroized on drop.
    pub fn to_seed(&self) -> Zeroizing<[u8; SECRET_LEN]> {
        Zeroizing::new(self.0.to_bytes())
    }
    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }
    /// Signs `message` as a record of type `tag`.
    pub fn sign(&self, tag: &[u8], message: &[u8]) -> Signature {
        Signature(self.0.sign(&frame(tag, message)))
    }
    /// Signs `message` exactly as given, with no domain tag. Only for external formats that
    /// define what is signed themselves (the C2SP signed-note text); everything of ours uses
    /// [`SigningKey::sign`].
    pub fn sign_unframed(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.verifying_key())
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

impl VerifyingKey {
    /// Decodes a 32-byte compressed point; rejects invalid and small-order (weak) keys.
    pub fn from_bytes(bytes: &[u8; PUBLIC_LEN]) -> Result<Self> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::InvalidKey("not an ed25519 public key"))?;
        if key.is_weak() {
            return Err(Error::InvalidKey("small-order ed25519 public key"));
        }
        Ok(VerifyingKey(key))
    }
    /// Decodes a slice that must be 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr = <[u8; PUBLIC_LEN]>::try_from(bytes)
            .map_err(|_| Error::InvalidKey("ed25519 public key must be 32 bytes"))?;
        Self::from_bytes(&arr)
    }
    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Self> {
        let mut out = [0u8; PUBLIC_LEN];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| Error::Malformed("hex public key"))?;
        Self::from_bytes(&out)
    }
    /// The encoded key.
    pub fn to_bytes(&self) -> [u8; PUBLIC_LEN] {
        self.0.to_bytes()
    }
    /// Lowercase hex of the encoded key.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }
    /// A short stable identifier: SHA3-256 of the encoded key.
    pub fn fingerprint(&self) -> Hash {
        crate::hash::sha3_256(&self.to_bytes())
    }
    /// Strictly verifies a signature made by [`SigningKey::sign`] with the same `tag`.
    pub fn verify(&self, tag: &[u8], message: &[u8], sig: &Signature) -> Result<()> {
        self.verify_unframed(&frame(tag, message), sig)
    }
    /// Strictly verifies a signature over `message` exactly as given (see
    /// [`SigningKey::sign_unframed`]).
    pub fn verify_unframed(&self, message: &[u8], sig: &Signature) -> Result<()> {
        self.0
            .verify_strict(message, &sig.0)
            .map_err(|_| Error::InvalidSignature)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.to_hex())
    }
}

impl fmt::Display for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An Ed25519 signature (`R || s`, 64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(ed25519_dalek::Signature);

impl Signature {
    /// Wraps 64 bytes; their validity is checked when verifying.
    pub fn from_bytes(bytes: &[u8; SIGNATURE_LEN]) -> Self {
        Signature(ed25519_dalek::Signature::from_bytes(bytes))
    }
    /// Wraps a slice that must be 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr = <[u8; SIGNATURE_LEN]>::try_from(bytes)
            .map_err(|_| Error::Malformed("64-byte signature"))?;
        Ok(Self::from_bytes(&arr))
    }
    /// The encoded signature.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.0.to_bytes()
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.to_bytes()))
    }
}

/// One signature to check in [`verify_batch`].
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// The record type's domain-separation tag.
    pub tag: &'a [u8],
    /// The signed message.
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a Signature,
    /// The signer's public key.
    pub key: &'a VerifyingKey,
}

/// Verifies many signatures at once (ed25519-dalek's randomised batch equation), several times
/// faster per signature than one by one. All or nothing: `Ok` only when every item is valid; on
/// `Err`, call [`VerifyingKey::verify`] per item to find the bad ones. Weak keys are already
/// refused by [`VerifyingKey::from_bytes`]. The batch equation is the cofactored one, so it may
/// accept a handful of crafted signatures that strict single verification rejects; where
/// that matters, verify one by one.
pub fn verify_batch(items: &[BatchItem<'_>]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let framed: Vec<Vec<u8>> = items.iter().map(|i| frame(i.tag, i.message)).collect();
    let messages: Vec<&[u8]> = framed.iter().map(Vec::as_slice).collect();
    let sigs: Vec<ed25519_dalek::Signature> = items.iter().map(|i| i.signature.0).collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = items.iter().map(|i| i.key.0).collect();
    ed25519_dalek::verify_batch(&messages, &sigs, &keys).map_err(|_| Error::InvalidSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_1() {
        // RFC 8032 §7.1, TEST 1 (empty message); we check the unframed form against it.
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let key = SigningKey::from_seed(&seed);
        assert_eq!(
            key.verifying_key().to_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = key.sign_unframed(b"");
        assert_eq!(
            hex::encode(sig.to_bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        key.verifying_key().verify_unframed(b"", &sig).unwrap();
    }

    #[test]
    fn tags_separate_domains() {
        let key = SigningKey::from_seed(&[7; 32]);
        let vk = key.verifying_key();
        let sig = key.sign(b"toolcap/a/v1", b"msg");
        vk.verify(b"toolcap/a/v1", b"msg", &sig).unwrap();
        assert!(matches!(
            vk.verify(b"toolcap/b/v1", b"msg", &sig),
            Err(Error::InvalidSignature)
        ));
        assert!(vk.verify(b"toolcap/a/v1", b"msh", &sig).is_err());
        assert!(vk.verify_unframed(b"msg", &sig).is_err());
        let dbg = format!("{key:?}");
        assert!(!dbg.contains(&hex::encode([7u8; 32])), "{dbg}");
    }

    #[test]
    fn batch_all_or_nothing() {
        let keys: Vec<SigningKey> = (0..8u8).map(|i| SigningKey::from_seed(&[i; 32])).collect();
        let vks: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
        let msgs: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
        let mut sigs: Vec<Signature> = keys
            .iter()
            .zip(&msgs)
            .map(|(k, m)| k.sign(b"t", m))
            .collect();
        let items = |sigs: &[Signature]| -> Result<()> {
            let v: Vec<BatchItem<'_>> = (0..8)
                .map(|i| BatchItem {
                    tag: b"t",
                    message: &msgs[i],
                    signature: &sigs[i],
                    key: &vks[i],
                })
                .collect();
            verify_batch(&v)
        };
        items(&sigs).unwrap();
        sigs.swap(2, 3);
        assert!(items(&sigs).is_err());
    }

    #[test]
    fn rejects_weak_and_malformed_keys() {
        // The identity point (small order) must be refused.
        let mut ident = [0u8; 32];
        ident[0] = 1;
        assert!(VerifyingKey::from_bytes(&ident).is_err());
        assert!(VerifyingKey::from_slice(&[1, 2, 3]).is_err());
        assert!(VerifyingKey::from_hex("xyz").is_err());
    }
}
