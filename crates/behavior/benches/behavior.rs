//! Hot paths of toolcap-behavior: updating a profile with one event, scoring a 100-event window,
//! a monitor step, fingerprinting and similarity search.
//!
//! `cargo bench -p toolcap-behavior --bench behavior -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used)] // reason: a benchmark over generated, known-good data

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use toolcap_behavior::{
    AgentId, Baseline, Capacity, Config, Event, Features, LshIndex, Monitor, Population, Profile,
    Scorer, SimHasher,
};
use toolcap_descriptor::Capabilities;

/// A realistic command stream: Zipf-like weights over `vocab` commands of a 2,000-command
/// universe, with capability flags attached to some.
fn stream(rng: &mut ChaCha20Rng, vocab: usize, n: usize) -> Vec<Event> {
    let names: Vec<String> = (0..vocab)
        .map(|_| format!("cmd{}", rng.next_u32() % 2000))
        .collect();
    let weights: Vec<f64> = (1..=vocab).map(|r| 1.0 / r as f64).collect();
    let total: f64 = weights.iter().sum();
    (0..n)
        .map(|_| {
            let mut x = rng.next_u64() as f64 / u64::MAX as f64 * total;
            let mut i = 0;
            while i + 1 < vocab && x >= weights[i] {
                x -= weights[i];
                i += 1;
            }
            let caps = if i.is_multiple_of(5) {
                Capabilities::FILE_READ
            } else {
                Capabilities::NONE
            };
            Event::with_caps(&names[i], caps)
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let cfg = Config::default();
    let mut pop = Population::new();
    for _ in 0..50 {
        pop.add_stream(&stream(&mut rng, 100, 2000));
    }
    let history = stream(&mut rng, 100, 5000);
    let events = stream(&mut rng, 100, 4096);

    let mut profile = Profile::new(Capacity::AGENT);
    for e in &history {
        profile.observe(e);
    }
    let mut i = 0usize;
    c.bench_function("profile_observe_one_event", |b| {
        b.iter(|| {
            profile.observe(black_box(&events[i & 4095]));
            i = i.wrapping_add(1);
        })
    });

    let mut trained = Profile::new(Capacity::AGENT);
    for e in &history {
        trained.observe(e);
    }
    let window = &events[..100];
    c.bench_function("score_window_100_events", |b| {
        let scorer = Scorer::new(&trained, &pop, &cfg);
        b.iter(|| black_box(scorer.window(trained.last(), black_box(window))))
    });

    let baseline = Baseline::train(&history, &pop, &cfg).unwrap();
    c.bench_function("baseline_step_100_events_score_and_learn", |b| {
        b.iter_batched_ref(
            || baseline.clone(),
            |bl| black_box(bl.step(black_box(window), &pop, &cfg).unwrap()),
            criterion::BatchSize::SmallInput,
        )
    });

    let mut monitor = Monitor::new(cfg, pop.clone(), 4.0).unwrap();
    monitor.insert(AgentId(1), baseline.clone());
    let mut j = 0usize;
    c.bench_function("monitor_observe_one_event_amortised", |b| {
        b.iter(|| {
            black_box(
                monitor
                    .observe(AgentId(1), black_box(&events[j & 4095]))
                    .unwrap(),
            );
            j = j.wrapping_add(1);
        })
    });

    let hasher = SimHasher::new(&mut rng);
    let features = Features::from_events(&history);
    c.bench_function("simhash_fingerprint_100_features", |b| {
        b.iter(|| black_box(hasher.fingerprint(black_box(&features))))
    });

    // Fingerprints of deviations from the fleet mean: raw frequencies are dominated by what every
    // agent shares, which would put everyone in the same bands.
    let raw: Vec<Features> = (0..10_000)
        .map(|_| Features::from_events(&stream(&mut rng, 30, 200)))
        .collect();
    let mean = Features::from_pairs(
        raw.iter()
            .flat_map(|f| f.pairs().iter().map(|(k, w)| (*k, w / raw.len() as f32))),
    );
    let mut index = LshIndex::new(8);
    let fps: Vec<_> = raw
        .iter()
        .enumerate()
        .map(|(a, f)| {
            let fp = hasher.fingerprint(&mean.shift_to(f));
            index.insert(AgentId(a as u64), fp);
            fp
        })
        .collect();
    let probe: u64 = fps
        .iter()
        .take(1000)
        .map(|fp| index.nearest(*fp, 10, 12).comparisons)
        .sum();
    println!(
        "lsh: mean comparisons per query over 10,000 agents: {:.1}",
        probe as f64 / 1000.0
    );
    let mut k = 0usize;
    c.bench_function("lsh_nearest_10_of_10k_agents", |b| {
        b.iter(|| {
            let n = index.nearest(fps[k % fps.len()], 10, 12);
            k += 1;
            black_box(n)
        })
    });
}

criterion_group!(behavior, benches);
criterion_main!(behavior);
