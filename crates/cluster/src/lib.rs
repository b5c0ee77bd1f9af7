//! Cluster links for toolcap nodes.
//!
//! Nodes of a fleet talk through a message broker (NATS JetStream) that is **not trusted**: it
//! may drop, delay, reorder, replay or forge messages. This crate makes that safe:
//!
//! - [`Membership`] lists every node: its id, its level and parent in the hierarchy, its Ed25519
//!   identity key, its X25519 link key and (optionally) its attestation reference. The list is signed by
//!   the cluster authority ([`SignedMembership`]); a node accepts peers only from a list whose
//!   signature verifies.
//! - [`LinkKeys`] and [`Link`] seal every frame to its recipient with the Noise protocol's one-way
//!   `K` pattern (`Noise_K_25519_ChaChaPoly_SHA256`, via the vetted `snow` crate): the sender
//!   authenticates with its static link key, the frame is encrypted and authenticated with
//!   ChaCha20-Poly1305, and a fresh ephemeral key per frame gives each frame its own keys. The
//!   routing header (sender, recipient, sequence number, kind) travels in the clear but is bound
//!   to the ciphertext as the Noise prologue. Receivers reject frames from non-members, frames for
//!   someone else, and replays (a per-sender sliding window over sequence numbers).
//! - [`nats`] carries sealed frames over JetStream: one inbox subject per node, a durable stream,
//!   acknowledgements after processing.
//! - [`attestation`] admits a child only after its TPM quote over a fresh nonce verifies against
//!   the key and measurements ([`AttestationRef`]) the membership pins (with swtpm the root of
//!   trust is software, and reports say so); [`node_loop`] runs the protocol and
//!   [`setup`] writes a whole cluster (`toolcap cluster init`).
//!
//! Application records inside frames (summaries, evidence, clock entries) are additionally signed
//! with the nodes' Ed25519 identity keys by the protocol crates; the link layer adds
//! confidentiality, sender authentication and replay protection on the wire.
//!
//! ```
//! use toolcap_cluster::{FrameKind, Link, LinkKeys, Level, Member, Membership, SignedMembership};
//! use toolcap_crypto::SigningKey;
//!
//! # fn main() -> Result<(), toolcap_cluster::ClusterError> {
//! let authority = SigningKey::generate_os()?;
//! let (a_id, a_link) = (SigningKey::generate_os()?, LinkKeys::generate()?);
//! let (b_id, b_link) = (SigningKey::generate_os()?, LinkKeys::generate()?);
//! let membership = Membership {
//!     cluster: "demo".into(),
//!     version: 1,
//!     members: vec![
//!         Member::new("a", Level::Regional, Some("b"), a_id.verifying_key(), a_link.public()),
//!         Member::new("b", Level::Global, None, b_id.verifying_key(), b_link.public()),
//!     ],
//! };
//! let signed = SignedMembership::sign(membership, &authority);
//! let verified = signed.verify(&authority.verifying_key())?;
//!
//! let mut a = Link::new("a", a_link, verified.clone())?;
//! let mut b = Link::new("b", b_link, verified)?;
//! let frame = a.seal("b", FrameKind::Summary, b"epoch 7 summary")?;
//! let opened = b.open(&frame)?;
//! assert_eq!(opened.payload, b"epoch 7 summary");
//! assert!(b.open(&frame).is_err(), "a replay is rejected");
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

pub mod attestation;
pub mod cosign;
mod error;
mod link;
mod membership;
pub mod nats;
pub mod node_loop;
pub mod runtime;
pub mod setup;

pub use error::ClusterError;
pub use link::{FrameHeader, FrameKind, Link, LinkKeys, MAX_PAYLOAD, Opened};
pub use membership::{AttestationRef, Level, Member, Membership, SignedMembership};
