//! Hashing: SHA3-256 (FIPS 202) by default, SHA-256 (FIPS 180-4) selectable.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// A 32-byte digest. Displays as lowercase hex; parses from hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| Error::Malformed("hex hash"))?;
        Ok(Hash(out))
    }
    /// Builds a hash from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; 32]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| Error::Malformed("32-byte hash"))
    }
    /// Constant-time equality, for digests that act as MACs or secrets.
    pub fn ct_eq(&self, other: &Hash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Hash::from_hex(s)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A hash algorithm with a 32-byte output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HashAlg {
    /// SHA3-256 (FIPS 202), the default.
    #[default]
    Sha3_256,
    /// SHA-256 (FIPS 180-4), for interoperability (e.g. the RFC 6962 test vectors).
    Sha256,
}

impl HashAlg {
    /// The name used in files and on the command line: `sha3-256` or `sha256`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha3_256 => "sha3-256",
            HashAlg::Sha256 => "sha256",
        }
    }
    /// Hashes one byte string.
    pub fn digest(self, data: &[u8]) -> Hash {
        self.digest_parts(&[data])
    }
    /// Hashes the concatenation of `parts` without copying them together.
    pub fn digest_parts(self, parts: &[&[u8]]) -> Hash {
        let mut h = self.hasher();
        for p in parts {
            h.update(p);
        }
        h.finish()
    }
    /// A streaming hasher.
    pub fn hasher(self) -> Hasher {
        match self {
            HashAlg::Sha3_256 => Hasher(HasherInner::Sha3(sha3::Sha3_256::new())),
            HashAlg::Sha256 => Hasher(HasherInner::Sha2(sha2::Sha256::new())),
        }
    }
}

impl fmt::Display for HashAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlg {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sha3-256" | "sha3_256" | "sha3" => Ok(HashAlg::Sha3_256),
            "sha256" | "sha-256" => Ok(HashAlg::Sha256),
            _ => Err(Error::Malformed("hash algorithm (sha3-256 or sha256)")),
        }
    }
}

/// An incremental hash of one [`HashAlg`].
#[derive(Clone)]
pub struct Hasher(HasherInner);

#[derive(Clone)]
enum HasherInner {
    Sha3(sha3::Sha3_256),
    Sha2(sha2::Sha256),
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alg = match self.0 {
            HasherInner::Sha3(_) => HashAlg::Sha3_256,
            HasherInner::Sha2(_) => HashAlg::Sha256,
        };
        f.debug_tuple("Hasher").field(&alg).finish()
    }
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        match &mut self.0 {
            HasherInner::Sha3(h) => h.update(data),
            HasherInner::Sha2(h) => h.update(data),
        }
        self
    }
    /// The digest.
    pub fn finish(self) -> Hash {
        let mut out = [0u8; 32];
        match self.0 {
            HasherInner::Sha3(h) => out.copy_from_slice(&h.finalize()),
            HasherInner::Sha2(h) => out.copy_from_slice(&h.finalize()),
        }
        Hash(out)
    }
}

/// SHA3-256 of `data` (FIPS 202), the project's default hash.
pub fn sha3_256(data: &[u8]) -> Hash {
    HashAlg::Sha3_256.digest(data)
}

/// SHA-256 of `data` (FIPS 180-4).
pub fn sha256(data: &[u8]) -> Hash {
    HashAlg::Sha256.digest(data)
}

/// Constant-time comparison of two byte strings (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // FIPS 202 / FIPS 180-4 example values for the empty string and "abc".
        assert_eq!(
            sha3_256(b"").to_hex(),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        );
        assert_eq!(
            sha3_256(b"abc").to_hex(),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
        assert_eq!(
            sha256(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = HashAlg::Sha3_256.hasher();
        h.update(b"a").update(b"bc");
        assert_eq!(h.finish(), sha3_256(b"abc"));
    }

    #[test]
    fn hex_roundtrip_and_names() {
        let h = sha256(b"x");
        assert_eq!(h.to_string().parse::<Hash>().unwrap(), h);
        assert!("zz".parse::<Hash>().is_err());
        assert_eq!("sha256".parse::<HashAlg>().unwrap(), HashAlg::Sha256);
        assert_eq!(HashAlg::default().name(), "sha3-256");
        assert!(h.ct_eq(&h) && !h.ct_eq(&sha256(b"y")));
    }
}
