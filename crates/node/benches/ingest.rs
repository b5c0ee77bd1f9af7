//! Ingest load: client threads post NDJSON batches of agent events to one node (parsed exactly as
//! `POST /v1/events` parses them, then made durable, judged, monitored and audited) for a fixed
//! time; prints sustained events per second, the acknowledgement latency of every batch (p50,
//! p99, max) and the resident memory at every tenth of the run, so a soak shows whether memory
//! stays flat. HTTP framing is not included (the node's routes hand the parsed batch to the same
//! `Node::ingest`).
//!
//! `INGEST_SECONDS` (default 20), `INGEST_CLIENTS` (default 4), `INGEST_BATCH` (default 1000
//! events), `INGEST_AGENTS` (default 2000).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: bench code; a failure should stop it loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use toolcap_node::{Node, NodeConfig, event::parse_ndjson};
use toolcap_policy::Engine;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

/// Each agent has habits: a handful of everyday commands, weighted towards the first.
const COMMANDS: [&str; 16] = [
    "git status",
    "ls -la src",
    "cargo test -p core",
    "git diff HEAD~1",
    "cat README.md",
    "grep -rn TODO src",
    "make build",
    "npm run lint",
    "python3 -m pytest tests",
    "docker ps",
    "kubectl get pods -n dev",
    "rm -rf ./build",
    "curl -s https://api.example.com/health",
    "find . -name '*.rs' | xargs wc -l",
    "sed -i 's/a/b/' notes.txt",
    "git push origin feature/x",
];

fn body(client: u64, round: u64, batch: u64, agents: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch as usize * 110);
    for i in 0..batch {
        let n = client
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(round.wrapping_mul(1_000_003))
            .wrapping_add(i.wrapping_mul(7_919));
        let agent = n % agents;
        // Agent-specific habit: a rotation of the command list, Zipf-like by squaring.
        let r = (n >> 17) % 64;
        let k = ((r * r) / 256 + agent) as usize % COMMANDS.len();
        let secs = 1_765_000_000 + round * 10 + i / 100;
        let line = format!(
            "{{\"agent_id\":\"agent-{agent:05}\",\"timestamp\":\"{}\",\"command\":{}}}\n",
            rfc3339(secs),
            serde_json::to_string(COMMANDS[k]).unwrap()
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// Seconds since the Unix epoch as an RFC 3339 UTC timestamp (civil-from-days, proleptic
/// Gregorian).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn main() {
    let seconds = env("INGEST_SECONDS", 20);
    let clients = env("INGEST_CLIENTS", 4);
    let batch = env("INGEST_BATCH", 1000);
    let agents = env("INGEST_AGENTS", 2000);
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(NodeConfig::new(dir.path()), Arc::new(Engine::builtin())).unwrap();
    eprintln!(
        "ingest: {clients} clients, batches of {batch} NDJSON events, {agents} agents, {seconds} s, data in {}",
        dir.path().display()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let (node, stop, events) = (node.clone(), stop.clone(), events.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut round = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let b = body(c, round, batch, agents);
                    let t = Instant::now();
                    let parsed = parse_ndjson(&b).unwrap();
                    let receipt = node.ingest(parsed).unwrap();
                    lat.push(t.elapsed());
                    events.fetch_add(receipt.accepted as u64, Ordering::Relaxed);
                    round += 1;
                }
                lat
            })
        })
        .collect();
    let mut samples = Vec::new();
    let step = Duration::from_secs_f64(seconds as f64 / 10.0);
    for k in 1..=10 {
        std::thread::sleep(step);
        let e = events.load(Ordering::Relaxed);
        samples.push((k, e, rss_mb()));
    }
    stop.store(true, Ordering::Relaxed);
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let wall = start.elapsed().as_secs_f64();
    let total = events.load(Ordering::Relaxed);
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    let mut prev = 0;
    for (k, e, rss) in &samples {
        eprintln!(
            "  at {:>3}%: {:>9} events acknowledged ({:>8.0}/s in this tenth), resident {rss:.1} MB",
            k * 10,
            e,
            (e - prev) as f64 / step.as_secs_f64()
        );
        prev = *e;
    }
    eprintln!(
        "sustained: {:.0} events/s ({total} events in {wall:.1} s); ack latency per batch: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} batches)",
        total as f64 / wall,
        pct(0.5),
        pct(0.99),
        pct(1.0),
        lat.len()
    );
    let (m, _) = node.metrics().unwrap();
    eprintln!("node metrics: {m:?}");
    node.shutdown().unwrap();
}
