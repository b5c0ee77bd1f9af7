//! The hook adapters in process: parse a recorded Claude Code payload, judge, render the answer.
//! (The whole `toolcap hook claude-code` process is timed by `scripts/bench-hook`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should abort the run

use criterion::{Criterion, criterion_group, criterion_main};
use toolcap_policy::Engine;

const BASH: &[u8] = include_bytes!("../../cli/tests/fixtures/hook/claude_bash_rm_root.json");
const WRITE: &[u8] =
    include_bytes!("../../cli/tests/fixtures/hook/claude_write_authorized_keys.json");
const COPILOT: &[u8] = include_bytes!("../../cli/tests/fixtures/hook/copilot_bash_rm.json");

fn adapters(c: &mut Criterion) {
    let engine = Engine::builtin();
    c.bench_function("claude_code::respond bash", |b| {
        b.iter(|| toolcap_hook::claude_code::respond(&engine, std::hint::black_box(BASH)))
    });
    c.bench_function("claude_code::respond write", |b| {
        b.iter(|| toolcap_hook::claude_code::respond(&engine, std::hint::black_box(WRITE)))
    });
    c.bench_function("copilot::respond bash", |b| {
        b.iter(|| toolcap_hook::copilot::respond(&engine, std::hint::black_box(COPILOT)))
    });
}

criterion_group!(benches, adapters);
criterion_main!(benches);
