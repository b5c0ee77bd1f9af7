//! The toolcap tamper-evident audit log: an RFC 6962 Merkle log with signed checkpoints and
//! crash-safe storage.
//!
//! - [`tree`] (pure): the RFC 9162 §2.1 Merkle tree ([`Tree`]), its inclusion and consistency
//!   proofs, and their verifiers ([`verify_inclusion`], [`verify_consistency`]), generic over
//!   the hash ([`HashAlg`]: SHA3-256 by default, SHA-256 for the RFC 6962 test vectors).
//! - [`checkpoint`] (pure): signed checkpoints in the C2SP `tlog-checkpoint` and `signed-note`
//!   formats with an Ed25519 key ([`Checkpoint`], [`sign_checkpoint`], [`open_checkpoint`]).
//! - [`store`]: a durable log in one directory ([`Log`]): group-committed appends acknowledged
//!   only after `fdatasync`, torn-tail recovery, and [`verify_dir`], which recomputes everything
//!   and names the first problem.
//! - [`stored`]: the log's tree ([`StoredTree`]): every node hash on disk in post-order, only the
//!   levels of 4,096 leaves and up and the right frontier in memory, so memory stays flat as the
//!   log grows; same RFC 9162 code and identical proofs as [`Tree`].
//!
//! A verifier needs only a checkpoint, the log's public key and a proof:
//!
//! ```
//! use toolcap_audit::{Checkpoint, HashAlg, NoteVerifier, Tree, leaf_hash, open_checkpoint,
//!     sign_checkpoint, verify_inclusion};
//! use toolcap_crypto::SigningKey;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let alg = HashAlg::Sha3_256;
//! let mut tree = Tree::new(alg);
//! for event in ["allow ls", "deny rm -rf /", "ask curl | sh"] {
//!     tree.push_data(event.as_bytes());
//! }
//! let key = SigningKey::generate_os()?;
//! let note = sign_checkpoint(&Checkpoint::new("example.com/audit", tree.size(), tree.root()),
//!     "example.com/audit", &key)?;
//! let proof = tree.inclusion_proof(1, tree.size())?;
//!
//! // Offline: trust only the key.
//! let verifier = NoteVerifier::new("example.com/audit", key.verifying_key())?;
//! let cp = open_checkpoint(&note, &verifier)?;
//! let leaf = leaf_hash(alg, b"deny rm -rf /");
//! verify_inclusion(alg, 1, cp.size, &leaf, &proof, &cp.root.0)?;
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

pub mod checkpoint;
mod error;
pub mod store;
pub mod stored;
pub mod tree;

pub use checkpoint::{
    Checkpoint, NoteSignature, NoteVerifier, SignedNote, key_id, open_checkpoint, sign_checkpoint,
};
pub use error::{Error, Result};
pub use store::{Config, Log, MAX_LEAF, StoredCheckpoint, VerifyReport, verify_dir};
pub use stored::StoredTree;
pub use toolcap_crypto::{Hash, HashAlg};
pub use tree::{
    Tree, empty_root, leaf_hash, node_hash, root_from_inclusion_proof, verify_consistency,
    verify_inclusion,
};
