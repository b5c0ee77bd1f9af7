//! One epoch of the fleet protocol, every signature made and verified: 10^4 to 10^6 agents,
//! fan-in 64, dimension 16, 25% of every committee Byzantine (tree-poisoning). Then one short
//! full run per attack at 10^6 agents, printed as the `toolcap simulate fleet --json` report,
//! and the process's peak resident memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should abort the run

use criterion::{BenchmarkId, Criterion};
use toolcap_simulator::{SimConfig, Simulation};

fn epoch(c: &mut Criterion) {
    let mut group = c.benchmark_group("fleet_epoch");
    group.sample_size(10);
    for agents in [10_000u64, 100_000, 1_000_000] {
        let cfg = SimConfig {
            agents,
            byzantine: 0.25,
            attack: "tree-poisoning".into(),
            epochs: 1_000,
            ..SimConfig::default()
        };
        let Ok(mut sim) = Simulation::new(&cfg) else {
            eprintln!("setup failed for {agents} agents");
            continue;
        };
        group.bench_with_input(BenchmarkId::from_parameter(agents), &agents, |b, _| {
            b.iter(|| sim.step().map(|s| s.signatures).unwrap_or(0))
        });
    }
    group.finish();
}

/// User plus system CPU time of this process so far, in seconds (`/proc/self/stat`, clock ticks
/// of 10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// `n` epochs at 10^6 agents, each one's wall and CPU time printed: the first epoch (where the
/// attack is found and evidence signed) and the steady state after it.
fn epochs_one_by_one(n: u32) {
    let cfg = SimConfig {
        agents: 1_000_000,
        byzantine: 0.25,
        attack: "tree-poisoning".into(),
        epochs: n,
        ..SimConfig::default()
    };
    let mut sim = Simulation::new(&cfg).expect("set-up");
    for _ in 0..n {
        let cpu = cpu_seconds();
        let start = std::time::Instant::now();
        let stats = sim.step().expect("epoch");
        eprintln!(
            "epoch {} at 10^6 agents: wall {:.3} s ({:.3} s in the protocol), cpu {:.2} s, {} signatures",
            stats.epoch,
            start.elapsed().as_secs_f64(),
            stats.ms / 1e3,
            cpu_seconds() - cpu,
            stats.signatures
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    epoch(&mut c);
    c.final_summary();
    if let Some(n) = std::env::var("FLEET_BENCH_EPOCHS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        epochs_one_by_one(n);
    }
    if std::env::var_os("FLEET_BENCH_RUNS").is_some() {
        for attack in ["none", "tree-poisoning", "sub-threshold"] {
            let cfg = SimConfig {
                agents: 1_000_000,
                byzantine: 0.25,
                attack: attack.into(),
                epochs: 8,
                ..SimConfig::default()
            };
            match toolcap_simulator::run(&cfg) {
                Ok(out) => eprintln!(
                    "run {attack}: bound {:.4} {}",
                    out.bias_bound,
                    serde_json::to_string(&out.report).unwrap_or_default()
                ),
                Err(e) => eprintln!("run {attack}: {e}"),
            }
        }
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines().filter(|l| l.starts_with("VmHWM")) {
            eprintln!("peak memory of the bench process: {line}");
        }
    }
}
