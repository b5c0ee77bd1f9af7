//! `toolcap audit`: the command-line contract, run against the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should stop it loudly

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn toolcap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolcap"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = toolcap(args);
    assert!(
        out.status.success(),
        "toolcap {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = toolcap(args);
    assert!(!out.status.success(), "toolcap {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// init, append in every form, checkpoint, prove, consistency, verify, offline verify-proof.
mod contract {
    use super::*;

    #[test]
    fn end_to_end() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let d = s(&dir);
        let init = ok(&["audit", "init", "--dir", d, "--origin", "example.com/audit"]);
        assert!(
            init.contains("hash sha3-256") && init.contains("public key "),
            "{init}"
        );
        let pubkey = init
            .lines()
            .find_map(|l| l.strip_prefix("public key "))
            .unwrap()
            .to_owned();
        let vkey = init
            .lines()
            .find_map(|l| l.strip_prefix("verifier key "))
            .unwrap()
            .to_owned();

        assert_eq!(
            ok(&["audit", "append", "--dir", d, "--data", "deny rm -rf /"]),
            "0\n"
        );
        assert_eq!(ok(&["audit", "append", "--dir", d, "--hex", "00ff"]), "1\n");
        let f = tmp.path().join("leaf.bin");
        std::fs::write(&f, b"file leaf\nwith two lines").unwrap();
        assert_eq!(ok(&["audit", "append", "--dir", d, "--file", s(&f)]), "2\n");
        let lines = tmp.path().join("lines.txt");
        std::fs::write(&lines, "a\nb\nc\n").unwrap();
        assert_eq!(
            ok(&["audit", "append", "--dir", d, "--lines", s(&lines)]),
            "3\n4\n5\n"
        );

        let cp1: serde_json::Value =
            serde_json::from_str(&ok(&["audit", "checkpoint", "--dir", d, "--json"])).unwrap();
        assert_eq!(cp1["size"], 6);
        assert_eq!(cp1["root_hex"].as_str().unwrap().len(), 64);
        let note1 = cp1["checkpoint"].as_str().unwrap();
        assert!(note1.starts_with("example.com/audit\n6\n"), "{note1}");
        assert!(note1.contains("\n\n\u{2014} example.com/audit "), "{note1}");
        let cp1_file = tmp.path().join("cp1");
        std::fs::write(&cp1_file, note1).unwrap();

        assert_eq!(
            ok(&["audit", "append", "--dir", d, "--data", "later"]),
            "6\n"
        );
        let note2 = ok(&["audit", "checkpoint", "--dir", d]);
        assert!(note2.starts_with("example.com/audit\n7\n"), "{note2}");
        let cp2_file = tmp.path().join("cp2");
        std::fs::write(&cp2_file, &note2).unwrap();

        // Inclusion, JSON and text forms, checked offline against the checkpoint.
        let proof: serde_json::Value = serde_json::from_str(&ok(&[
            "audit", "prove", "--dir", d, "--index", "0", "--size", "6", "--json",
        ]))
        .unwrap();
        assert_eq!(proof["root_hex"], cp1["root_hex"]);
        let pf = tmp.path().join("proof.json");
        std::fs::write(&pf, proof.to_string()).unwrap();
        let vp = [
            "audit",
            "verify-proof",
            "--checkpoint",
            s(&cp1_file),
            "--proof",
            s(&pf),
        ];
        let good = ok(&[&vp[..], &["--key", &pubkey, "--leaf", "deny rm -rf /"]].concat());
        assert!(good.starts_with("ok:"), "{good}");
        ok(&[&vp[..], &["--key", &vkey]].concat());
        let err = fails(&[&vp[..], &["--key", &pubkey, "--leaf", "allow rm -rf /"]].concat());
        assert!(err.contains("does not verify"), "{err}");
        let other = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        let err = fails(&[&vp[..], &["--key", other]].concat());
        assert!(err.contains("signature"), "{err}");
        let err = fails(&[
            "audit",
            "verify-proof",
            "--checkpoint",
            s(&cp2_file),
            "--proof",
            s(&pf),
            "--key",
            &pubkey,
        ]);
        assert!(err.contains("size 6") && err.contains("7"), "{err}");

        let text = ok(&["audit", "prove", "--dir", d, "--index", "6"]);
        let pt = tmp.path().join("proof.txt");
        std::fs::write(&pt, text).unwrap();
        ok(&[
            "audit",
            "verify-proof",
            "--checkpoint",
            s(&cp2_file),
            "--proof",
            s(&pt),
            "--key",
            &pubkey,
            "--leaf",
            "later",
        ]);

        // Consistency between the two checkpoints.
        let cons = ok(&[
            "audit",
            "consistency",
            "--dir",
            d,
            "--from",
            "6",
            "--to",
            "7",
            "--json",
        ]);
        let cf = tmp.path().join("cons.json");
        std::fs::write(&cf, cons).unwrap();
        let args = [
            "audit",
            "verify-proof",
            "--checkpoint",
            s(&cp2_file),
            "--old-checkpoint",
            s(&cp1_file),
            "--proof",
            s(&cf),
            "--key",
            &pubkey,
        ];
        assert!(ok(&args).starts_with("ok:"));
        let err = fails(&[
            "audit",
            "verify-proof",
            "--checkpoint",
            s(&cp1_file),
            "--old-checkpoint",
            s(&cp2_file),
            "--proof",
            s(&cf),
            "--key",
            &pubkey,
        ]);
        assert!(err.contains("sizes"), "{err}");

        let v = ok(&["audit", "verify", "--dir", d]);
        assert!(v.starts_with("ok: 7 leaves, 2 checkpoints"), "{v}");

        // Out-of-range requests and bad input are errors, not panics.
        fails(&["audit", "prove", "--dir", d, "--index", "7"]);
        fails(&[
            "audit",
            "consistency",
            "--dir",
            d,
            "--from",
            "0",
            "--to",
            "7",
        ]);
        assert_eq!(
            toolcap(&["audit", "append", "--dir", d, "--hex", "zz"])
                .status
                .code(),
            Some(2)
        );
        assert_eq!(
            toolcap(&["audit", "append", "--dir", d]).status.code(),
            Some(2)
        );
        fails(&["audit", "init", "--dir", d]);
    }

    #[test]
    fn sha256_logs_and_key_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let d = s(&dir);
        ok(&["audit", "init", "--dir", d, "--hash", "sha256"]);
        // The RFC 6962 reference tree: its root is known (shared/vectors/rfc6962/README.md).
        for h in [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
        ] {
            if h.is_empty() {
                let f = tmp.path().join("empty");
                std::fs::write(&f, b"").unwrap();
                ok(&["audit", "append", "--dir", d, "--file", s(&f)]);
            } else {
                ok(&["audit", "append", "--dir", d, "--hex", h]);
            }
        }
        ok(&[
            "audit",
            "append",
            "--dir",
            d,
            "--hex",
            "606162636465666768696a6b6c6d6e6f",
        ]);
        let cp: serde_json::Value =
            serde_json::from_str(&ok(&["audit", "checkpoint", "--dir", d, "--json"])).unwrap();
        assert_eq!(
            cp["root_hex"],
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );

        use std::os::unix::fs::PermissionsExt as _;
        let key = dir.join("signing.key");
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = fails(&["audit", "checkpoint", "--dir", d]);
        assert!(err.contains("readable by group or others"), "{err}");
        std::fs::remove_file(&key).unwrap();
        let err = fails(&["audit", "checkpoint", "--dir", d]);
        assert!(err.contains("missing"), "{err}");
    }
}

/// SIGKILL the writer at random moments, over and over; nothing acknowledged may be lost.
mod crash {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::Read as _;
    use std::time::{Duration, Instant, SystemTime};
    use toolcap_audit::{Hash, HashAlg, Log, verify_consistency};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*: only for choosing when to kill.
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn sigkill_loses_nothing_acknowledged() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let d = s(&dir);
        ok(&["audit", "init", "--dir", d]);
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("crash test seed {seed}");
        let mut rng = Rng(seed);
        let mut acked: BTreeMap<u64, String> = BTreeMap::new();
        let mut acked_checkpoints: Vec<(u64, Hash)> = Vec::new();
        let (mut kills, mut completed) = (0, 0);
        let started = Instant::now();
        for round in 0..120u64 {
            let batch = tmp.path().join("batch");
            let is_checkpoint = round % 6 == 5;
            let lines: Vec<String> = (0..1 + rng.next() % 300)
                .map(|j| format!("round {round} line {j}"))
                .collect();
            if !is_checkpoint {
                std::fs::write(&batch, lines.join("\n") + "\n").unwrap();
            }
            let args: Vec<&str> = if is_checkpoint {
                vec!["audit", "checkpoint", "--dir", d, "--json"]
            } else {
                vec!["audit", "append", "--dir", d, "--lines", s(&batch)]
            };
            let mut child = Command::new(env!("CARGO_BIN_EXE_toolcap"))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_micros(rng.next() % 40_000));
            // Child::kill sends SIGKILL on Unix.
            if child.kill().is_ok() {
                kills += 1;
            }
            let status = child.wait().unwrap();
            if status.success() {
                completed += 1;
            }
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            // Only whole lines count as acknowledged.
            let whole = &out[..out.rfind('\n').map_or(0, |i| i + 1)];
            if is_checkpoint {
                if let Some(line) = whole.lines().next() {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    let root = Hash::from_hex(v["root_hex"].as_str().unwrap()).unwrap();
                    acked_checkpoints.push((v["size"].as_u64().unwrap(), root));
                }
            } else {
                for (j, idx) in whole.lines().enumerate() {
                    acked.insert(idx.parse().unwrap(), lines[j].clone());
                }
            }
        }
        assert!(kills >= 100, "only {kills} writers were killed");
        assert!(
            !acked.is_empty(),
            "no append was acknowledged before its kill"
        );
        // Restart: a writer recovers any torn tail, then everything must verify.
        let last = ok(&["audit", "checkpoint", "--dir", d, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&last).unwrap();
        acked_checkpoints.push((
            v["size"].as_u64().unwrap(),
            Hash::from_hex(v["root_hex"].as_str().unwrap()).unwrap(),
        ));
        let verify = ok(&["audit", "verify", "--dir", d]);
        eprintln!(
            "{kills} kills, {completed} completed, {} acked leaves, {} acked checkpoints, {:?}: {verify}",
            acked.len(),
            acked_checkpoints.len(),
            started.elapsed()
        );
        let log = Log::open_read(&dir).unwrap();
        for (&i, data) in &acked {
            assert_eq!(
                log.leaf_data(i).unwrap(),
                data.as_bytes(),
                "acknowledged leaf {i}"
            );
        }
        let stored: Vec<(u64, Hash)> = log
            .checkpoints()
            .iter()
            .map(|c| (c.checkpoint.size, c.checkpoint.root))
            .collect();
        for cp in &acked_checkpoints {
            assert!(stored.contains(cp), "acknowledged checkpoint {cp:?} lost");
            assert_eq!(log.tree().root_at(cp.0).unwrap(), cp.1);
        }
        // Every pair of stored checkpoints is consistent (RFC 9162 §2.1.4.2 verifier).
        for (i, a) in stored.iter().enumerate() {
            for b in &stored[i..] {
                if a.0 == 0 {
                    continue;
                }
                let p = log.consistency_proof(a.0, b.0).unwrap();
                verify_consistency(HashAlg::Sha3_256, a.0, b.0, &a.1.0, &b.1.0, &p).unwrap();
            }
        }
    }
}

/// A changed byte anywhere in the log directory is caught by `verify`, named by file.
mod tamper {
    use super::*;

    #[test]
    fn verify_names_the_damaged_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let d = s(&dir);
        ok(&["audit", "init", "--dir", d]);
        ok(&["audit", "append", "--dir", d, "--data", "one"]);
        ok(&["audit", "checkpoint", "--dir", d]);
        ok(&["audit", "append", "--dir", d, "--data", "two"]);
        ok(&["audit", "checkpoint", "--dir", d]);
        ok(&["audit", "verify", "--dir", d]);
        // A sample of positions per file through the CLI; every byte is flipped in the
        // library's integration test.
        for name in [
            "leaves.dat",
            "checkpoints.dat",
            "config",
            "signing.pub",
            "signing.key",
        ] {
            let path = dir.join(name);
            let good = std::fs::read(&path).unwrap();
            for i in [0, good.len() / 2, good.len() - 1] {
                let mut bad = good.clone();
                bad[i] ^= 0x01;
                std::fs::write(&path, &bad).unwrap();
                let err = fails(&["audit", "verify", "--dir", d]);
                assert!(err.contains(name) || name == "config", "{name}[{i}]: {err}");
                std::fs::write(&path, &good).unwrap();
            }
        }
        ok(&["audit", "verify", "--dir", d]);
    }
}
