//! Tuning aid: runs the SEA protocol on `../shared/data/sea` with the default configuration
//! (or `KEY=VALUE` overrides) and prints AUC and hit rates at the published false-alarm rates, on
//! users 1-12, 13-25 and 1-25. `toolcap eval masquerade` is the supported interface.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // reason: a developer tool over trusted files

use toolcap_behavior::sea::{self, PUBLISHED};
use toolcap_behavior::{Config, Event, Roc};

fn main() {
    let dir = std::env::var("SEA").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sea").into()
    });
    let mut cfg = Config::default();
    for arg in std::env::args().skip(1) {
        let (k, v) = arg.split_once('=').expect("KEY=VALUE");
        let v: f32 = v.parse().expect("number");
        match k {
            "prior" => cfg.prior_mass = v,
            "tprior" => cfg.transition_prior = v,
            "learn" => cfg.learn_below = v,
            "step" => cfg.max_step = v,
            "budget" => cfg.epoch_budget = v,
            "spread" => cfg.min_spread = v,
            "bayes" => cfg.weights.bayes = v,
            "markov" => cfg.weights.markov = v,
            "novelty" => cfg.weights.novelty = v,
            "tslots" => cfg.capacity.transition_slots = v as u32,
            "slots" => cfg.capacity.command_slots = v as u32,
            "folds" => cfg.folds = v as usize,
            _ => panic!("unknown key {k}"),
        }
    }
    let users: Vec<Vec<Event>> = (1..=25)
        .map(|u| {
            std::fs::read_to_string(format!("{dir}/User{u}"))
                .unwrap()
                .lines()
                .map(|l| Event::command(l.trim()))
                .collect()
        })
        .collect();
    let labels: Vec<Vec<bool>> = {
        let text = std::fs::read_to_string(format!("{dir}/label.txt")).unwrap();
        let rows: Vec<Vec<bool>> = text
            .lines()
            .map(|l| l.split_whitespace().map(|c| c == "1").collect())
            .collect();
        (0..25)
            .map(|u| rows.iter().map(|r| r[u]).collect())
            .collect()
    };
    let t = std::time::Instant::now();
    let scores = sea::evaluate(&users, &cfg).unwrap();
    eprintln!("evaluated in {:.2} s", t.elapsed().as_secs_f64());
    top(&scores, &labels);
    for (name, lo, hi) in [("1-12", 0, 12), ("13-25", 12, 25), ("1-25", 0, 25)] {
        let s: Vec<f64> = scores[lo..hi]
            .iter()
            .flatten()
            .map(|x| f64::from(*x))
            .collect();
        let l: Vec<bool> = labels[lo..hi].iter().flatten().copied().collect();
        let roc = Roc::new(&s, &l).unwrap();
        let mut line = format!("{name:>5} AUC {:.4} |", roc.auc());
        let mut below = 0;
        for p in PUBLISHED {
            let h = roc.at_false_alarm(p.false_alarm / 100.0).hit * 100.0;
            if h <= p.hit {
                below += 1;
            }
            line += &format!(
                " {:.1}@{}{}",
                h,
                p.false_alarm,
                if h > p.hit { "" } else { "!" }
            );
        }
        println!("{line} | below {below}");
    }
}

#[allow(dead_code)]
fn top(scores: &[Vec<f32>], labels: &[Vec<bool>]) {
    let mut all: Vec<(f32, usize, usize, bool)> = Vec::new();
    for (u, row) in scores.iter().enumerate() {
        for (b, s) in row.iter().enumerate() {
            all.push((*s, u + 1, b + 1, labels[u][b]));
        }
    }
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (s, u, b, l) in all.iter().take(
        std::env::var("TOP")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    ) {
        eprintln!(
            "{s:8.2} user {u:2} block {b:3} {}",
            if *l { "MASQ" } else { "" }
        );
    }
}
