//! RFC 6962 Merkle tree hashing over the children's summary hashes.
//!
//! RFC 6962 §2.1: `MTH({}) = HASH()`, `MTH({d0}) = HASH(0x00 || d0)`, and for `n > 1`, with `k`
//! the largest power of two smaller than `n`,
//! `MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`. `HASH` is SHA3-256 here.

use toolcap_crypto::{Hash, HashAlg};

/// The RFC 6962 leaf hash of `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    HashAlg::Sha3_256.digest_parts(&[&[0x00], data])
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    HashAlg::Sha3_256.digest_parts(&[&[0x01], left.as_bytes(), right.as_bytes()])
}

/// The Merkle tree hash of the leaves whose data are `leaves` (here: 32-byte summary hashes).
pub fn root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return HashAlg::Sha3_256.digest(b"");
    }
    let hashed: Vec<Hash> = leaves.iter().map(|h| leaf_hash(h.as_bytes())).collect();
    subtree(&hashed)
}

fn subtree(hashes: &[Hash]) -> Hash {
    match hashes {
        [] => HashAlg::Sha3_256.digest(b""),
        [one] => *one,
        _ => {
            // Largest power of two strictly smaller than the length (RFC 6962 §2.1): the
            // highest power of two not above `len - 1`.
            let k = 1usize << (usize::BITS - 1 - (hashes.len() - 1).leading_zeros());
            let (l, r) = hashes.split_at(k);
            node_hash(&subtree(l), &subtree(r))
        }
    }
}

/// The root of the empty tree (what local nodes, whose inputs are agents, commit to).
pub fn empty_root() -> Hash {
    root(&[])
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
                    node_hash(&mth(&d[..k]), &mth(&d[k..]))
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
