//! One million agent profiles with realistic vocabularies: memory per agent and scoring throughput
//! on two cores (`std::thread`). Prints its measurements; not a criterion bench because one
//! iteration is the whole experiment.
//!
//! `cargo bench -p toolcap-behavior --bench million` (AGENTS=n to scale down)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // reason: a benchmark over generated data

use std::time::Instant;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use toolcap_behavior::{Capacity, CommandId, Config, Event, Population, Profile, Scorer};
use toolcap_descriptor::Capabilities;

const UNIVERSE: u32 = 2000;
const TRAIN: usize = 400;
const WINDOW: usize = 100;

/// Resident set size in bytes, from `/proc/self/statm` (Linux).
fn rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// One agent's stream: a vocabulary of 20-120 commands, Zipf weights, some with flags.
fn agent_stream(seed: u64, n: usize, out: &mut Vec<Event>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let vocab = 20 + (rng.next_u32() % 101) as usize;
    let ids: Vec<u32> = (0..vocab)
        .map(|_| CommandId::of(&format!("cmd{}", rng.next_u32() % UNIVERSE)).raw())
        .collect();
    // Zipf(1) by inversion of the harmonic CDF, approximately: rank = exp(u * ln(vocab)).
    out.clear();
    for _ in 0..n {
        let u = (rng.next_u32() as f64) / (u32::MAX as f64);
        let r = ((u * (vocab as f64).ln()).exp() as usize).clamp(1, vocab) - 1;
        let caps = if r.is_multiple_of(7) {
            Capabilities::FILE_READ
        } else {
            Capabilities::NONE
        };
        out.push(Event {
            command: CommandId::from_raw(ids[r]),
            caps,
            at_ms: None,
        });
    }
}

/// CPU time (user + system) of the calling thread, from `/proc/thread-self/stat` (clock ticks of
/// 10 ms): unlike wall time, it does not count the time other processes hold the cores.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, k): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((u + k) / 100.0)
}

fn main() {
    let agents: usize = std::env::var("AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let cfg = Config::default();
    let mut pop = Population::new();
    let mut buf = Vec::new();
    for a in 0..200u64 {
        agent_stream(u64::MAX - a, 2000, &mut buf);
        pop.add_stream(&buf);
    }

    let rss0 = rss();
    let t = Instant::now();
    let threads = 2;
    let per = agents.div_ceil(threads);
    let profiles: Vec<Profile> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(per);
                    let mut buf = Vec::with_capacity(TRAIN);
                    for a in (t * per)..((t + 1) * per).min(agents) {
                        agent_stream(a as u64, TRAIN, &mut buf);
                        let mut p = Profile::new(Capacity::AGENT);
                        for e in &buf {
                            p.observe(e);
                        }
                        out.push(p);
                    }
                    out
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let built = t.elapsed();
    let rss1 = rss();
    let accounted: usize = profiles.iter().map(Profile::bytes).sum();
    let distinct: u64 = profiles.iter().map(|p| u64::from(p.distinct())).sum();
    println!(
        "agents: {agents}, training events per agent: {TRAIN}, mean distinct commands: {:.1}",
        distinct as f64 / agents as f64
    );
    println!(
        "built in {:.2} s on {threads} threads ({:.0} ns per event)",
        built.as_secs_f64(),
        built.as_nanos() as f64 / (agents * TRAIN) as f64
    );
    println!(
        "accounted bytes per agent (struct + tables): {:.0}",
        accounted as f64 / agents as f64
    );
    if let (Some(a), Some(b)) = (rss0, rss1) {
        println!(
            "resident memory per agent (RSS delta / agents): {:.0}",
            (b.saturating_sub(a)) as f64 / agents as f64
        );
    }

    // CPU time per operation on one thread: a long loop, so the 10 ms tick does not matter.
    let mut p = profiles[0].clone();
    let mut w = Vec::new();
    agent_stream(1, 4096, &mut w);
    if let Some(c0) = thread_cpu() {
        let n = 50_000_000usize;
        for i in 0..n {
            p.observe(std::hint::black_box(&w[i & 4095]));
        }
        let c1 = thread_cpu().unwrap_or(c0);
        println!(
            "observe one event: {:.1} ns CPU time (mean of {n})",
            (c1 - c0) * 1e9 / n as f64
        );
        let scorer = Scorer::new(&profiles[1], &pop, &cfg);
        let m = 200_000usize;
        let mut acc = 0.0f32;
        for i in 0..m {
            let o = (i * 100) & 2047;
            acc += scorer
                .window(CommandId::NONE, std::hint::black_box(&w[o..o + WINDOW]))
                .bayes;
        }
        let c2 = thread_cpu().unwrap_or(c1);
        println!(
            "score a {WINDOW}-event window: {:.2} us CPU time (mean of {m}; checksum {acc:.1})",
            (c2 - c1) * 1e6 / m as f64
        );
    }

    // Scoring: each thread scores one fresh 100-event window per agent of its half.
    let windows: Vec<Vec<Event>> = (0..64u64)
        .map(|s| {
            let mut w = Vec::new();
            agent_stream(s, WINDOW, &mut w);
            w
        })
        .collect();
    let t = Instant::now();
    let total: f64 = std::thread::scope(|s| {
        let hs: Vec<_> = profiles
            .chunks(per)
            .map(|chunk| {
                let (pop, cfg, windows) = (&pop, &cfg, &windows);
                s.spawn(move || {
                    let mut acc = 0.0f64;
                    for (i, p) in chunk.iter().enumerate() {
                        let sc =
                            Scorer::new(p, pop, cfg).window(p.last(), &windows[i % windows.len()]);
                        acc += f64::from(sc.combined(&cfg.weights));
                    }
                    acc
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    let scored = t.elapsed();
    println!(
        "scored {agents} windows of {WINDOW} events in {:.2} s on {threads} threads: {:.0} windows/s, {:.1} M events/s (checksum {:.1})",
        scored.as_secs_f64(),
        agents as f64 / scored.as_secs_f64(),
        (agents * WINDOW) as f64 / scored.as_secs_f64() / 1e6,
        total
    );
}
