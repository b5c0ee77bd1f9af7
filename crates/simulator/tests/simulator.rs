//! Invariants of the fleet simulator, held at sizes that run fast in debug builds (the bench
//! and `toolcap simulate fleet` run the full scale).

#![allow(clippy::unwrap_used)] // reason: test helpers outside #[test] functions; a failure is a test failure

use toolcap_simulator::{Outcome, SimConfig, run};

fn sim(agents: u64, byzantine: f64, attack: &str, epochs: u32) -> Outcome {
    let cfg = SimConfig {
        agents,
        byzantine,
        attack: attack.into(),
        epochs,
        seed: 7,
        ..SimConfig::default()
    };
    run(&cfg).unwrap()
}

/// Within the fault bound (at most a quarter of every committee Byzantine).
mod within_bound {
    use super::*;

    #[test]
    fn no_attack_flags_no_honest_node() {
        let out = sim(20_000, 0.25, "none", 8);
        let r = &out.report;
        assert_eq!(r.finalized_epochs, 8, "{r:?}");
        assert_eq!((r.flagged_nodes, r.false_flags), (0, 0), "{r:?}");
        assert!(!r.detected && r.detection_epoch.is_none());
        assert!(out.evidence.is_empty() && out.alarms.is_empty());
        assert!(r.global_bias_sigma.unwrap() <= 0.1);
    }

    fn holds(attack: &str, epochs: u32) -> Outcome {
        let out = sim(20_000, 0.25, attack, epochs);
        let r = &out.report;
        assert_eq!(r.finalized_epochs, epochs, "{r:?}");
        assert_eq!(r.degraded_epochs, 0, "{r:?}");
        assert_eq!(r.silent_poisoned_epochs, 0, "{r:?}");
        let bias = r.global_bias_sigma.unwrap();
        assert!(
            bias <= out.bias_bound && bias <= 0.1,
            "{bias} {}",
            out.bias_bound
        );
        assert!(r.detected);
        // Every attacker flagged, no honest node.
        assert_eq!(r.false_flags, 0, "{r:?}");
        assert_eq!(r.flagged_nodes, out.byzantine.len() as u64, "{r:?}");
        assert!(out.byzantine.iter().all(|n| out.flagged.contains_key(n)));
        out
    }

    #[test]
    fn tree_poisoning_is_bounded_and_flagged() {
        let out = holds("tree-poisoning", 6);
        // Rejections, caps and proofs were all signed into the audit log.
        assert_eq!(out.audit.size(), out.evidence.len() as u64);
        for e in out.evidence.iter().take(50) {
            e.verify(&out.membership).unwrap();
        }
    }

    #[test]
    fn sleepers_are_bounded_and_flagged() {
        let out = holds("sub-threshold", 12);
        // The sleepers are found by drift, after they start (warm-up is 3 epochs).
        assert!(out.flagged.values().all(|&e| e >= 3), "{:?}", out.flagged);
        assert!(
            out.evidence
                .iter()
                .any(|e| e.record.kind == toolcap_fleet::EvidenceKind::Drift)
        );
    }
}

/// Beyond the fault bound: never silently poisoned (the bias holds or the epoch is degraded).
mod beyond_bound {
    use super::*;

    #[test]
    fn never_silently_poisoned() {
        for attack in ["tree-poisoning", "sub-threshold"] {
            for f in [0.26, 0.30, 0.40, 0.50] {
                let out = sim(8_192, f, attack, 5);
                let r = &out.report;
                assert_eq!(r.silent_poisoned_epochs, 0, "{attack} {f}: {r:?}");
                assert_eq!(r.finalized_epochs + r.degraded_epochs, 5);
                assert!(r.detected, "{attack} {f}: {r:?}");
                if r.degraded_epochs > 0 {
                    assert!(!out.alarms.is_empty());
                }
                if let Some(b) = r.global_bias_sigma {
                    assert!(b <= out.bias_bound, "{attack} {f}: {b}");
                }
            }
        }
    }
}

/// The signed tree: verification from the leaves up finds tampering anywhere.
mod signed_tree {
    use super::*;
    use toolcap_crypto::{Hash, Signature};
    use toolcap_fleet::{ClipBox, EpochTree, NodeId, verify};

    fn small() -> Outcome {
        let cfg = SimConfig {
            agents: 2_048,
            fanout: 8,
            dim: 3,
            byzantine: 0.25,
            attack: "tree-poisoning".into(),
            epochs: 1,
            seed: 3,
            ..SimConfig::default()
        };
        run(&cfg).unwrap()
    }

    type Tamper = fn(&mut toolcap_fleet::Position);

    const TAMPERS: &[(&str, Tamper)] = &[
        ("epoch", |p| p.accepted.epoch += 1),
        ("level", |p| p.accepted.level ^= 1),
        ("node", |p| p.accepted.node = NodeId(p.accepted.node.0 ^ 1)),
        ("children root", |p| {
            p.accepted.children_root = Hash([9; 32])
        }),
        ("children count", |p| p.accepted.children += 1),
        ("quarantine", |p| p.accepted.quarantined.push(NodeId(0))),
        ("clip box", |p| {
            p.accepted.clip = ClipBox::uniform(p.accepted.clip.dim(), -1.0, 1.0).unwrap()
        }),
        ("count", |p| {
            let o = &p.accepted.output;
            p.accepted.output = toolcap_fleet::Moments::from_parts(
                o.count() + 1,
                o.mean().to_vec(),
                o.comoment().to_vec(),
            )
            .unwrap();
        }),
        ("mean", |p| {
            let o = &p.accepted.output;
            let mut m = o.mean().to_vec();
            m[1] += 1e-9;
            p.accepted.output =
                toolcap_fleet::Moments::from_parts(o.count(), m, o.comoment().to_vec()).unwrap();
        }),
        ("co-moment", |p| {
            let o = &p.accepted.output;
            let mut c = o.comoment().to_vec();
            c[0] *= 0.5;
            p.accepted.output =
                toolcap_fleet::Moments::from_parts(o.count(), o.mean().to_vec(), c).unwrap();
        }),
        ("signature", |p| {
            let mut b = p.proposal.signature.to_bytes();
            b[5] ^= 1;
            p.proposal.signature = Signature::from_bytes(&b);
        }),
        ("certificate signer", |p| {
            if let Some(c) = &mut p.certificate {
                c.signatures[0].0 = NodeId(u64::MAX);
            }
        }),
        ("certificate signature", |p| {
            if let Some(c) = &mut p.certificate {
                let mut b = c.signatures[0].1.to_bytes();
                b[0] ^= 1;
                c.signatures[0].1 = Signature::from_bytes(&b);
            }
        }),
        ("certificate quorum", |p| {
            if let Some(c) = &mut p.certificate {
                c.signatures.truncate(1);
            }
        }),
    ];

    #[test]
    fn honest_tree_verifies() {
        let out = small();
        let tree = out.last_final_tree.as_ref().unwrap();
        assert_eq!(out.topology.levels(), 4);
        let global = verify(tree, &out.topology, &out.membership, &out.config).unwrap();
        assert_eq!(Some(&global), tree.global());
    }

    #[test]
    fn tampering_any_field_at_any_level_is_found() {
        let out = small();
        let tree: &EpochTree = out.last_final_tree.as_ref().unwrap();
        for level in 0..tree.levels.len() {
            for (name, tamper) in TAMPERS {
                if level == 0 && name.starts_with("certificate") {
                    continue;
                }
                let mut t = tree.clone();
                // Tamper with a middle position, in what it published as well as what counts.
                let i = t.levels[level].len() / 2;
                let p = &mut t.levels[level][i];
                let same = p.proposal.record == p.accepted;
                tamper(p);
                if same && *name != "signature" {
                    p.proposal.record = p.accepted.clone();
                }
                assert!(
                    verify(&t, &out.topology, &out.membership, &out.config).is_err(),
                    "tampering {name} at level {level} went unnoticed"
                );
            }
        }
    }
}

/// The registry and parameters.
mod contract {
    use super::*;
    use toolcap_simulator::Error;

    #[test]
    fn unknown_attack_lists_the_known_ones() {
        let cfg = SimConfig {
            attack: "nope".into(),
            ..SimConfig::default()
        };
        let err = run(&cfg).unwrap_err();
        assert!(matches!(err, Error::UnknownAttack { .. }));
        let msg = err.to_string();
        for e in toolcap_simulator::REGISTRY {
            assert!(msg.contains(e.name), "{msg}");
        }
        let bad = SimConfig {
            byzantine: 1.5,
            ..SimConfig::default()
        };
        assert!(matches!(run(&bad), Err(Error::Config(_))));
    }

    #[test]
    fn same_seed_same_run() {
        let a = sim(3_000, 0.25, "sub-threshold", 3);
        let b = sim(3_000, 0.25, "sub-threshold", 3);
        let strip = |mut r: toolcap_simulator::Report| {
            // Timings and memory are measurements, not outputs of the seeded run.
            r.epoch_ms_p50 = 0.0;
            r.peak_rss_bytes = None;
            r.trust.proof_verify_ms_p50 = 0.0;
            r
        };
        assert_eq!(strip(a.report), strip(b.report));
        assert_eq!(a.audit.root(), b.audit.root());
    }
}
