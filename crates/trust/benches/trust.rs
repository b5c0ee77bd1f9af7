//! Costs of the trust layer per node per epoch: one aggregated range proof over a node's
//! contribution (dimension 16, two ranges per coordinate), its verification, the parent's sum
//! check over 64 children, a DP release, and evidence and clock checks.
#![allow(clippy::expect_used)] // reason: a bench setup failure should abort the bench loudly

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use toolcap_crypto::{SigningKey, sha3_256};
use toolcap_trust::clock::{ClockReceiver, ClockWriter};
use toolcap_trust::{
    AgentId, ClipBox, DpConfig, Evidence, EvidenceKind, EvidenceView, FixedPoint, KeyRing, Llr,
    NodeId, RangeParams, ReleaseStream, SignedEvidence, SumOpening, commit, verify_sum,
};

fn contribution(dim: usize, seed: u64) -> Vec<f64> {
    (0..dim)
        .map(|j| ((seed * 31 + j as u64) % 97) as f64 / 97.0 * 8.0 - 4.0)
        .collect()
}

fn range_proofs(c: &mut Criterion) {
    let mut g = c.benchmark_group("range_proof");
    for dim in [4usize, 16] {
        let clip = ClipBox::uniform(dim, -4.0, 4.0).expect("box");
        let params = RangeParams::new(&clip, FixedPoint::default()).expect("params");
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let x = contribution(dim, 1);
        g.bench_with_input(BenchmarkId::new("prove", dim), &dim, |b, _| {
            b.iter(|| commit(&params, b"epoch", &x, &mut rng).expect("commit"))
        });
        let (c1, _) = commit(&params, b"epoch", &x, &mut rng).expect("commit");
        g.bench_with_input(BenchmarkId::new("verify", dim), &dim, |b, _| {
            b.iter(|| c1.verify(&params, b"epoch", &mut rng).expect("verify"))
        });
    }
    g.finish();

    // A parent with 64 children, dimension 16: verify every proof and the homomorphic sum.
    let dim = 16;
    let clip = ClipBox::uniform(dim, -4.0, 4.0).expect("box");
    let params = RangeParams::new(&clip, FixedPoint::default()).expect("params");
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut cs = Vec::new();
    let mut sum = SumOpening::new(dim);
    for i in 0..64 {
        let (c1, o) = commit(&params, b"epoch", &contribution(dim, i), &mut rng).expect("commit");
        cs.push(c1);
        sum.add(&o).expect("add");
    }
    let claimed = sum.fixed_sum(&params);
    let mut g = c.benchmark_group("parent");
    g.sample_size(10);
    g.bench_function("verify_sum_64x16", |b| {
        b.iter(|| verify_sum(&params, b"epoch", &cs, &sum, &claimed, &mut rng).expect("sum"))
    });
    g.finish();
}

fn dp_release(c: &mut Criterion) {
    let clip = ClipBox::uniform(16, -4.0, 4.0).expect("box");
    let config = DpConfig {
        total: toolcap_trust::Budget::new(1e12, 0.5).expect("budget"),
        ..DpConfig::default()
    };
    let mut stream = ReleaseStream::new(config, clip).expect("stream");
    let data: Vec<Vec<f64>> = (0..64).map(|i| contribution(16, i)).collect();
    c.bench_function("dp_release_64x16", |b| {
        b.iter(|| stream.release(&data).expect("release"))
    });
}

fn evidence_and_clocks(c: &mut Criterion) {
    let key = SigningKey::from_seed(&[1; 32]);
    let ring: KeyRing = [(NodeId(0), key.verifying_key())].into_iter().collect();
    let mut n = 0u64;
    c.bench_function("evidence_sign_verify_add", |b| {
        b.iter(|| {
            n += 1;
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&n.to_be_bytes());
            let s = SignedEvidence::sign(
                Evidence {
                    id,
                    agent: AgentId(n % 100),
                    reporter: NodeId(0),
                    kind: EvidenceKind::Alert,
                    llr: Llr(1 << 16),
                    confidence: 1000,
                    clock: n,
                    payload: [0; 32],
                },
                &key,
            );
            let mut view = EvidenceView::new(Default::default());
            view.add_signed(&s, &ring).expect("add");
        })
    });
    let members = 64;
    let mut writer = ClockWriter::new(NodeId(0), members, SigningKey::from_seed(&[2; 32]));
    let mut rx = ClockReceiver::new(
        members,
        [(NodeId(0), SigningKey::from_seed(&[2; 32]).verifying_key())],
    );
    let mut k = 0u64;
    c.bench_function("clock_tick_accept_64", |b| {
        b.iter(|| {
            k += 1;
            let mut nonce = [0u8; 16];
            nonce[..8].copy_from_slice(&k.to_be_bytes());
            let e = writer.tick(sha3_256(&k.to_be_bytes()), nonce);
            rx.accept(&e).expect("accept");
        })
    });
}

criterion_group!(benches, range_proofs, dp_release, evidence_and_clocks);
criterion_main!(benches);
