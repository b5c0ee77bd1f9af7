//! Integration tests of toolcap-behavior: the benchmark protocol on the public data, poisoning
//! resistance of updating, the monitor, similarity search, and "never panics" properties.
#![allow(clippy::unwrap_used)] // reason: test helpers outside #[test] functions unwrap known-good results

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use toolcap_behavior::{
    AgentId, Baseline, Config, Event, Features, LshIndex, Monitor, Population, Roc, SimHasher,
    correlation, sea, shifted_together,
};
use toolcap_descriptor::Capabilities;

/// Draws `n` commands from a discrete distribution over `names` with weights `w`.
fn draw(rng: &mut ChaCha20Rng, names: &[&str], w: &[f64], n: usize) -> Vec<Event> {
    let total: f64 = w.iter().sum();
    (0..n)
        .map(|_| {
            let mut x = (rng.next_u64() as f64 / u64::MAX as f64) * total;
            for (name, wi) in names.iter().zip(w) {
                if x < *wi {
                    return Event::command(name);
                }
                x -= wi;
            }
            Event::command(names[names.len() - 1])
        })
        .collect()
}

const SELF_CMDS: [&str; 8] = ["ls", "cd", "vi", "make", "git", "cat", "grep", "gcc"];
const SELF_W: [f64; 8] = [20.0, 15.0, 12.0, 10.0, 10.0, 8.0, 6.0, 4.0];
const EVIL_CMDS: [&str; 4] = ["curl", "sh", "nc", "scp"];

fn population(rng: &mut ChaCha20Rng) -> Population {
    let mut pop = Population::new();
    let names = [
        "ls", "cd", "vi", "make", "git", "cat", "grep", "gcc", "curl", "sh", "nc", "scp", "ssh",
        "python",
    ];
    for _ in 0..5 {
        let w: Vec<f64> = (0..names.len())
            .map(|_| 1.0 + (rng.next_u32() % 10) as f64)
            .collect();
        pop.add_stream(&draw(rng, &names, &w, 2000));
    }
    pop
}

/// The standard protocol on the public data (users 1-25).
mod sea_benchmark {
    use super::*;

    fn data_dir() -> Option<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sea");
        if std::path::Path::new(dir).join("User1").exists() {
            return Some(dir.to_string());
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "SEA data missing at {dir}"
        );
        eprintln!("SKIPPED: SEA data missing at {dir}");
        None
    }

    #[test]
    fn roc_lies_above_every_published_point_on_users_1_to_25() {
        let Some(dir) = data_dir() else { return };
        let users: Vec<Vec<Event>> = (1..=25)
            .map(|u| {
                let text = std::fs::read_to_string(format!("{dir}/User{u}")).unwrap();
                text.lines().map(|l| Event::command(l.trim())).collect()
            })
            .collect();
        let text = std::fs::read_to_string(format!("{dir}/label.txt")).unwrap();
        let rows: Vec<Vec<bool>> = text
            .lines()
            .map(|l| l.split_whitespace().map(|c| c == "1").collect())
            .collect();
        let scores = sea::evaluate(&users, &Config::default()).unwrap();
        let s: Vec<f64> = scores.iter().flatten().map(|x| f64::from(*x)).collect();
        let l: Vec<bool> = (0..25)
            .flat_map(|u| rows.iter().map(move |r| r[u]))
            .collect();
        let roc = Roc::new(&s, &l).unwrap();
        assert_eq!(roc.counts(), (125, 2375));
        assert!(roc.auc() > 0.95, "AUC {}", roc.auc());
        for p in sea::PUBLISHED {
            let hit = roc.at_false_alarm(p.false_alarm / 100.0).hit * 100.0;
            assert!(
                hit > p.hit,
                "{}: {hit:.1}% at {}%, published {}%",
                p.method,
                p.false_alarm,
                p.hit
            );
        }
    }

    #[test]
    fn short_streams_are_rejected() {
        let short = vec![vec![Event::command("ls"); 100]; 2];
        assert!(sea::evaluate(&short, &Config::default()).is_err());
    }
}

/// Updating learns only clean windows, within bounds: a slow poisoner cannot walk the baseline.
mod poisoning {
    use super::*;

    /// A poisoner sends windows that drift from the agent's own mix toward its target mix by
    /// `step` per window; returns the target window's calibrated score at the end and the
    /// baseline.
    fn campaign(cfg: &Config, windows: usize, known: bool) -> (f32, f32, Baseline) {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let pop = population(&mut rng);
        let history = draw(&mut rng, &SELF_CMDS, &SELF_W, 5000);
        let mut b = Baseline::train(&history, &pop, cfg).unwrap();
        // The target mix: new commands, or (harder to see) the agent's own rarest commands.
        let (tnames, tw): (Vec<&str>, Vec<f64>) = if known {
            (vec!["grep", "gcc"], vec![1.0, 1.0])
        } else {
            (EVIL_CMDS.to_vec(), vec![1.0; 4])
        };
        let target = draw(&mut rng, &tnames, &tw, 100);
        let before = b.score(b.profile().last(), &target, &pop, cfg).z;
        let mut names: Vec<&str> = SELF_CMDS.to_vec();
        names.extend(&tnames);
        for i in 0..windows {
            // Share of the target mix rises by 1% per window (slowly enough to look clean).
            let share = ((i + 1) as f64 / 100.0).min(1.0);
            let mut w: Vec<f64> = SELF_W.iter().map(|x| x * (1.0 - share) / 85.0).collect();
            w.extend(tw.iter().map(|x| x * share / tw.len() as f64));
            let window = draw(&mut rng, &names, &w, 100);
            let mass_before = b.profile().mass();
            let v = b.step(&window, &pop, cfg).unwrap();
            // One update adds at most max_step of the current mass.
            assert!(v.learned <= cfg.max_step * mass_before + 1e-3);
        }
        let after = b.score(b.profile().last(), &target, &pop, cfg).z;
        eprintln!(
            "target window z: {before:.1} before, {after:.1} after {windows} poisoned windows (learned {:.0})",
            b.learned()
        );
        (before, after, b)
    }

    #[test]
    fn slow_drift_toward_own_rare_commands_is_stopped_by_the_gate() {
        let cfg = Config::default();
        let (before, after, b) = campaign(&cfg, 300, true);
        assert!(before > 10.0, "target is anomalous at first: {before}");
        assert!(
            b.learned() > 0.0,
            "some early, nearly clean windows are learned"
        );
        // The gate (on the frozen calibration) stops learning once the drift shows, long before
        // the epoch budget is spent; the target stays far above any alarm threshold.
        assert!(b.learned() < cfg.epoch_budget * 5000.0 / 4.0);
        assert!(
            after > 0.6 * before && after > 5.0,
            "poisoner moved the target from {before} to {after}"
        );
    }

    #[test]
    fn drift_toward_new_commands_is_never_learned() {
        let cfg = Config::default();
        let (before, after, b) = campaign(&cfg, 300, false);
        assert_eq!(b.learned(), 0.0);
        assert!(
            before > 20.0 && (after - before).abs() < 1.0,
            "{before} -> {after}"
        );
    }

    #[test]
    fn bounds_alone_cap_the_learned_share() {
        // Even if every poisoned window passed the gate, the step and epoch bounds hold.
        let cfg = Config {
            learn_below: f32::MAX,
            ..Config::default()
        };
        let slow = Config {
            max_step: 0.005,
            ..cfg
        };
        let (_, bounded_20, _) = campaign(&slow, 20, true);
        let (_, _, b) = campaign(&cfg, 300, true);
        assert!(b.learned() <= cfg.epoch_budget * 5000.0 + 1e-2);
        let share = b.learned() / b.profile().mass();
        assert!(
            share <= cfg.epoch_budget / (1.0 + cfg.epoch_budget) + 1e-3,
            "share {share}"
        );
        let free = Config {
            learn_below: f32::MAX,
            max_step: 1e6,
            epoch_budget: 1e6,
            ..Config::default()
        };
        let (_, free_20, _) = campaign(&free, 20, true);
        assert!(
            bounded_20 > free_20,
            "the step bound slows the walk: {bounded_20} vs {free_20}"
        );
    }

    #[test]
    fn without_gate_and_bounds_the_same_poisoner_succeeds() {
        // The control that keeps the tests above honest: learn everything, no bound.
        let cfg = Config {
            learn_below: f32::MAX,
            max_step: 1e6,
            epoch_budget: 1e6,
            ..Config::default()
        };
        let (before, after, _) = campaign(&cfg, 300, true);
        assert!(before > 10.0);
        assert!(after < 0.0, "unbounded updating: {before} -> {after}");
    }

    #[test]
    fn rebase_starts_a_new_budget() {
        let cfg = Config {
            learn_below: f32::MAX,
            ..Config::default()
        };
        let (_, _, mut b) = campaign(&cfg, 300, true);
        assert!(b.learned() > 0.0);
        b.rebase(0.5);
        assert_eq!(b.learned(), 0.0);
    }
}

/// The monitor: alerts, thresholds, determinism.
mod monitor {
    use super::*;

    fn run() -> Vec<(u64, u64)> {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let pop = population(&mut rng);
        let mut m = Monitor::new(Config::default(), pop, 4.0).unwrap();
        for a in 0..4u64 {
            m.enroll(AgentId(a), &draw(&mut rng, &SELF_CMDS, &SELF_W, 3000))
                .unwrap();
        }
        let mut alerts = Vec::new();
        for round in 0..10 {
            for a in 0..4u64 {
                // Agent 3 is taken over from round 5 on.
                let evil = a == 3 && round >= 5;
                let w = if evil {
                    draw(&mut rng, &EVIL_CMDS, &[1.0; 4], 100)
                } else {
                    draw(&mut rng, &SELF_CMDS, &SELF_W, 100)
                };
                for e in &w {
                    if let Some(al) = m.observe(AgentId(a), e).unwrap() {
                        alerts.push((al.agent.0, al.window));
                    }
                }
            }
        }
        alerts
    }

    #[test]
    fn alerts_only_on_the_taken_over_agent_and_are_deterministic() {
        let alerts = run();
        assert_eq!(alerts, vec![(3, 5), (3, 6), (3, 7), (3, 8), (3, 9)]);
        assert_eq!(run(), alerts);
    }

    #[test]
    fn per_agent_threshold_overrides_global_and_unknown_agents_are_errors() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let pop = population(&mut rng);
        let mut m = Monitor::new(Config::default(), pop, 1e6).unwrap();
        m.enroll(AgentId(1), &draw(&mut rng, &SELF_CMDS, &SELF_W, 3000))
            .unwrap();
        m.set_threshold(AgentId(1), Some(-1e6)).unwrap();
        let mut n = 0;
        for e in &draw(&mut rng, &SELF_CMDS, &SELF_W, 200) {
            n += usize::from(m.observe(AgentId(1), e).unwrap().is_some());
        }
        assert_eq!(n, 2);
        assert!(m.observe(AgentId(2), &Event::command("ls")).is_err());
        assert!(m.set_threshold(AgentId(2), Some(1.0)).is_err());
        assert!(m.set_threshold(AgentId(1), Some(f32::NAN)).is_err());
        assert!(m.bytes_per_agent() < 5000, "{}", m.bytes_per_agent());
    }

    #[test]
    fn capability_mix_raises_the_score() {
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let mut pop = Population::new();
        let safe = Capabilities::FILE_READ;
        let risky = Capabilities::NETWORK_UPLOAD | Capabilities::READS_SENSITIVE;
        let mut mixed: Vec<Event> = draw(&mut rng, &SELF_CMDS, &SELF_W, 2000);
        for (i, e) in mixed.iter_mut().enumerate() {
            e.caps = if i % 2 == 0 { safe } else { risky };
        }
        pop.add_stream(&mixed);
        let cfg = Config::default();
        let mut history = draw(&mut rng, &SELF_CMDS, &SELF_W, 2000);
        for e in &mut history {
            e.caps = safe;
        }
        let b = Baseline::train(&history, &pop, &cfg).unwrap();
        let same = &history[..100];
        let mut odd = same.to_vec();
        for e in &mut odd {
            e.caps = risky;
        }
        let (s1, s2) = (
            b.score(b.profile().last(), same, &pop, &cfg),
            b.score(b.profile().last(), &odd, &pop, &cfg),
        );
        assert!(s2.scores.caps > s1.scores.caps + 50.0);
        assert!(s2.z > s1.z + 3.0);
    }
}

/// SimHash fingerprints and the LSH index.
mod similarity {
    use super::*;

    /// `clusters` behaviour types, `per` agents each; each agent a noisy copy of its type.
    fn fleet(rng: &mut ChaCha20Rng, clusters: usize, per: usize) -> Vec<(usize, Features)> {
        let types: Vec<Vec<(u64, f32)>> = (0..clusters)
            .map(|_| {
                (0..30)
                    .map(|_| {
                        (
                            u64::from(rng.next_u32() % 2000),
                            1.0 + (rng.next_u32() % 100) as f32,
                        )
                    })
                    .collect()
            })
            .collect();
        let mut out = Vec::new();
        for (c, t) in types.iter().enumerate() {
            for _ in 0..per {
                let noisy = t
                    .iter()
                    .map(|(k, w)| (*k, w * (0.9 + (rng.next_u32() % 20) as f32 / 100.0)));
                out.push((c, Features::from_pairs(noisy)));
            }
        }
        out
    }

    #[test]
    fn nearest_finds_the_same_type_with_few_comparisons() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let h = SimHasher::new(&mut rng);
        let agents = fleet(&mut rng, 50, 20);
        let mut index = LshIndex::new(8);
        let fps: Vec<_> = agents.iter().map(|(_, f)| h.fingerprint(f)).collect();
        for (i, fp) in fps.iter().enumerate() {
            index.insert(AgentId(i as u64), *fp);
        }
        let (mut right, mut total, mut comparisons) = (0, 0, 0u64);
        for (i, fp) in fps.iter().enumerate().step_by(7) {
            let n = index.nearest(*fp, 10, 12);
            comparisons += n.comparisons;
            for (a, _) in n.agents {
                total += 1;
                right += usize::from(agents[a.0 as usize].0 == agents[i].0);
            }
        }
        let queries = fps.len().div_ceil(7) as u64;
        assert!(total >= 10 * queries as usize * 9 / 10, "found {total}");
        assert!(
            right * 100 >= total * 99,
            "{right}/{total} in the same type"
        );
        // A linear scan would compare each query with all 1,000 agents.
        assert!(
            comparisons < queries * 1000 / 5,
            "{comparisons} comparisons for {queries} queries"
        );
    }

    #[test]
    fn coordinated_shift_is_grouped_and_correlated() {
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        let h = SimHasher::new(&mut rng);
        let base = fleet(&mut rng, 100, 10);
        let campaign: Vec<(u64, f32)> = (0..5).map(|i| (5000 + i, 30.0)).collect();
        let mut rows = Vec::new();
        for (i, (_, before)) in base.iter().enumerate() {
            let after = if i % 50 == 0 {
                // 20 agents of different types pick up the same new behaviour.
                Features::from_pairs(
                    before
                        .pairs()
                        .iter()
                        .copied()
                        .chain(campaign.iter().copied()),
                )
            } else {
                // The rest drift a little, each its own way.
                Features::from_pairs(
                    before
                        .pairs()
                        .iter()
                        .map(|(k, w)| (*k, w * (0.8 + (rng.next_u32() % 40) as f32 / 100.0))),
                )
            };
            rows.push((AgentId(i as u64), before.clone(), after));
        }
        let g = shifted_together(&h, &rows, 50.0, 8, 8, 5);
        assert!(!g.groups.is_empty());
        let want: Vec<AgentId> = (0..1000).step_by(50).map(|i| AgentId(i as u64)).collect();
        assert_eq!(g.groups[0], want);
        let n = rows.len() as u64;
        assert!(
            g.comparisons < n * (n - 1) / 2 / 10,
            "{} comparisons",
            g.comparisons
        );
        let shifts: Vec<Features> = want
            .iter()
            .map(|a| rows[a.0 as usize].1.shift_to(&rows[a.0 as usize].2))
            .collect();
        let refs: Vec<&Features> = shifts.iter().collect();
        let (m, mean) = correlation(&refs);
        assert_eq!(m.len(), 400);
        assert!(mean > 0.9, "mean correlation {mean}");
    }

    #[test]
    fn fingerprints_depend_on_the_secret() {
        let f = Features::from_events(&draw(
            &mut ChaCha20Rng::seed_from_u64(1),
            &SELF_CMDS,
            &SELF_W,
            500,
        ));
        let a = SimHasher::new(&mut ChaCha20Rng::seed_from_u64(100));
        let b = SimHasher::new(&mut ChaCha20Rng::seed_from_u64(101));
        assert_eq!(a.fingerprint(&f), a.fingerprint(&f));
        assert!(a.fingerprint(&f).distance(b.fingerprint(&f)) > 10);
        assert!(
            !format!("{a:?}").contains(&format!("{}", 0)) || format!("{a:?}").contains("secret")
        );
    }
}

/// Bounded memory and never panicking on arbitrary input.
mod robustness {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn profile_memory_stays_under_4_kib() {
        let mut rng = ChaCha20Rng::seed_from_u64(31);
        let mut p = toolcap_behavior::Profile::new(toolcap_behavior::Capacity::AGENT);
        // Far more distinct commands and transitions than the tables hold.
        for _ in 0..50_000 {
            p.observe(&Event::command(&format!("c{}", rng.next_u32() % 5000)));
        }
        assert!(p.bytes() <= 4096, "{} bytes", p.bytes());
        assert!(p.dropped() > 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn train_and_step_never_panic(
            cmds in proptest::collection::vec((0u32..50, any::<u32>()), 0..1200),
            window in proptest::collection::vec((any::<u32>(), any::<u32>()), 0..150),
        ) {
            let ev = |(c, caps): (u32, u32)| Event {
                command: toolcap_behavior::CommandId::from_raw(c),
                caps: Capabilities::from_bits_truncate(caps),
                at_ms: None,
            };
            let history: Vec<Event> = cmds.into_iter().map(ev).collect();
            let mut pop = Population::new();
            pop.add_stream(&history);
            let cfg = Config::default();
            match Baseline::train(&history, &pop, &cfg) {
                Ok(mut b) => {
                    let w: Vec<Event> = window.into_iter().map(ev).collect();
                    match b.step(&w, &pop, &cfg) {
                        Ok(v) => prop_assert!(v.z.is_finite()),
                        Err(_) => prop_assert!(w.is_empty()),
                    }
                }
                Err(_) => prop_assert!(history.len() < cfg.window * cfg.folds),
            }
        }

        #[test]
        fn roc_never_panics(s in proptest::collection::vec((any::<f64>(), any::<bool>()), 0..200)) {
            let (scores, labels): (Vec<f64>, Vec<bool>) = s.into_iter().unzip();
            if let Ok(r) = Roc::new(&scores, &labels) {
                let auc = r.auc();
                prop_assert!((0.0..=1.0 + 1e-9).contains(&auc));
                prop_assert!(r.at_false_alarm(0.05).false_alarm <= 0.05 + 1e-9);
            }
        }
    }
}
