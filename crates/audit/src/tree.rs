//! The Merkle tree of RFC 9162 §2.1 (same as RFC 6962 §2.1), generic over the hash. Pure: no I/O.
//!
//! [`Tree`] keeps the hash of every complete, aligned subtree (level `l`, position `j` covers
//! leaves `[j·2^l, (j+1)·2^l)`): about two hashes per leaf. Appending costs amortised one node
//! hash; the root of any earlier size and every proof needs only O(log n) lookups and at most a
//! few dozen hashes for the ragged right edge, whatever the size.

use toolcap_crypto::{Hash, HashAlg};

use crate::error::{Error, Result};

/// RFC 9162 §2.1.1: the leaf hash `HASH(0x00 || d)`.
pub fn leaf_hash(alg: HashAlg, data: &[u8]) -> Hash {
    alg.digest_parts(&[&[0x00], data])
}

/// RFC 9162 §2.1.1: the interior node hash `HASH(0x01 || left || right)`.
pub fn node_hash(alg: HashAlg, left: &Hash, right: &Hash) -> Hash {
    alg.digest_parts(&[&[0x01], &left.0, &right.0])
}

/// RFC 9162 §2.1.1: the hash of the empty tree, `HASH()`.
pub fn empty_root(alg: HashAlg) -> Hash {
    alg.digest(b"")
}

/// The largest power of two strictly smaller than `n` (`n >= 2`): RFC 9162 §2.1.1's split `k`.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// An append-only Merkle tree over leaf hashes, with every complete subtree hash kept.
#[derive(Debug, Clone)]
pub struct Tree {
    alg: HashAlg,
    // levels[0] are the leaf hashes; levels[l+1].len() == levels[l].len() / 2 always.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// An empty tree.
    pub fn new(alg: HashAlg) -> Self {
        Tree {
            alg,
            levels: vec![Vec::new()],
        }
    }

    /// A tree over existing leaf hashes, computing every interior node once.
    pub fn from_leaf_hashes(alg: HashAlg, leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while let Some(below) = levels.last().filter(|b| b.len() >= 2) {
            let above: Vec<Hash> = below
                .chunks_exact(2)
                .map(|p| node_hash(alg, &p[0], &p[1]))
                .collect();
            levels.push(above);
        }
        Tree { alg, levels }
    }

    /// The hash algorithm.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// All leaf hashes, in order.
    pub fn leaf_hashes(&self) -> &[Hash] {
        &self.levels[0]
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels[0].get(i).copied())
    }

    /// Appends a leaf hash (see [`leaf_hash`]) and returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        self.levels[0].push(leaf);
        let mut l = 0;
        while self.levels[l].len().is_multiple_of(2) {
            let n = self.levels[l].len();
            let node = node_hash(self.alg, &self.levels[l][n - 2], &self.levels[l][n - 1]);
            if self.levels.len() == l + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[l + 1].push(node);
            l += 1;
        }
        index
    }

    /// Hashes `data` as a leaf, appends it and returns its index.
    pub fn push_data(&mut self, data: &[u8]) -> u64 {
        self.push(leaf_hash(self.alg, data))
    }

    /// The root of the current tree.
    pub fn root(&self) -> Hash {
        self.root_at(self.size())
            .unwrap_or_else(|_| empty_root(self.alg))
    }

    /// The root the tree had when it held `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        root_at(self, size)
    }

    /// RFC 9162 §2.1.3.1: the inclusion proof (audit path) of leaf `index` in the tree of
    /// `size` leaves, ordered from the leaf upwards.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        inclusion_proof(self, index, size)
    }

    /// RFC 9162 §2.1.4.1: the consistency proof between the trees of `old` and `new` leaves
    /// (`0 < old <= new <= size`; equal sizes give an empty proof).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        consistency_proof(self, old, new)
    }
}

impl Nodes for Tree {
    fn alg(&self) -> HashAlg {
        self.alg
    }
    fn size(&self) -> u64 {
        self.size()
    }
    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(level as usize)?.get(i).copied())
            .ok_or(Error::SizeOutOfRange {
                size: (index + 1) << level,
                tree_size: self.size(),
            })
    }
}

/// A source of complete, aligned subtree hashes: the in-memory [`Tree`] or a stored log's tree.
/// The RFC 9162 algorithms below are written once against it.
pub(crate) trait Nodes {
    /// The hash algorithm.
    fn alg(&self) -> HashAlg;
    /// Number of leaves.
    fn size(&self) -> u64;
    /// The hash of the complete subtree at `level` covering leaves
    /// `[index·2^level, (index+1)·2^level)`, which lie below `size()`.
    fn node(&self, level: u32, index: u64) -> Result<Hash>;
}

/// RFC 9162 §2.1.1 MTH(D[start:end]) for `start < end <= size`, `start` aligned as the
/// recursion of §2.1 only ever asks (a multiple of the largest power of two <= end - start).
fn subtree<N: Nodes + ?Sized>(t: &N, start: u64, end: u64) -> Result<Hash> {
    let len = end - start;
    if len.is_power_of_two() && start.is_multiple_of(len) {
        let level = len.trailing_zeros();
        return t.node(level, start >> level);
    }
    let k = split(len);
    let left = subtree(t, start, start + k)?;
    let right = subtree(t, start + k, end)?;
    Ok(node_hash(t.alg(), &left, &right))
}

/// The root the tree had when it held `size` leaves.
pub(crate) fn root_at<N: Nodes + ?Sized>(t: &N, size: u64) -> Result<Hash> {
    if size > t.size() {
        return Err(Error::SizeOutOfRange {
            size,
            tree_size: t.size(),
        });
    }
    if size == 0 {
        return Ok(empty_root(t.alg()));
    }
    subtree(t, 0, size)
}

/// RFC 9162 §2.1.3.1: the inclusion proof of leaf `index` in the tree of `size` leaves.
pub(crate) fn inclusion_proof<N: Nodes + ?Sized>(
    t: &N,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>> {
    if size > t.size() {
        return Err(Error::SizeOutOfRange {
            size,
            tree_size: t.size(),
        });
    }
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::with_capacity(64);
    path(t, index, 0, size, &mut proof)?;
    Ok(proof)
}

// PATH(m, D[start:end]) with m relative to start.
fn path<N: Nodes + ?Sized>(t: &N, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<()> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(t, m, start, start + k, out)?;
        out.push(subtree(t, start + k, end)?);
    } else {
        path(t, m - k, start + k, end, out)?;
        out.push(subtree(t, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.1: the consistency proof between the trees of `old` and `new` leaves.
pub(crate) fn consistency_proof<N: Nodes + ?Sized>(t: &N, old: u64, new: u64) -> Result<Vec<Hash>> {
    if new > t.size() {
        return Err(Error::SizeOutOfRange {
            size: new,
            tree_size: t.size(),
        });
    }
    if old == 0 || old > new {
        return Err(Error::SizeOutOfRange {
            size: old,
            tree_size: new,
        });
    }
    let mut proof = Vec::with_capacity(64);
    subproof(t, old, 0, new, true, &mut proof)?;
    Ok(proof)
}

// SUBPROOF(m, D[start:end], b) with m relative to start.
fn subproof<N: Nodes + ?Sized>(
    t: &N,
    m: u64,
    start: u64,
    end: u64,
    b: bool,
    out: &mut Vec<Hash>,
) -> Result<()> {
    let n = end - start;
    if m == n {
        if !b {
            out.push(subtree(t, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(t, m, start, start + k, b, out)?;
        out.push(subtree(t, start + k, end)?);
    } else {
        subproof(t, m - k, start + k, end, false, out)?;
        out.push(subtree(t, start, start + k)?);
    }
    Ok(())
}

fn shift_until_odd_or_zero(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// RFC 9162 §2.1.3.2: the root implied by an inclusion proof, or [`Error::InvalidProof`].
pub fn root_from_inclusion_proof(
    alg: HashAlg,
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash> {
    // 1. Compare leaf_index against tree_size.
    if index >= size {
        return Err(Error::InvalidProof);
    }
    // 2.-3.
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    // 4.
    for p in proof {
        // 4a.
        if sn == 0 {
            return Err(Error::InvalidProof);
        }
        // 4b.
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(alg, p, &r);
            if fn_ & 1 == 0 {
                shift_until_odd_or_zero(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(alg, &r, p);
        }
        // 4c.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. (the root comparison is the caller's)
    if sn != 0 {
        return Err(Error::InvalidProof);
    }
    Ok(r)
}

/// RFC 9162 §2.1.3.2: verifies that `leaf` is at `index` in the tree of `size` leaves whose root
/// is `root`. `root` is compared byte for byte (a root of the wrong length never matches).
pub fn verify_inclusion(
    alg: HashAlg,
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &[u8],
) -> Result<()> {
    let r = root_from_inclusion_proof(alg, index, size, leaf, proof)?;
    if r.0.as_slice() == root {
        Ok(())
    } else {
        Err(Error::InvalidProof)
    }
}

/// RFC 9162 §2.1.4.2: verifies that the tree of `old` leaves with root `old_root` is a prefix of
/// the tree of `new` leaves with root `new_root`.
///
/// Equal sizes need an empty proof and equal roots. A consistency proof from the empty tree is
/// not defined by RFC 9162 and is rejected (it would prove nothing).
pub fn verify_consistency(
    alg: HashAlg,
    old: u64,
    new: u64,
    old_root: &[u8],
    new_root: &[u8],
    proof: &[Hash],
) -> Result<()> {
    if old > new || old == 0 {
        return Err(Error::InvalidProof);
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(Error::InvalidProof)
        };
    }
    // 1. An empty consistency_path fails.
    let Some((first, rest)) = proof.split_first() else {
        return Err(Error::InvalidProof);
    };
    // 2. If first is an exact power of 2, prepend first_hash to the consistency_path.
    let (start, rest): (Hash, &[Hash]) = if old.is_power_of_two() {
        (
            Hash::from_slice(old_root).map_err(|_| Error::InvalidProof)?,
            proof,
        )
    } else {
        (*first, rest)
    };
    // 3.
    let (mut fn_, mut sn) = (old - 1, new - 1);
    // 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (start, start);
    // 6.
    for c in rest {
        // 6a.
        if sn == 0 {
            return Err(Error::InvalidProof);
        }
        // 6b.
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(alg, c, &fr);
            sr = node_hash(alg, c, &sr);
            if fn_ & 1 == 0 {
                shift_until_odd_or_zero(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(alg, &sr, c);
        }
        // 6c.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7.
    if fr.0.as_slice() == old_root && sr.0.as_slice() == new_root && sn == 0 {
        Ok(())
    } else {
        Err(Error::InvalidProof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // A naive reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 written as literally as possible.
    fn mth(alg: HashAlg, d: &[Vec<u8>]) -> Hash {
        match d.len() {
            0 => empty_root(alg),
            1 => leaf_hash(alg, &d[0]),
            n => {
                let k = split(n as u64) as usize;
                node_hash(alg, &mth(alg, &d[..k]), &mth(alg, &d[k..]))
            }
        }
    }
    fn path(alg: HashAlg, m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
        if d.len() <= 1 {
            return vec![];
        }
        let k = split(d.len() as u64) as usize;
        if m < k {
            let mut p = path(alg, m, &d[..k]);
            p.push(mth(alg, &d[k..]));
            p
        } else {
            let mut p = path(alg, m - k, &d[k..]);
            p.push(mth(alg, &d[..k]));
            p
        }
    }
    fn subproof(alg: HashAlg, m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![mth(alg, d)] };
        }
        let k = split(n as u64) as usize;
        if m <= k {
            let mut p = subproof(alg, m, &d[..k], b);
            p.push(mth(alg, &d[k..]));
            p
        } else {
            let mut p = subproof(alg, m - k, &d[k..], false);
            p.push(mth(alg, &d[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    #[test]
    fn rfc_reference_tree_root() {
        // The 8-leaf tree of the RFC 6962 test data (shared/vectors/rfc6962/README.md).
        let data: Vec<Vec<u8>> = [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|h| hex::decode(h).unwrap())
        .collect();
        let mut t = Tree::new(HashAlg::Sha256);
        for d in &data {
            t.push_data(d);
        }
        assert_eq!(
            t.root().to_hex(),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
        assert_eq!(
            empty_root(HashAlg::Sha256).to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn out_of_range_is_an_error() {
        let t = Tree::from_leaf_hashes(HashAlg::Sha3_256, vec![Hash::default(); 5]);
        assert!(t.inclusion_proof(5, 5).is_err());
        assert!(t.inclusion_proof(0, 6).is_err());
        assert!(t.consistency_proof(0, 5).is_err());
        assert!(t.consistency_proof(4, 3).is_err());
        assert!(t.root_at(6).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn matches_naive_reference(n in 1usize..48, sha2 in any::<bool>()) {
            let alg = if sha2 { HashAlg::Sha256 } else { HashAlg::Sha3_256 };
            let d = leaves(n);
            let mut t = Tree::new(alg);
            for x in &d { t.push_data(x); }
            let bulk = Tree::from_leaf_hashes(alg, t.leaf_hashes().to_vec());
            for size in 1..=n {
                let root = mth(alg, &d[..size]);
                prop_assert_eq!(t.root_at(size as u64).unwrap(), root);
                prop_assert_eq!(bulk.root_at(size as u64).unwrap(), root);
                let ms: Vec<usize> = if size == n { (0..size).collect() } else { vec![0, size / 2, size - 1] };
                for m in ms {
                    let p = t.inclusion_proof(m as u64, size as u64).unwrap();
                    prop_assert_eq!(&p, &path(alg, m, &d[..size]));
                    let leaf = leaf_hash(alg, &d[m]);
                    verify_inclusion(alg, m as u64, size as u64, &leaf, &p, &root.0).unwrap();
                }
                for old in 1..=size {
                    let p = t.consistency_proof(old as u64, size as u64).unwrap();
                    prop_assert_eq!(&p, &subproof(alg, old, &d[..size], true));
                    let r1 = mth(alg, &d[..old]);
                    verify_consistency(alg, old as u64, size as u64, &r1.0, &root.0, &p).unwrap();
                }
            }
        }

        #[test]
        fn tampered_proofs_fail(n in 2u64..200, a in any::<u64>(), b in any::<u64>(), bit in 0usize..256) {
            let alg = HashAlg::Sha3_256;
            let mut t = Tree::new(alg);
            for i in 0..n { t.push_data(&i.to_be_bytes()); }
            let (m, size) = (a % n, n);
            let root = t.root();
            let leaf = t.leaf(m).unwrap();
            let mut p = t.inclusion_proof(m, size).unwrap();
            if !p.is_empty() {
                let j = (b as usize) % p.len();
                p[j].0[bit / 8] ^= 1 << (bit % 8);
                prop_assert!(verify_inclusion(alg, m, size, &leaf, &p, &root.0).is_err());
            }
            let p = t.inclusion_proof(m, size).unwrap();
            prop_assert!(verify_inclusion(alg, (m + 1) % size, size, &leaf, &p, &root.0).is_err() || n == 1);
            let old = 1 + b % (n - 1);
            let mut c = t.consistency_proof(old, size).unwrap();
            let r1 = t.root_at(old).unwrap();
            verify_consistency(alg, old, size, &r1.0, &root.0, &c).unwrap();
            let j = (a as usize) % c.len();
            c[j].0[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_consistency(alg, old, size, &r1.0, &root.0, &c).is_err());
        }

        #[test]
        fn verifiers_never_panic(index: u64, size: u64, old: u64, proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70)) {
            let proof: Vec<Hash> = proof.into_iter().map(Hash).collect();
            let alg = HashAlg::Sha256;
            let _ = verify_inclusion(alg, index, size, &Hash::default(), &proof, &[0; 32]);
            let _ = verify_consistency(alg, old, size, &[0; 32], &[0; 32], &proof);
        }
    }
}
