//! Signed checkpoints in the C2SP formats, readable by existing transparency-log tooling. Pure.
//!
//! - `tlog-checkpoint` (c2sp.org/tlog-checkpoint): the body is the origin line, the tree size in
//!   decimal, the standard-base64 root hash, then optional extension lines, each ending in `\n`.
//! - `signed-note` (c2sp.org/signed-note): the body, a blank line, then one or more signature lines
//!   `— <name> <base64(key id || signature)>` (U+2014 EM DASH, a space). For Ed25519 the key id is
//!   the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key) and the signature is over the
//!   body bytes exactly. A verifier key is written `<name>+<key id hex>+<base64(0x01 || key)>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use toolcap_crypto::{Hash, Signature, SigningKey, VerifyingKey, sha256};

use crate::error::{Error, Result};

/// signed-note's algorithm byte for Ed25519.
const ALG_ED25519: u8 = 0x01;
const DASH: &str = "\u{2014} ";
/// signed-note verifiers must refuse notes with more signatures than this (as Go's `note` does).
const MAX_SIGNATURES: usize = 100;

/// A checkpoint body: which log, how big, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (its unique name, e.g. `example.com/audit`).
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 9162 root hash of the first `size` leaves.
    pub root: Hash,
    /// Extension lines (signed, otherwise uninterpreted).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note body text, every line ending in `\n`.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root.0)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a body made by [`Checkpoint::body`].
    pub fn parse_body(body: &str) -> Result<Self> {
        let Some(text) = body.strip_suffix('\n') else {
            return Err(Error::Note("body must end with a newline"));
        };
        let mut lines = text.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(Error::Note("empty origin line"));
        }
        let size_line = lines.next().ok_or(Error::Note("missing tree size line"))?;
        let canonical = !size_line.is_empty()
            && size_line.bytes().all(|b| b.is_ascii_digit())
            && (size_line == "0" || !size_line.starts_with('0'));
        if !canonical {
            return Err(Error::Note("tree size is not a canonical decimal"));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| Error::Note("tree size out of range"))?;
        let root_line = lines.next().ok_or(Error::Note("missing root hash line"))?;
        let root_bytes = B64
            .decode(root_line)
            .map_err(|_| Error::Note("root hash is not base64"))?;
        let root =
            Hash::from_slice(&root_bytes).map_err(|_| Error::Note("root hash is not 32 bytes"))?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() {
                return Err(Error::Note("empty extension line"));
            }
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// signed-note key name rules: non-empty, no whitespace, no `+`.
pub fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == '+')
}

/// signed-note's Ed25519 key id: SHA-256(name || 0x0A || 0x01 || key)[..4].
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut input = Vec::with_capacity(name.len() + 2 + 32);
    input.extend_from_slice(name.as_bytes());
    input.push(b'\n');
    input.push(ALG_ED25519);
    input.extend_from_slice(&key.to_bytes());
    let h = sha256(&input);
    [h.0[0], h.0[1], h.0[2], h.0[3]]
}

/// A signed-note verifier: a key name and an Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier for `name`; the name must satisfy [`valid_key_name`].
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self> {
        if !valid_key_name(name) {
            return Err(Error::Note(
                "key name must be non-empty, without spaces or '+'",
            ));
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            key,
        })
    }
    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }
    /// The signed-note key id.
    pub fn id(&self) -> [u8; 4] {
        key_id(&self.name, &self.key)
    }
    /// The verifier key string `<name>+<id hex>+<base64(0x01 || key)>`.
    pub fn encode(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(&self.key.to_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.id()),
            B64.encode(raw)
        )
    }
    /// Parses a verifier key string, checking that its id matches its name and key.
    pub fn parse(s: &str) -> Result<Self> {
        let mut parts = s.trim_end_matches('\n').splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Note("verifier key must be name+id+key"));
        };
        let raw = B64
            .decode(b64)
            .map_err(|_| Error::Note("verifier key is not base64"))?;
        let (&alg, key) = raw.split_first().ok_or(Error::Note("empty verifier key"))?;
        if alg != ALG_ED25519 {
            return Err(Error::Note("verifier key is not ed25519"));
        }
        let v = NoteVerifier::new(name, VerifyingKey::from_slice(key)?)?;
        if id_hex.len() != 8 || hex::encode(v.id()) != id_hex {
            return Err(Error::Note("verifier key id does not match"));
        }
        Ok(v)
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's key name.
    pub name: String,
    /// The key id the line claims.
    pub key_id: [u8; 4],
    /// The signature bytes (64 for Ed25519; other algorithms may differ).
    pub signature: Vec<u8>,
}

/// A parsed signed note: its body text and its signature lines (not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, ending in `\n`.
    pub body: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Parses the signed-note text format (no verification).
    pub fn parse(text: &str) -> Result<Self> {
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(Error::Note("control character in note"));
        }
        let split = text
            .find("\n\n")
            .ok_or(Error::Note("missing blank line before signatures"))?;
        let body = &text[..split + 1];
        let sigs = &text[split + 2..];
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(Error::Note("note must end with a newline"));
        };
        let mut signatures = Vec::new();
        for line in sigs.split('\n') {
            let rest = line
                .strip_prefix(DASH)
                .ok_or(Error::Note("signature line must start with an em dash"))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(Error::Note("signature line needs name and signature"))?;
            if !valid_key_name(name) {
                return Err(Error::Note("invalid signer name"));
            }
            let raw = B64
                .decode(b64)
                .map_err(|_| Error::Note("signature is not base64"))?;
            if raw.len() < 5 {
                return Err(Error::Note("signature too short"));
            }
            let key_id = [raw[0], raw[1], raw[2], raw[3]];
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id,
                signature: raw[4..].to_vec(),
            });
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(Error::Note("too many signatures"));
        }
        Ok(SignedNote {
            body: body.to_owned(),
            signatures,
        })
    }

    /// Checks that a signature line for `verifier` (same name and key id) verifies over the body.
    /// Lines of other signers are ignored, as signed-note requires.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<()> {
        let id = verifier.id();
        let ok = self
            .signatures
            .iter()
            .filter(|s| s.name == verifier.name && s.key_id == id)
            .any(|s| {
                Signature::from_slice(&s.signature)
                    .and_then(|sig| verifier.key.verify_unframed(self.body.as_bytes(), &sig))
                    .is_ok()
            });
        if ok {
            Ok(())
        } else {
            Err(Error::NoteSignature(verifier.encode()))
        }
    }
}

/// Signs `checkpoint` as `name` and returns the full signed-note text.
pub fn sign_checkpoint(checkpoint: &Checkpoint, name: &str, key: &SigningKey) -> Result<String> {
    let verifier = NoteVerifier::new(name, key.verifying_key())?;
    let body = checkpoint.body();
    let sig = key.sign_unframed(body.as_bytes());
    let mut raw = verifier.id().to_vec();
    raw.extend_from_slice(&sig.to_bytes());
    Ok(format!("{body}\n{DASH}{name} {}\n", B64.encode(raw)))
}

/// Parses a signed checkpoint, verifies it with `verifier`, and returns its body.
pub fn open_checkpoint(text: &str, verifier: &NoteVerifier) -> Result<Checkpoint> {
    let note = SignedNote::parse(text)?;
    note.verify(verifier)?;
    Checkpoint::parse_body(&note.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sign_parse_verify() {
        let key = SigningKey::from_seed(&[9; 32]);
        let cp = Checkpoint::new("example.com/audit", 42, toolcap_crypto::sha3_256(b"x"));
        let text = sign_checkpoint(&cp, "example.com/audit", &key).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "example.com/audit");
        assert_eq!(lines[1], "42");
        assert_eq!(lines[3], "");
        assert!(lines[4].starts_with("\u{2014} example.com/audit "));
        let v = NoteVerifier::new("example.com/audit", key.verifying_key()).unwrap();
        assert_eq!(open_checkpoint(&text, &v).unwrap(), cp);
        assert_eq!(NoteVerifier::parse(&v.encode()).unwrap(), v);
        let other = NoteVerifier::new(
            "example.com/audit",
            SigningKey::from_seed(&[1; 32]).verifying_key(),
        )
        .unwrap();
        assert!(open_checkpoint(&text, &other).is_err());
        let tampered = text.replacen("42", "43", 1);
        assert!(open_checkpoint(&tampered, &v).is_err());
    }

    #[test]
    fn go_note_vector() {
        // The example of golang.org/x/mod/sumdb/note: key "PeterNeumann" and its signed note.
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let v = NoteVerifier::parse(vkey).unwrap();
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n\
                    \n\
                    \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let note = SignedNote::parse(text).unwrap();
        note.verify(&v).unwrap();
        // Ed25519 is deterministic: signing with the example's secret key reproduces the note.
        let skey = B64
            .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .unwrap();
        let key = SigningKey::from_seed(&skey[1..].try_into().unwrap());
        assert_eq!(key.verifying_key(), *v.key());
        let sig = key.sign_unframed(note.body.as_bytes());
        assert_eq!(note.signatures[0].signature, sig.to_bytes().to_vec());
        assert_eq!(hex::encode(v.id()), "c74f20a3");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "a\n1\n",
            "a\n01\nAAAA\n",
            "\n1\nAAAA\n",
            "a\n1\nnot base64\n",
            "a\n-1\nAAAA\n",
        ] {
            assert!(Checkpoint::parse_body(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "body\n",
            "body\n\nsig\n",
            "body\n\n\u{2014} n\n",
            "body\n\n\u{2014} n AAAA\n",
            "b\n\n\u{2014} n AAAAAAAA",
        ] {
            assert!(SignedNote::parse(bad).is_err(), "{bad:?}");
        }
        assert!(NoteVerifier::parse("a+b").is_err());
    }

    proptest! {
        #[test]
        fn body_roundtrip(origin in "[a-z./]{1,20}", size: u64, root: [u8; 32]) {
            let cp = Checkpoint::new(origin, size, Hash(root));
            prop_assert_eq!(Checkpoint::parse_body(&cp.body()).unwrap(), cp);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,200}") {
            let _ = Checkpoint::parse_body(&s);
            let _ = SignedNote::parse(&s);
            let _ = NoteVerifier::parse(&s);
        }
    }
}
