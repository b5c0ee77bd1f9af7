//! Integration tests of `toolcap-audit`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should stop it loudly

/// The RFC 6962 inclusion and consistency vectors of transparency-dev/merkle, SHA-256.
mod rfc6962_vectors {
    use std::path::{Path, PathBuf};

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    use serde_json::Value;
    use toolcap_audit::{Hash, HashAlg, verify_consistency, verify_inclusion};

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/rfc6962"
    );

    fn files(sub: &str) -> Option<Vec<PathBuf>> {
        let root = Path::new(DIR).join(sub);
        if !root.is_dir() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{} is missing and CI=true",
                root.display()
            );
            eprintln!("SKIPPED: RFC 6962 vectors not found at {}", root.display());
            return None;
        }
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json") {
                    out.push(p);
                }
            }
        }
        out.sort();
        Some(out)
    }

    fn b64(v: &Value) -> Vec<u8> {
        B64.decode(v.as_str().unwrap_or("")).unwrap()
    }

    // A proof element that is not 32 bytes cannot be parsed into a proof: rejected before
    // verification, as a verifier must.
    fn proof(v: &Value) -> Option<Vec<Hash>> {
        match v {
            Value::Null => Some(Vec::new()),
            Value::Array(items) => items
                .iter()
                .map(|x| Hash::from_slice(&b64(x)).ok())
                .collect(),
            _ => panic!("proof is neither null nor an array"),
        }
    }

    fn json(p: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn inclusion() {
        let Some(files) = files("inclusion") else {
            return;
        };
        assert!(
            files.len() > 50,
            "expected the full vector set, found {}",
            files.len()
        );
        let (mut ok, mut rejected) = (0, 0);
        for f in &files {
            let v = json(f);
            let want_err = v["wantErr"].as_bool().unwrap();
            let leaf = Hash::from_slice(&b64(&v["leafHash"])).ok();
            let result = match (leaf, proof(&v["proof"])) {
                (Some(leaf), Some(p)) => verify_inclusion(
                    HashAlg::Sha256,
                    v["leafIdx"].as_u64().unwrap(),
                    v["treeSize"].as_u64().unwrap(),
                    &leaf,
                    &p,
                    &b64(&v["root"]),
                )
                .is_ok(),
                _ => false,
            };
            assert_eq!(result, !want_err, "{}", f.display());
            if want_err { rejected += 1 } else { ok += 1 }
        }
        eprintln!("inclusion vectors: {ok} accepted, {rejected} rejected");
        assert!(ok > 0 && rejected > 0);
    }

    #[test]
    fn consistency() {
        let Some(files) = files("consistency") else {
            return;
        };
        assert!(
            files.len() > 50,
            "expected the full vector set, found {}",
            files.len()
        );
        let (mut ok, mut rejected) = (0, 0);
        for f in &files {
            let v = json(f);
            let want_err = v["wantErr"].as_bool().unwrap();
            let result = match proof(&v["proof"]) {
                Some(p) => verify_consistency(
                    HashAlg::Sha256,
                    v["size1"].as_u64().unwrap(),
                    v["size2"].as_u64().unwrap(),
                    &b64(&v["root1"]),
                    &b64(&v["root2"]),
                    &p,
                )
                .is_ok(),
                None => false,
            };
            assert_eq!(result, !want_err, "{}", f.display());
            if want_err { rejected += 1 } else { ok += 1 }
        }
        eprintln!("consistency vectors: {ok} accepted, {rejected} rejected");
        assert!(ok > 0 && rejected > 0);
    }
}

/// Every byte of a small log, flipped in turn, is caught by `verify_dir` with the file named.
mod tamper {
    use std::fs;

    use toolcap_audit::{HashAlg, Log, verify_dir};
    use toolcap_crypto::SigningKey;

    #[test]
    fn every_flipped_byte_is_detected() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let key = SigningKey::from_seed(&[42; 32]);
        let mut log =
            Log::create_with_key(&dir, HashAlg::Sha3_256, "test.local/log", &key).unwrap();
        log.append_batch(&[b"alpha", b"", b"gamma"]).unwrap();
        log.checkpoint(&key).unwrap();
        log.append(b"delta").unwrap();
        log.checkpoint(&key).unwrap();
        drop(log);
        verify_dir(&dir).unwrap();
        let mut checked = 0;
        for name in [
            "leaves.dat",
            "checkpoints.dat",
            "config",
            "signing.pub",
            "signing.key",
        ] {
            let path = dir.join(name);
            let good = fs::read(&path).unwrap();
            for i in 0..good.len() {
                for mask in [0x01u8, 0x80] {
                    let mut bad = good.clone();
                    bad[i] ^= mask;
                    fs::write(&path, &bad).unwrap();
                    let err =
                        verify_dir(&dir).expect_err(&format!("{name}[{i}]^{mask:#x} undetected"));
                    let msg = err.to_string();
                    // A changed config origin shows up as checkpoints signed for another name.
                    assert!(
                        msg.contains(name) || name == "config" && msg.contains("checkpoints.dat"),
                        "{name}[{i}]: {msg}"
                    );
                    checked += 1;
                }
            }
            fs::write(&path, &good).unwrap();
        }
        verify_dir(&dir).unwrap();
        eprintln!("{checked} single-byte changes, all detected");
    }

    #[test]
    fn truncation_and_deleted_records_are_detected() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let key = SigningKey::from_seed(&[43; 32]);
        let mut log = Log::create_with_key(&dir, HashAlg::Sha256, "t", &key).unwrap();
        log.append_batch(&[b"a", b"b", b"c"]).unwrap();
        log.checkpoint(&key).unwrap();
        drop(log);
        let path = dir.join("leaves.dat");
        let good = fs::read(&path).unwrap();
        // Remove the last whole record (4 + 1 + 32 bytes): the checkpoint no longer matches.
        fs::write(&path, &good[..good.len() - 37]).unwrap();
        let msg = verify_dir(&dir).unwrap_err().to_string();
        assert!(
            msg.contains("checkpoint 0 covers 3 leaves but only 2"),
            "{msg}"
        );
        assert!(
            Log::open(&dir).is_err(),
            "a writer must not accept a log shorter than a checkpoint"
        );
        fs::write(&path, &good).unwrap();
        verify_dir(&dir).unwrap();
    }
}

/// The stored tree (`tree.dat`, `index.dat`) gives exactly the in-memory tree's roots and proofs,
/// and any damage to those cache files is repaired on open from the records.
mod stored_tree {
    use std::fs;

    use proptest::prelude::*;
    use toolcap_audit::{HashAlg, Log, Tree, verify_dir};
    use toolcap_crypto::SigningKey;

    fn check(log: &Log, mem: &Tree, data: &[Vec<u8>], probe: u64) {
        let n = mem.size();
        let t = log.tree();
        assert_eq!(t.size(), n);
        assert_eq!(t.root(), mem.root());
        for size in [1, n / 2 + 1, n.saturating_sub(1).max(1), n] {
            assert_eq!(t.root_at(size).unwrap(), mem.root_at(size).unwrap());
            let i = probe % size;
            assert_eq!(
                t.inclusion_proof(i, size).unwrap(),
                mem.inclusion_proof(i, size).unwrap()
            );
            let old = 1 + probe % size;
            assert_eq!(
                t.consistency_proof(old, size).unwrap(),
                mem.consistency_proof(old, size).unwrap()
            );
        }
        let i = probe % n;
        assert_eq!(t.leaf(i).unwrap(), mem.leaf(i).unwrap());
        assert_eq!(log.leaf_data(i).unwrap(), data[i as usize]);
        assert_eq!(log.leaf_data(n - 1).unwrap(), data[n as usize - 1]);
        assert!(log.leaf_data(n).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn matches_memory_and_survives_cache_damage(
            batches in proptest::collection::vec(1usize..400, 1..8),
            probe: u64,
            damage in 0u8..5,
            at: u64,
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("log");
            let key = SigningKey::from_seed(&[9; 32]);
            let alg = HashAlg::Sha3_256;
            let mut log = Log::create_with_key(&dir, alg, "t", &key).unwrap();
            let mut mem = Tree::new(alg);
            let mut data: Vec<Vec<u8>> = Vec::new();
            for b in &batches {
                let items: Vec<Vec<u8>> =
                    (0..*b).map(|i| format!("leaf {} {i}", data.len()).into_bytes()).collect();
                let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
                log.append_batch(&refs).unwrap();
                for d in items {
                    mem.push_data(&d);
                    data.push(d);
                }
                check(&log, &mem, &data, probe);
            }
            log.checkpoint(&key).unwrap();
            drop(log);
            for name in ["tree.dat", "index.dat"] {
                let path = dir.join(name);
                let mut bytes = fs::read(&path).unwrap();
                match damage {
                    0 => { let j = (at as usize) % bytes.len(); bytes[j] ^= 0x10; }
                    1 => bytes.truncate((at as usize) % bytes.len()),
                    2 => bytes.extend_from_slice(&[0xAB; 77]),
                    3 => bytes.clear(),
                    _ => {}
                }
                if damage == 4 { fs::remove_file(&path).unwrap(); } else { fs::write(&path, &bytes).unwrap(); }
            }
            // A reader works around the damage without writing; a writer repairs it.
            let ro = Log::open_read(&dir).unwrap();
            check(&ro, &mem, &data, probe);
            drop(ro);
            let log = Log::open(&dir).unwrap();
            check(&log, &mem, &data, probe);
            drop(log);
            let n = mem.size();
            prop_assert_eq!(
                fs::metadata(dir.join("tree.dat")).unwrap().len(),
                (2 * n - u64::from(n.count_ones())) * 32
            );
            prop_assert_eq!(fs::metadata(dir.join("index.dat")).unwrap().len(), n * 8);
            prop_assert_eq!(verify_dir(&dir).unwrap().root, mem.root());
        }
    }

    /// A crash after the caches were written but before the records were: the caches run ahead
    /// of `leaves.dat` and the torn record tail; opening cuts both back to the records.
    #[test]
    fn caches_ahead_of_a_torn_tail_are_cut_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let key = SigningKey::from_seed(&[10; 32]);
        let alg = HashAlg::Sha256;
        let mut log = Log::create_with_key(&dir, alg, "t", &key).unwrap();
        let items: Vec<Vec<u8>> = (0..300).map(|i| vec![i as u8; i % 7]).collect();
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        log.append_batch(&refs[..200]).unwrap();
        let root200 = log.tree().root();
        let leaves_len = fs::metadata(dir.join("leaves.dat")).unwrap().len();
        log.append_batch(&refs[200..]).unwrap();
        drop(log);
        // Tear the second batch inside its first record; its cache entries stay.
        let path = dir.join("leaves.dat");
        let full = fs::read(&path).unwrap();
        fs::write(&path, &full[..leaves_len as usize + 3]).unwrap();
        let mut log = Log::open(&dir).unwrap();
        assert_eq!(log.size(), 200);
        assert_eq!(log.tree().root(), root200);
        assert_eq!(fs::metadata(&path).unwrap().len(), leaves_len);
        assert_eq!(fs::metadata(dir.join("index.dat")).unwrap().len(), 200 * 8);
        // Appending again gives the same tree as if the torn batch had never been written.
        log.append_batch(&refs[200..]).unwrap();
        let mut mem = Tree::new(alg);
        for d in &items {
            mem.push_data(d);
        }
        assert_eq!(log.tree().root(), mem.root());
        assert_eq!(
            log.tree().inclusion_proof(250, 300).unwrap(),
            mem.inclusion_proof(250, 300).unwrap()
        );
        assert_eq!(log.leaf_data(299).unwrap(), items[299]);
        drop(log);
        verify_dir(&dir).unwrap();
    }
}
