//! The RFC 9162 proof verifiers never panic on arbitrary sizes, indices and proof hashes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolcap_audit::{Hash, HashAlg, verify_consistency, verify_inclusion};

fuzz_target!(|data: &[u8]| {
    if data.len() < 24 {
        return;
    }
    let n = |i: usize| u64::from_be_bytes(data[i..i + 8].try_into().unwrap_or([0; 8]));
    let (a, b, c) = (n(0), n(8), n(16));
    let proof: Vec<Hash> = data[24..].chunks_exact(32).filter_map(|h| Hash::from_slice(h).ok()).collect();
    let root = [0u8; 32];
    let _ = verify_inclusion(HashAlg::Sha256, a, b, &Hash::default(), &proof, &root);
    let _ = verify_consistency(HashAlg::Sha3_256, c, b, &root, &root, &proof);
});
