//! RFC 6962 Merkle tree hashing over the children's summary hashes.
//!
//! RFC 6962 §2.1: `MTH({}) = HASH()`, `MTH({d0}) = HASH(0x00 || d0)`, and for `n > 1`, with `k`
//! the largest power of two smaller than `n`,
//! `MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`. `HASH` is SHA3-256 here.

use toolcap_crypto::{Hash, HashAlg};

/// The hash of the fleet's trees.
const ALG: HashAlg = HashAlg::Sha3_256;

/// The RFC 6962 leaf hash of `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    toolcap_audit::leaf_hash(ALG, data)
}

/// The Merkle tree hash of the leaves whose data are `leaves` (here: 32-byte summary hashes),
/// computed with the audit log's tree so both agree by construction.
pub fn root(leaves: &[Hash]) -> Hash {
    let hashed: Vec<Hash> = leaves.iter().map(|h| leaf_hash(h.as_bytes())).collect();
    toolcap_audit::Tree::from_leaf_hashes(ALG, hashed).root()
}

/// The root of the empty tree (what local nodes, whose inputs are agents, commit to).
pub fn empty_root() -> Hash {
    toolcap_audit::empty_root(ALG)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(leaves: &[Hash]) -> Hash {
        fn mth(d: &[Hash]) -> Hash {
            match d.len() {
                0 => HashAlg::Sha3_256.digest(b""),
                1 => leaf_hash(d[0].as_bytes()),
                n => {
                    let mut k = 1;
                    while k * 2 < n {
                        k *= 2;
                    }
                    toolcap_audit::node_hash(ALG, &mth(&d[..k]), &mth(&d[k..]))
                }
            }
        }
        mth(leaves)
    }

    #[test]
    fn matches_the_rfc_recursion() {
        let leaves: Vec<Hash> = (0..70u8).map(|i| Hash([i; 32])).collect();
        for n in 0..leaves.len() {
            assert_eq!(root(&leaves[..n]), naive(&leaves[..n]), "n = {n}");
        }
        assert_ne!(root(&leaves[..3]), root(&leaves[1..4]));
    }
}
