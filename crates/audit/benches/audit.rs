//! Benchmarks: durable group-committed appends, proofs at 1M leaves, Ed25519 single vs batch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should stop it loudly

use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use toolcap_audit::{HashAlg, Log, Tree, verify_consistency, verify_inclusion};
use toolcap_crypto::{BatchItem, Signature, SigningKey, VerifyingKey, verify_batch};

const BATCH: usize = 10_000;
const MILLION: u64 = 1_000_000;

fn appends(c: &mut Criterion) {
    let mut g = c.benchmark_group("audit_append_durable_sha3");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(10);
    let tmp = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed(&[1; 32]);
    let mut log =
        Log::create_with_key(&tmp.path().join("log"), HashAlg::Sha3_256, "bench", &key).unwrap();
    // 64-byte leaves, about the size of a decision record's digest line.
    let leaves: Vec<Vec<u8>> = (0..BATCH)
        .map(|i| format!("{i:064}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
    g.bench_function("batch_10000_fdatasync", |b| {
        b.iter(|| log.append_batch(black_box(&refs)).unwrap());
    });
    g.finish();
}

fn proofs(c: &mut Criterion) {
    let alg = HashAlg::Sha3_256;
    let started = Instant::now();
    let mut tree = Tree::new(alg);
    for i in 0..MILLION {
        tree.push_data(&i.to_be_bytes());
    }
    eprintln!("built a {MILLION}-leaf tree in {:?}", started.elapsed());
    let root = tree.root();
    let mut g = c.benchmark_group("audit_proof_1m_sha3");
    let mut i = 0u64;
    g.bench_function("inclusion_generate", |b| {
        b.iter(|| {
            i = (i + 7_919) % MILLION;
            tree.inclusion_proof(black_box(i), MILLION).unwrap()
        });
    });
    let idx = 123_457;
    let proof = tree.inclusion_proof(idx, MILLION).unwrap();
    let leaf = tree.leaf(idx).unwrap();
    g.bench_function("inclusion_verify", |b| {
        b.iter(|| verify_inclusion(alg, idx, MILLION, black_box(&leaf), &proof, &root.0).unwrap());
    });
    let old = 654_321;
    let old_root = tree.root_at(old).unwrap();
    g.bench_function("consistency_generate", |b| {
        b.iter(|| tree.consistency_proof(black_box(old), MILLION).unwrap());
    });
    let cproof = tree.consistency_proof(old, MILLION).unwrap();
    g.bench_function("consistency_verify", |b| {
        b.iter(|| {
            verify_consistency(alg, old, MILLION, &old_root.0, &root.0, black_box(&cproof)).unwrap()
        });
    });
    g.finish();
}

/// The same proofs from a stored log: node hashes below level 8 read from `tree.dat` with
/// positioned reads (page cache warm), the levels above from memory.
fn stored_proofs(c: &mut Criterion) {
    let alg = HashAlg::Sha3_256;
    let tmp = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed(&[2; 32]);
    let dir = tmp.path().join("log");
    let mut log = Log::create_with_key(&dir, alg, "bench", &key).unwrap();
    let started = Instant::now();
    for chunk in 0..(MILLION / BATCH as u64) {
        let leaves: Vec<[u8; 8]> = (0..BATCH as u64)
            .map(|i| (chunk * BATCH as u64 + i).to_be_bytes())
            .collect();
        let refs: Vec<&[u8]> = leaves.iter().map(|l| l.as_slice()).collect();
        log.append_batch(&refs).unwrap();
    }
    eprintln!("stored a {MILLION}-leaf log in {:?}", started.elapsed());
    drop(log);
    let started = Instant::now();
    let log = Log::open(&dir).unwrap();
    eprintln!(
        "reopened it (records re-verified, tree.dat checked) in {:?}",
        started.elapsed()
    );
    let mut g = c.benchmark_group("audit_proof_1m_sha3_stored");
    let mut i = 0u64;
    g.bench_function("inclusion_generate", |b| {
        b.iter(|| {
            i = (i + 7_919) % MILLION;
            log.inclusion_proof(black_box(i), MILLION).unwrap()
        });
    });
    let old = 654_321;
    g.bench_function("consistency_generate", |b| {
        b.iter(|| log.consistency_proof(black_box(old), MILLION).unwrap());
    });
    g.bench_function("root_at_earlier_size", |b| {
        b.iter(|| log.tree().root_at(black_box(old)).unwrap());
    });
    g.finish();
}

fn signatures(c: &mut Criterion) {
    const N: usize = 256;
    let keys: Vec<SigningKey> = (0..N)
        .map(|i| SigningKey::from_seed(&[(i % 251) as u8 + 1; 32]))
        .collect();
    let vks: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
    let msgs: Vec<Vec<u8>> = (0..N)
        .map(|i| format!("record {i:0100}").into_bytes())
        .collect();
    let sigs: Vec<Signature> = keys
        .iter()
        .zip(&msgs)
        .map(|(k, m)| k.sign(b"toolcap/bench/v1", m))
        .collect();
    let mut g = c.benchmark_group("ed25519_verify_256");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("single_strict", |b| {
        b.iter(|| {
            for i in 0..N {
                vks[i]
                    .verify(b"toolcap/bench/v1", &msgs[i], &sigs[i])
                    .unwrap();
            }
        });
    });
    g.bench_function("batch", |b| {
        b.iter_batched(
            || -> Vec<BatchItem<'_>> {
                (0..N)
                    .map(|i| BatchItem {
                        tag: b"toolcap/bench/v1",
                        message: &msgs[i],
                        signature: &sigs[i],
                        key: &vks[i],
                    })
                    .collect()
            },
            |items| verify_batch(&items).unwrap(),
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

criterion_group!(benches, appends, proofs, stored_proofs, signatures);
criterion_main!(benches);
