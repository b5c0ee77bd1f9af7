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
