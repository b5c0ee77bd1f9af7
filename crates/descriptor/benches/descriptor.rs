//! Decoding a v2 descriptor and turning it into a decision; encoding and decoding a v3 family.
//!
//! Run: `cargo bench -p toolcap-descriptor --bench descriptor -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used)] // reason: benchmark set-up on constant, known-valid inputs

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use toolcap_descriptor::{
    Capabilities, Descriptor, FamilyDescriptor, Perf, Risk, SubcommandDescriptor,
};

/// The gate's base decision for a risk level, as the policy engine maps it before argument rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    Allow,
    Ask,
    Deny,
}

const fn base_decision(risk: Risk) -> Decision {
    match risk {
        Risk::Safe | Risk::Low => Decision::Allow,
        Risk::Medium | Risk::High => Decision::Ask,
        Risk::Critical => Decision::Deny,
    }
}

/// Undecodable input fails closed.
fn decide(bytes: &[u8]) -> Decision {
    match Descriptor::decode(bytes) {
        Ok(d) => base_decision(d.risk),
        Err(_) => Decision::Deny,
    }
}

fn bench(c: &mut Criterion) {
    let rm = Descriptor::new(
        "rm",
        Risk::Medium,
        Capabilities::DESTRUCTIVE | Capabilities::FILE_MODIFICATION,
        Perf::typical(10_000, 8 << 20, 1 << 10),
    )
    .to_bytes();
    assert_eq!(decide(&rm), Decision::Ask);
    c.bench_function("v2 decode + decide", |b| b.iter(|| decide(black_box(&rm))));
    c.bench_function("v2 encode", |b| {
        let d = Descriptor::decode(&rm).unwrap();
        b.iter(|| black_box(&d).to_bytes())
    });

    let subs: Vec<SubcommandDescriptor> = (0..40)
        .map(|i| {
            SubcommandDescriptor::new(
                &format!("sub{i}"),
                Risk::Low,
                Capabilities::FILE_READ,
                Perf::default(),
            )
        })
        .collect();
    let family = FamilyDescriptor::new("fam", Risk::Safe, Capabilities::FILE_READ, subs).unwrap();
    let bytes = family.to_bytes();
    c.bench_function("v3 decode (40 subcommands)", |b| {
        b.iter(|| FamilyDescriptor::decode(black_box(&bytes)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
