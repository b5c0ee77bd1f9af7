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
}
