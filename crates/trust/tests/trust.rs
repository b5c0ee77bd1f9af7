//! End-to-end flows of the trust layer with real keys, proofs and noise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should abort the run

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use toolcap_crypto::{SigningKey, sha3_256};
use toolcap_trust::clock::{ClockReceiver, ClockRejection, ClockWriter};
use toolcap_trust::{
    AgentId, Budget, ClipBox, ConsensusConfig, DpConfig, Error, Evidence, EvidenceKind,
    EvidenceView, FixedPoint, KeyRing, Llr, NodeId, RangeParams, ReleaseStream, SignedEvidence,
    SumOpening, commit, decide, verify_sum,
};

fn keys(n: u32) -> (Vec<SigningKey>, KeyRing) {
    let k: Vec<SigningKey> = (0..n)
        .map(|i| SigningKey::from_seed(&[i as u8 + 1; 32]))
        .collect();
    let ring = k
        .iter()
        .enumerate()
        .map(|(i, k)| (NodeId(i as u32), k.verifying_key()))
        .collect();
    (k, ring)
}

/// A parent aggregates committed children, checks them, then releases the sum with DP noise.
mod parent {
    use super::*;

    #[test]
    fn committed_children_to_private_release() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let clip = ClipBox::uniform(2, -1.0, 1.0).unwrap();
        let params = RangeParams::new(&clip, FixedPoint::default()).unwrap();
        let children = [vec![0.5, -0.25], vec![2.0, 0.0], vec![-0.75, 0.5]];
        let mut committed = Vec::new();
        let mut sum = SumOpening::new(2);
        for c in &children {
            let (cc, o) = commit(&params, b"epoch 3 region 1", c, &mut rng).unwrap();
            committed.push(cc);
            sum.add(&o).unwrap();
        }
        // The second child was clipped to 1.0 before it was committed.
        assert_eq!(sum.sum(&params), vec![0.75, 0.25]);
        verify_sum(
            &params,
            b"epoch 3 region 1",
            &committed,
            &sum,
            &sum.fixed_sum(&params),
            &mut rng,
        )
        .unwrap();
        // Replayed into another epoch, the proofs fail.
        assert_eq!(
            verify_sum(
                &params,
                b"epoch 4 region 1",
                &committed,
                &sum,
                &sum.fixed_sum(&params),
                &mut rng
            ),
            Err(Error::InvalidProof)
        );

        let config = DpConfig {
            total: Budget::new(2.0, 1e-6).unwrap(),
            ..DpConfig::default()
        };
        let mut stream = ReleaseStream::new(config, clip).unwrap();
        let first = stream.release(&children).unwrap();
        assert_eq!(first.count, 3);
        assert!(first.noise_std > 0.0);
        stream.release(&children).unwrap();
        assert!(matches!(
            stream.release(&children),
            Err(Error::BudgetExhausted { .. })
        ));
        assert!((stream.accountant().spent().epsilon - 2.0).abs() < 1e-12);
    }
}

/// Sixteen signed reporters, four of them Byzantine, framing and covering.
mod consensus {
    use super::*;

    #[test]
    fn a_quarter_of_lying_reporters_changes_no_decision() {
        let (k, ring) = keys(16);
        let config = ConsensusConfig::default();
        let mut view = EvidenceView::new(config.clone());
        let mut id = 0u64;
        for agent in 0..20u64 {
            let compromised = agent % 5 == 0;
            for r in 0..16u32 {
                let byz = r >= 12;
                let llr = match (byz, compromised) {
                    (true, true) => -50.0,
                    (true, false) => 50.0,
                    (false, true) => 2.0,
                    (false, false) => -1.0,
                };
                id += 1;
                let mut rid = [0u8; 16];
                rid[..8].copy_from_slice(&id.to_be_bytes());
                let e = Evidence {
                    id: rid,
                    agent: AgentId(agent),
                    reporter: NodeId(r),
                    kind: if llr > 0.0 {
                        EvidenceKind::Alert
                    } else {
                        EvidenceKind::Clean
                    },
                    llr: Llr::from_nats(llr).unwrap(),
                    confidence: 1000,
                    clock: 1,
                    payload: sha3_256(&agent.to_be_bytes()).0,
                };
                view.add_signed(&SignedEvidence::sign(e.clone(), &k[r as usize]), &ring)
                    .unwrap();
                if byz {
                    // A forgery in an honest reporter's name is refused.
                    let mut f = e;
                    f.id[15] = 0xff;
                    f.reporter = NodeId(0);
                    assert!(
                        view.add_signed(&SignedEvidence::sign(f, &k[r as usize]), &ring)
                            .is_err()
                    );
                }
            }
        }
        for agent in 0..20u64 {
            let d = decide(&config, &[view.assess(AgentId(agent))]);
            assert_eq!(d.quarantine, agent % 5 == 0, "agent {agent}: {d:?}");
        }
    }
}

/// A four-node group exchanging clock entries while one node attacks.
mod clocks {
    use super::*;

    #[test]
    fn interleaved_history_with_an_attacker() {
        let n = 4;
        let (k, _) = keys(n as u32);
        let mut w: Vec<ClockWriter> = (0..n)
            .map(|i| ClockWriter::new(NodeId(i as u32), n, k[i].clone_for_test()))
            .collect();
        let mut rx =
            ClockReceiver::new(n, (0..n).map(|i| (NodeId(i as u32), k[i].verifying_key())));
        let mut nonce = 0u8;
        let mut next = || {
            nonce += 1;
            [nonce; 16]
        };
        let mut history = Vec::new();
        for round in 0..3u8 {
            for i in 0..n {
                let e = w[i].tick(sha3_256(&[round, i as u8]), next());
                rx.accept(&e).unwrap();
                history.push(e.clone());
                for other in w.iter_mut() {
                    other.observe(&e.vector);
                }
            }
        }
        assert_eq!(rx.known(), &[3, 3, 3, 3]);
        // Node 3 replays, forges for node 0, and tampers with node 1's last entry.
        assert_eq!(rx.accept(&history[0]), Err(ClockRejection::Replayed));
        let mut forger = ClockWriter::new(NodeId(0), n, k[3].clone_for_test());
        forger.observe(rx.known());
        assert_eq!(
            rx.accept(&forger.tick(sha3_256(b"x"), next())),
            Err(ClockRejection::Forged)
        );
        let mut t = history[9].clone();
        t.payload = sha3_256(b"other");
        assert_eq!(rx.accept(&t), Err(ClockRejection::Forged));
    }

    trait CloneForTest {
        fn clone_for_test(&self) -> SigningKey;
    }
    impl CloneForTest for SigningKey {
        fn clone_for_test(&self) -> SigningKey {
            SigningKey::from_seed(&self.to_seed())
        }
    }
}
