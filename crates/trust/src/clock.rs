//! Signed, hash-chained vector clocks.
//!
//! Every event of node `i` carries the full vector `V` (one counter per node of the group).
//! Node `i` signs, with its own key, the canonical record
//! `(node, counter, SHA3-256(V), previous entry hash, nonce, payload hash)`; the entry's hash
//! (SHA3-256 of the signed bytes and the signature) is the next entry's `prev`, so each node's
//! entries form a hash chain from a per-node genesis value.
//!
//! A [`ClockReceiver`] accepts an entry only if, in this order: the node is known; the vector
//! has the group's dimension; the signature verifies; `V[node] == counter`; `counter ==
//! last + 1` (a lower counter is a replay, a higher one a gap, i.e. reordered or withheld
//! history); `prev` is the hash of the last accepted entry (else a splice from another
//! chain); the nonce is new for that node; `V` dominates the node's previous vector; and
//! every other coordinate of `V` is already known to the receiver (causal delivery). Each
//! refusal is a typed [`ClockRejection`].

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use toolcap_crypto::{
    Canonical, Decoder, Encoder, Hash, Signature, SigningKey, VerifyingKey, sha3_256,
};

use crate::evidence::NodeId;

const VECTOR_TAG: &[u8] = b"toolcap/trust/vector/v1";
const GENESIS_TAG: &[u8] = b"toolcap/trust/clock-genesis/v1";
const WIRE_TAG: &[u8] = b"toolcap/trust/clock-entry-wire/v1";
const WRITER_STATE_TAG: &[u8] = b"toolcap/trust/clock-writer-state/v1";
const RECEIVER_STATE_TAG: &[u8] = b"toolcap/trust/subsequence-receiver-state/v1";
/// How many recent nonces and entry hashes a [`SubsequenceReceiver`] keeps per node.
pub const RECENT: usize = 64;

/// How two vector clocks relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Causality {
    /// The first happened before the second.
    Before,
    /// The first happened after the second.
    After,
    /// Identical vectors.
    Equal,
    /// Neither dominates: concurrent events.
    Concurrent,
}

/// Compares two vectors of the same group (missing coordinates count as zero).
pub fn compare(a: &[u64], b: &[u64]) -> Causality {
    let n = a.len().max(b.len());
    let (mut less, mut greater) = (false, false);
    for j in 0..n {
        let x = a.get(j).copied().unwrap_or(0);
        let y = b.get(j).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Less => less = true,
            Ordering::Greater => greater = true,
            Ordering::Equal => {}
        }
    }
    match (less, greater) {
        (false, false) => Causality::Equal,
        (true, false) => Causality::Before,
        (false, true) => Causality::After,
        (true, true) => Causality::Concurrent,
    }
}

/// SHA3-256 of a vector's canonical encoding.
pub fn vector_digest(vector: &[u64]) -> Hash {
    let mut enc = Encoder::new(VECTOR_TAG, 1);
    enc.seq(vector.len());
    for v in vector {
        enc.u64(*v);
    }
    sha3_256(&enc.finish())
}

/// The `prev` value of a node's first entry.
pub fn genesis(node: NodeId) -> Hash {
    let mut enc = Encoder::new(GENESIS_TAG, 1);
    enc.u32(node.0);
    sha3_256(&enc.finish())
}

/// The signed part of a clock entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EntryBody {
    node: NodeId,
    counter: u64,
    vector_digest: Hash,
    prev: Hash,
    nonce: [u8; 16],
    payload: Hash,
}

impl Canonical for EntryBody {
    const TAG: &'static [u8] = b"toolcap/trust/clock-entry/v1";
    const VERSION: u16 = 1;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.u32(self.node.0)
            .u64(self.counter)
            .array(&self.vector_digest.0)
            .array(&self.prev.0)
            .array(&self.nonce)
            .array(&self.payload.0);
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        Ok(EntryBody {
            node: NodeId(dec.u32()?),
            counter: dec.u64()?,
            vector_digest: Hash(dec.array()?),
            prev: Hash(dec.array()?),
            nonce: dec.array()?,
            payload: Hash(dec.array()?),
        })
    }
}

/// One event's clock entry, as sent: the full vector travels with the signed fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockEntry {
    /// The node whose event this is.
    pub node: NodeId,
    /// The node's own counter (`vector[node]`).
    pub counter: u64,
    /// The full vector clock of the event.
    pub vector: Vec<u64>,
    /// Hash of the node's previous entry (or [`genesis`]).
    pub prev: Hash,
    /// A fresh random nonce.
    pub nonce: [u8; 16],
    /// SHA3-256 of the event's payload.
    pub payload: Hash,
    /// The node's signature over the body.
    pub signature: Signature,
}

impl ClockEntry {
    fn body(&self) -> EntryBody {
        EntryBody {
            node: self.node,
            counter: self.counter,
            vector_digest: vector_digest(&self.vector),
            prev: self.prev,
            nonce: self.nonce,
            payload: self.payload,
        }
    }

    /// The bytes the signature covers.
    pub fn signed_bytes(&self) -> Vec<u8> {
        self.body().to_canonical()
    }

    /// The entry's hash: the next entry's `prev`.
    pub fn hash(&self) -> Hash {
        let mut bytes = self.signed_bytes();
        bytes.extend_from_slice(&self.signature.to_bytes());
        sha3_256(&bytes)
    }

    /// Tag under which entries are signed.
    pub const TAG: &'static [u8] = EntryBody::TAG;

    /// The entry as sent: `node u32 || counter u64 || vector (u32 count, u64 each) || prev ||
    /// nonce || payload || signature`, under its own tag and version.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut enc = Encoder::new(WIRE_TAG, 1);
        enc.u32(self.node.0)
            .u64(self.counter)
            .seq(self.vector.len());
        for v in &self.vector {
            enc.u64(*v);
        }
        enc.array(&self.prev.0)
            .array(&self.nonce)
            .array(&self.payload.0)
            .array(&self.signature.to_bytes());
        enc.finish()
    }

    /// Decodes [`ClockEntry::to_bytes`] (the signature is not checked here: a receiver does).
    /// Trailing bytes, a short input or an over-long vector are errors.
    pub fn from_bytes(bytes: &[u8]) -> toolcap_crypto::Result<ClockEntry> {
        let mut dec = Decoder::new(bytes, WIRE_TAG, &[1])?;
        let node = NodeId(dec.u32()?);
        let counter = dec.u64()?;
        let n = dec.seq()?;
        let mut vector = Vec::with_capacity(n);
        for _ in 0..n {
            vector.push(dec.u64()?);
        }
        let entry = ClockEntry {
            node,
            counter,
            vector,
            prev: Hash(dec.array()?),
            nonce: dec.array()?,
            payload: Hash(dec.array()?),
            signature: Signature::from_bytes(&dec.array()?),
        };
        dec.finish()?;
        Ok(entry)
    }
}

/// A node's writer: keeps its counter, vector and chain head, and signs its events.
#[derive(Debug)]
pub struct ClockWriter {
    node: NodeId,
    key: SigningKey,
    vector: Vec<u64>,
    head: Hash,
}

impl ClockWriter {
    /// A writer for `node` in a group of `members` nodes, signing with `key`.
    pub fn new(node: NodeId, members: usize, key: SigningKey) -> Self {
        ClockWriter {
            node,
            key,
            vector: vec![0; members],
            head: genesis(node),
        }
    }

    /// The node's current vector.
    pub fn vector(&self) -> &[u64] {
        &self.vector
    }

    /// The hash of the node's last entry (its chain head; [`genesis`] before the first).
    pub fn head(&self) -> Hash {
        self.head
    }

    /// The writer's state (`vector || head`) for the node's storage: a restarted node
    /// [`resume`](ClockWriter::resume)s from it, so it neither reuses a counter nor breaks its
    /// own chain. Persist it before sending the entry [`tick`](ClockWriter::tick) returned.
    pub fn state(&self) -> Vec<u8> {
        let mut enc = Encoder::new(WRITER_STATE_TAG, 1);
        enc.u32(self.node.0).seq(self.vector.len());
        for v in &self.vector {
            enc.u64(*v);
        }
        enc.array(&self.head.0);
        enc.finish()
    }

    /// A writer continuing from [`ClockWriter::state`]'s bytes. The state must be for `node`
    /// and a group of `members` nodes.
    pub fn resume(
        node: NodeId,
        members: usize,
        key: SigningKey,
        state: &[u8],
    ) -> toolcap_crypto::Result<Self> {
        let mut dec = Decoder::new(state, WRITER_STATE_TAG, &[1])?;
        if NodeId(dec.u32()?) != node {
            return Err(toolcap_crypto::Error::InvalidField("clock writer node"));
        }
        let n = dec.seq()?;
        if n != members {
            return Err(toolcap_crypto::Error::InvalidField(
                "clock writer dimension",
            ));
        }
        let mut vector = Vec::with_capacity(n);
        for _ in 0..n {
            vector.push(dec.u64()?);
        }
        let head = Hash(dec.array()?);
        dec.finish()?;
        Ok(ClockWriter {
            node,
            key,
            vector,
            head,
        })
    }

    /// Merges a vector the node has received (component-wise max), before its next event.
    pub fn observe(&mut self, other: &[u64]) {
        for (mine, theirs) in self.vector.iter_mut().zip(other) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// Records a local event with `payload` and a caller-supplied fresh `nonce` (from a
    /// CSPRNG: the crate injects randomness).
    pub fn tick(&mut self, payload: Hash, nonce: [u8; 16]) -> ClockEntry {
        let i = self.node.0 as usize;
        if let Some(c) = self.vector.get_mut(i) {
            *c += 1;
        }
        let counter = self.vector.get(i).copied().unwrap_or(0);
        let body = EntryBody {
            node: self.node,
            counter,
            vector_digest: vector_digest(&self.vector),
            prev: self.head,
            nonce,
            payload,
        };
        let signature = self.key.sign(EntryBody::TAG, &body.to_canonical());
        let entry = ClockEntry {
            node: self.node,
            counter,
            vector: self.vector.clone(),
            prev: self.head,
            nonce,
            payload,
            signature,
        };
        self.head = entry.hash();
        entry
    }
}

/// Why a clock entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClockRejection {
    /// No key is registered for the node.
    #[error("unknown node")]
    Unknown,
    /// The vector's length differs from the group size.
    #[error("wrong vector dimension")]
    Dimension,
    /// The signature does not verify: a forged or altered entry.
    #[error("forged entry")]
    Forged,
    /// `vector[node]` differs from `counter`.
    #[error("inconsistent own counter")]
    Inconsistent,
    /// The counter is not above the last accepted one: a replay (or an equivocation).
    #[error("replayed entry")]
    Replayed,
    /// The counter skips ahead: reordered or withheld history.
    #[error("counter gap: reordered entry")]
    Reordered,
    /// `prev` is not the hash of the last accepted entry: spliced from another chain.
    #[error("chain break: spliced entry")]
    Spliced,
    /// The nonce was already used by this node.
    #[error("nonce reused")]
    NonceReused,
    /// The vector does not dominate the node's previous vector.
    #[error("vector regressed")]
    Regressed,
    /// The entry depends on events of other nodes the receiver has not accepted yet.
    #[error("causal dependency missing")]
    Premature,
}

#[derive(Debug, Clone)]
struct NodeState {
    key: VerifyingKey,
    counter: u64,
    head: Hash,
    vector: Vec<u64>,
    nonces: BTreeSet<[u8; 16]>,
}

/// What the receiver learnt from an accepted entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// How the entry relates to the previously accepted entry (from any node); `Concurrent`
    /// flags events neither of which saw the other.
    pub causality: Causality,
}

/// A receiver of one group's clock entries.
#[derive(Debug, Clone)]
pub struct ClockReceiver {
    members: usize,
    nodes: BTreeMap<NodeId, NodeState>,
    known: Vec<u64>,
    last: Option<Vec<u64>>,
}

impl ClockReceiver {
    /// A receiver for a group of `members` nodes with these verifying keys.
    pub fn new(members: usize, keys: impl IntoIterator<Item = (NodeId, VerifyingKey)>) -> Self {
        let nodes = keys
            .into_iter()
            .filter(|(n, _)| (n.0 as usize) < members)
            .map(|(n, key)| {
                (
                    n,
                    NodeState {
                        key,
                        counter: 0,
                        head: genesis(n),
                        vector: vec![0; members],
                        nonces: BTreeSet::new(),
                    },
                )
            })
            .collect();
        ClockReceiver {
            members,
            nodes,
            known: vec![0; members],
            last: None,
        }
    }

    /// The merged vector of everything accepted.
    pub fn known(&self) -> &[u64] {
        &self.known
    }

    /// Checks `e` and, if every rule holds, accepts it.
    pub fn accept(&mut self, e: &ClockEntry) -> Result<Accepted, ClockRejection> {
        let i = e.node.0 as usize;
        let state = self.nodes.get(&e.node).ok_or(ClockRejection::Unknown)?;
        if e.vector.len() != self.members {
            return Err(ClockRejection::Dimension);
        }
        state
            .key
            .verify(ClockEntry::TAG, &e.signed_bytes(), &e.signature)
            .map_err(|_| ClockRejection::Forged)?;
        if e.vector.get(i).copied() != Some(e.counter) {
            return Err(ClockRejection::Inconsistent);
        }
        if e.counter <= state.counter {
            return Err(ClockRejection::Replayed);
        }
        if e.counter != state.counter + 1 {
            return Err(ClockRejection::Reordered);
        }
        if e.prev != state.head {
            return Err(ClockRejection::Spliced);
        }
        if state.nonces.contains(&e.nonce) {
            return Err(ClockRejection::NonceReused);
        }
        if !matches!(
            compare(&e.vector, &state.vector),
            Causality::After | Causality::Equal
        ) {
            return Err(ClockRejection::Regressed);
        }
        let premature = e
            .vector
            .iter()
            .zip(&self.known)
            .enumerate()
            .any(|(j, (v, k))| j != i && v > k);
        if premature {
            return Err(ClockRejection::Premature);
        }
        let causality = match &self.last {
            Some(prev) => compare(&e.vector, prev),
            None => Causality::After,
        };
        let hash = e.hash();
        if let Some(state) = self.nodes.get_mut(&e.node) {
            state.counter = e.counter;
            state.head = hash;
            state.vector = e.vector.clone();
            state.nonces.insert(e.nonce);
        }
        for (k, v) in self.known.iter_mut().zip(&e.vector) {
            *k = (*k).max(*v);
        }
        self.last = Some(e.vector.clone());
        Ok(Accepted { causality })
    }
}

impl ClockRejection {
    /// A short stable name (for metrics and status).
    pub fn name(self) -> &'static str {
        match self {
            ClockRejection::Unknown => "unknown",
            ClockRejection::Dimension => "dimension",
            ClockRejection::Forged => "forged",
            ClockRejection::Inconsistent => "inconsistent",
            ClockRejection::Replayed => "replayed",
            ClockRejection::Reordered => "reordered",
            ClockRejection::Spliced => "spliced",
            ClockRejection::NonceReused => "nonce_reused",
            ClockRejection::Regressed => "regressed",
            ClockRejection::Premature => "premature",
        }
    }
}

#[derive(Debug, Clone)]
struct PeerChain {
    key: VerifyingKey,
    counter: u64,
    head: Hash,
    vector: Vec<u64>,
    /// The last [`RECENT`] nonces, oldest first.
    nonces: Vec<[u8; 16]>,
}

/// A receiver that sees only part of each sender's history: a node of a tree hears its parent
/// and its children, and each of them also writes entries to others. So counters may skip
/// (the skipped entries went elsewhere) and other nodes' coordinates can never all be seen:
/// the full vector travels as signed metadata, but [`ClockReceiver`]'s causal-delivery and
/// no-gap rules would stall such a receiver forever.
///
/// An entry is accepted only if, in this order: the node is known; the vector has the group's
/// dimension; the signature verifies ([`ClockRejection::Forged`]); `V[node] == counter`; the
/// counter is above the last accepted one (equal: [`ClockRejection::Replayed`]; lower:
/// [`ClockRejection::Reordered`]); when it is exactly the next one, `prev` is the last
/// accepted entry's hash ([`ClockRejection::Spliced`]); the nonce is not among the node's last
/// [`RECENT`]; and `V` dominates the node's previous vector ([`ClockRejection::Regressed`]).
/// Across a gap the chain link cannot be checked; the counters, nonces and vectors still are.
///
/// The state is small and serialisable ([`SubsequenceReceiver::state`]), so a node keeps it
/// across restarts and a replay of anything it accepted before is still refused.
#[derive(Debug, Clone)]
pub struct SubsequenceReceiver {
    members: usize,
    nodes: BTreeMap<NodeId, PeerChain>,
}

impl SubsequenceReceiver {
    /// A receiver for a group of `members` nodes with these verifying keys.
    pub fn new(members: usize, keys: impl IntoIterator<Item = (NodeId, VerifyingKey)>) -> Self {
        let nodes = keys
            .into_iter()
            .filter(|(n, _)| (n.0 as usize) < members)
            .map(|(n, key)| {
                (
                    n,
                    PeerChain {
                        key,
                        counter: 0,
                        head: genesis(n),
                        vector: vec![0; members],
                        nonces: Vec::new(),
                    },
                )
            })
            .collect();
        SubsequenceReceiver { members, nodes }
    }

    /// The last accepted counter of `node` (0 before any).
    pub fn counter(&self, node: NodeId) -> u64 {
        self.nodes.get(&node).map_or(0, |s| s.counter)
    }

    /// Whether `e` is exactly the last entry accepted from its node (a redelivery of
    /// something already processed, not a new event).
    pub fn is_last(&self, e: &ClockEntry) -> bool {
        self.nodes
            .get(&e.node)
            .is_some_and(|s| s.counter == e.counter && s.counter > 0 && s.head == e.hash())
    }

    /// Checks `e` and, if every rule holds, accepts it (see the type's documentation).
    pub fn accept(&mut self, e: &ClockEntry) -> Result<(), ClockRejection> {
        let i = e.node.0 as usize;
        let state = self.nodes.get(&e.node).ok_or(ClockRejection::Unknown)?;
        if e.vector.len() != self.members {
            return Err(ClockRejection::Dimension);
        }
        state
            .key
            .verify(ClockEntry::TAG, &e.signed_bytes(), &e.signature)
            .map_err(|_| ClockRejection::Forged)?;
        if e.vector.get(i).copied() != Some(e.counter) {
            return Err(ClockRejection::Inconsistent);
        }
        match e.counter.cmp(&state.counter) {
            Ordering::Equal => return Err(ClockRejection::Replayed),
            Ordering::Less => return Err(ClockRejection::Reordered),
            Ordering::Greater => {}
        }
        if e.counter == state.counter + 1 && e.prev != state.head {
            return Err(ClockRejection::Spliced);
        }
        if state.nonces.contains(&e.nonce) {
            return Err(ClockRejection::NonceReused);
        }
        if !matches!(
            compare(&e.vector, &state.vector),
            Causality::After | Causality::Equal
        ) {
            return Err(ClockRejection::Regressed);
        }
        let hash = e.hash();
        if let Some(state) = self.nodes.get_mut(&e.node) {
            state.counter = e.counter;
            state.head = hash;
            state.vector.clone_from(&e.vector);
            state.nonces.push(e.nonce);
            let excess = state.nonces.len().saturating_sub(RECENT);
            state.nonces.drain(..excess);
        }
        Ok(())
    }

    /// The receiver's state (per node: counter, head, vector, recent nonces); keys are not
    /// part of it and come from the membership again at [`SubsequenceReceiver::resume`].
    pub fn state(&self) -> Vec<u8> {
        let mut enc = Encoder::new(RECEIVER_STATE_TAG, 1);
        enc.u32(u32::try_from(self.members).unwrap_or(u32::MAX))
            .seq(self.nodes.len());
        for (n, s) in &self.nodes {
            enc.u32(n.0)
                .u64(s.counter)
                .array(&s.head.0)
                .seq(s.vector.len());
            for v in &s.vector {
                enc.u64(*v);
            }
            enc.seq(s.nonces.len());
            for nonce in &s.nonces {
                enc.array(nonce);
            }
        }
        enc.finish()
    }

    /// The receiver of [`SubsequenceReceiver::new`] with the per-node state of `state` laid
    /// over it. State for a node that is not in `keys` is dropped; a wrong group size or a
    /// malformed state is an error (the caller fails closed rather than forget what it
    /// accepted).
    pub fn resume(
        members: usize,
        keys: impl IntoIterator<Item = (NodeId, VerifyingKey)>,
        state: &[u8],
    ) -> toolcap_crypto::Result<Self> {
        let mut rx = SubsequenceReceiver::new(members, keys);
        let mut dec = Decoder::new(state, RECEIVER_STATE_TAG, &[1])?;
        if dec.u32()? as usize != members {
            return Err(toolcap_crypto::Error::InvalidField(
                "clock receiver group size",
            ));
        }
        for _ in 0..dec.seq()? {
            let node = NodeId(dec.u32()?);
            let counter = dec.u64()?;
            let head = Hash(dec.array()?);
            let n = dec.seq()?;
            if n != members {
                return Err(toolcap_crypto::Error::InvalidField(
                    "clock receiver dimension",
                ));
            }
            let mut vector = Vec::with_capacity(n);
            for _ in 0..n {
                vector.push(dec.u64()?);
            }
            let k = dec.seq()?;
            let mut nonces = Vec::with_capacity(k);
            for _ in 0..k {
                nonces.push(dec.array()?);
            }
            if let Some(s) = rx.nodes.get_mut(&node) {
                s.counter = counter;
                s.head = head;
                s.vector = vector;
                s.nonces = nonces;
            }
        }
        dec.finish()?;
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> SigningKey {
        SigningKey::from_seed(&[i; 32])
    }

    fn group(n: usize) -> (Vec<ClockWriter>, ClockReceiver) {
        let writers: Vec<ClockWriter> = (0..n)
            .map(|i| ClockWriter::new(NodeId(i as u32), n, key(i as u8 + 1)))
            .collect();
        let rx = ClockReceiver::new(
            n,
            (0..n).map(|i| (NodeId(i as u32), key(i as u8 + 1).verifying_key())),
        );
        (writers, rx)
    }

    fn nonce(i: u8) -> [u8; 16] {
        [i; 16]
    }

    #[test]
    fn compare_orders_and_detects_concurrency() {
        assert_eq!(compare(&[1, 0], &[1, 1]), Causality::Before);
        assert_eq!(compare(&[2, 1], &[1, 1]), Causality::After);
        assert_eq!(compare(&[1, 1], &[1, 1]), Causality::Equal);
        assert_eq!(compare(&[2, 0], &[1, 1]), Causality::Concurrent);
    }

    #[test]
    fn honest_history_is_accepted_and_concurrency_detected() {
        let (mut w, mut rx) = group(2);
        let a1 = w[0].tick(sha3_256(b"a1"), nonce(1));
        let b1 = w[1].tick(sha3_256(b"b1"), nonce(2));
        rx.accept(&a1).unwrap();
        assert_eq!(rx.accept(&b1).unwrap().causality, Causality::Concurrent);
        w[0].observe(&b1.vector);
        let a2 = w[0].tick(sha3_256(b"a2"), nonce(3));
        assert_eq!(a2.vector, vec![2, 1]);
        assert_eq!(rx.accept(&a2).unwrap().causality, Causality::After);
        assert_eq!(rx.known(), &[2, 1]);
    }

    #[test]
    fn forged_entries_are_rejected() {
        let (mut w, mut rx) = group(2);
        let mut e = w[0].tick(sha3_256(b"x"), nonce(1));
        // A tampered vector, payload or counter breaks the signature.
        let mut v = e.clone();
        v.vector[1] = 5;
        assert_eq!(rx.accept(&v), Err(ClockRejection::Forged));
        let mut p = e.clone();
        p.payload = sha3_256(b"y");
        assert_eq!(rx.accept(&p), Err(ClockRejection::Forged));
        // Signed by another node's key.
        let mut other = ClockWriter::new(NodeId(0), 2, key(99));
        let f = other.tick(sha3_256(b"x"), nonce(1));
        assert_eq!(rx.accept(&f), Err(ClockRejection::Forged));
        // Unknown node.
        e.node = NodeId(7);
        assert_eq!(rx.accept(&e), Err(ClockRejection::Unknown));
    }

    #[test]
    fn replayed_entries_are_rejected() {
        let (mut w, mut rx) = group(1);
        let e1 = w[0].tick(sha3_256(b"1"), nonce(1));
        rx.accept(&e1).unwrap();
        assert_eq!(rx.accept(&e1), Err(ClockRejection::Replayed));
    }

    #[test]
    fn reordered_entries_are_rejected_until_the_gap_fills() {
        let (mut w, mut rx) = group(1);
        let e1 = w[0].tick(sha3_256(b"1"), nonce(1));
        let e2 = w[0].tick(sha3_256(b"2"), nonce(2));
        assert_eq!(rx.accept(&e2), Err(ClockRejection::Reordered));
        rx.accept(&e1).unwrap();
        rx.accept(&e2).unwrap();
    }

    #[test]
    fn spliced_entries_are_rejected() {
        // The node's key signs two forks; the receiver follows fork A, fork B's next entry
        // (valid signature, right counter) does not chain onto it.
        let mut fork_a = ClockWriter::new(NodeId(0), 1, key(1));
        let mut fork_b = ClockWriter::new(NodeId(0), 1, key(1));
        let (_, mut rx) = group(1);
        let a1 = fork_a.tick(sha3_256(b"a"), nonce(1));
        let _b1 = fork_b.tick(sha3_256(b"b"), nonce(2));
        let b2 = fork_b.tick(sha3_256(b"b2"), nonce(3));
        rx.accept(&a1).unwrap();
        assert_eq!(rx.accept(&b2), Err(ClockRejection::Spliced));
    }

    #[test]
    fn reused_nonces_are_rejected() {
        let (mut w, mut rx) = group(1);
        rx.accept(&w[0].tick(sha3_256(b"1"), nonce(1))).unwrap();
        let again = w[0].tick(sha3_256(b"2"), nonce(1));
        assert_eq!(rx.accept(&again), Err(ClockRejection::NonceReused));
    }

    #[test]
    fn inconsistent_regressed_and_premature_entries_are_rejected() {
        let (mut w, mut rx) = group(2);
        // Node 0 claims to have seen node 1's event 3, which the receiver has not got.
        w[0].observe(&[0, 3]);
        let e = w[0].tick(sha3_256(b"p"), nonce(1));
        assert_eq!(rx.accept(&e), Err(ClockRejection::Premature));
        // A hand-built entry whose own coordinate disagrees with its counter.
        let k = key(1);
        let mut bad = ClockEntry {
            node: NodeId(0),
            counter: 1,
            vector: vec![2, 0],
            prev: genesis(NodeId(0)),
            nonce: nonce(9),
            payload: sha3_256(b"q"),
            signature: Signature::from_bytes(&[0; 64]),
        };
        bad.signature = k.sign(ClockEntry::TAG, &bad.signed_bytes());
        assert_eq!(rx.accept(&bad), Err(ClockRejection::Inconsistent));
        // Wrong dimension.
        bad.vector = vec![1];
        assert_eq!(rx.accept(&bad), Err(ClockRejection::Dimension));
        // Regression: a second entry whose vector forgets what the first one had seen.
        let (mut w2, mut rx2) = group(2);
        let b1 = w2[1].tick(sha3_256(b"b"), nonce(1));
        rx2.accept(&b1).unwrap();
        w2[0].observe(&b1.vector);
        let a1 = w2[0].tick(sha3_256(b"a1"), nonce(2));
        rx2.accept(&a1).unwrap();
        let mut a2 = ClockEntry {
            node: NodeId(0),
            counter: 2,
            vector: vec![2, 0],
            prev: a1.hash(),
            nonce: nonce(3),
            payload: sha3_256(b"a2"),
            signature: Signature::from_bytes(&[0; 64]),
        };
        a2.signature = k.sign(ClockEntry::TAG, &a2.signed_bytes());
        assert_eq!(rx2.accept(&a2), Err(ClockRejection::Regressed));
    }

    #[test]
    fn entries_and_writer_state_round_trip() {
        let mut w = ClockWriter::new(NodeId(1), 3, key(2));
        w.observe(&[4, 0, 1]);
        let e = w.tick(sha3_256(b"x"), nonce(5));
        let bytes = e.to_bytes();
        assert_eq!(ClockEntry::from_bytes(&bytes).unwrap(), e);
        let mut long = bytes.clone();
        long.push(0);
        assert!(ClockEntry::from_bytes(&long).is_err());
        assert!(ClockEntry::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        // A resumed writer continues the chain: the next entry follows on from `e`.
        let mut r = ClockWriter::resume(NodeId(1), 3, key(2), &w.state()).unwrap();
        assert!(ClockWriter::resume(NodeId(2), 3, key(2), &w.state()).is_err());
        assert!(ClockWriter::resume(NodeId(1), 4, key(2), &w.state()).is_err());
        let next = r.tick(sha3_256(b"y"), nonce(6));
        assert_eq!(next.counter, e.counter + 1);
        assert_eq!(next.prev, e.hash());
    }

    fn sub_group(n: usize) -> (Vec<ClockWriter>, SubsequenceReceiver) {
        let writers: Vec<ClockWriter> = (0..n)
            .map(|i| ClockWriter::new(NodeId(i as u32), n, key(i as u8 + 1)))
            .collect();
        let rx = SubsequenceReceiver::new(
            n,
            (0..n).map(|i| (NodeId(i as u32), key(i as u8 + 1).verifying_key())),
        );
        (writers, rx)
    }

    #[test]
    fn subsequence_receiver_accepts_gaps_and_refuses_forged_replayed_reordered_spliced() {
        let (mut w, mut rx) = sub_group(3);
        // Node 1 has seen events of node 2 that this receiver never will: no stall.
        w[1].observe(&[0, 0, 9]);
        let e1 = w[1].tick(sha3_256(b"1"), nonce(1));
        rx.accept(&e1).unwrap();
        assert!(rx.is_last(&e1));
        assert_eq!(rx.accept(&e1), Err(ClockRejection::Replayed));
        let _to_someone_else = w[1].tick(sha3_256(b"2"), nonce(2));
        let e3 = w[1].tick(sha3_256(b"3"), nonce(3));
        let e4 = w[1].tick(sha3_256(b"4"), nonce(4));
        // A gap (entry 2 went to another node) is accepted; the next one must chain on.
        rx.accept(&e3).unwrap();
        assert!(!rx.is_last(&e1));
        let mut forged = e4.clone();
        forged.payload = sha3_256(b"other");
        assert_eq!(rx.accept(&forged), Err(ClockRejection::Forged));
        rx.accept(&e4).unwrap();
        assert_eq!(rx.accept(&e3), Err(ClockRejection::Reordered));
        assert_eq!(rx.counter(NodeId(1)), 4);
        // A fork signed with the same key does not chain onto what was accepted.
        let mut fork = ClockWriter::resume(NodeId(1), 3, key(2), &w[1].state()).unwrap();
        let f5 = fork.tick(sha3_256(b"f"), nonce(5));
        let mut other = ClockWriter::new(NodeId(1), 3, key(2));
        for k in 0..4 {
            other.tick(sha3_256(&[k]), nonce(20 + k));
        }
        let spliced = other.tick(sha3_256(b"s"), nonce(30));
        assert_eq!(rx.accept(&spliced), Err(ClockRejection::Spliced));
        rx.accept(&f5).unwrap();
        // The state survives a restart: a replay after it is still refused.
        let state = rx.state();
        let keys = (0..3).map(|i| (NodeId(i as u32), key(i as u8 + 1).verifying_key()));
        let mut again = SubsequenceReceiver::resume(3, keys, &state).unwrap();
        assert_eq!(again.accept(&e4), Err(ClockRejection::Reordered));
        assert_eq!(again.accept(&f5), Err(ClockRejection::Replayed));
        assert!(again.is_last(&f5));
        let keys = (0..3).map(|i| (NodeId(i as u32), key(i as u8 + 1).verifying_key()));
        assert!(SubsequenceReceiver::resume(4, keys, &state).is_err());
        // Unknown node, wrong dimension.
        let mut stranger = ClockWriter::new(NodeId(7), 3, key(8));
        assert_eq!(
            rx.accept(&stranger.tick(sha3_256(b"z"), nonce(9))),
            Err(ClockRejection::Unknown)
        );
        let mut wide = ClockWriter::new(NodeId(0), 4, key(1));
        assert_eq!(
            rx.accept(&wide.tick(sha3_256(b"z"), nonce(9))),
            Err(ClockRejection::Dimension)
        );
    }
}
