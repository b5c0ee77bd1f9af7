//! The simulated agents' behaviour and the evidence the real behavioural detector draws from it.
//!
//! Every agent has its own habits: a vocabulary of 20-120 commands out of a universe of 2,000, used
//! with Zipf(1) frequencies. Its baseline is trained by `toolcap-behavior` on 2,000 of its own
//! events, against a population model pooled from every agent of the region. A compromised agent
//! keeps part of its habits but half of its actions come from an intruder with habits of its own (a
//! masquerade, as in the SEA benchmark the detector is evaluated on). Each epoch, each honest
//! member of the region watches a fresh 100-event window of each agent and scores it with the
//! agent's baseline; the calibrated score `z` becomes the evidence record's log-likelihood ratio
//! (see [`llr_of_z`]).

use rand::Rng;
use rand_chacha::ChaCha20Rng;
use toolcap_behavior::{Baseline, Config, Event, Population};

use crate::Error;

/// Commands in the universe the vocabularies are drawn from.
const UNIVERSE: u32 = 2_000;
/// Events an agent's baseline is trained on (five folds of four windows).
const TRAINING: usize = 2_000;
/// Share of a compromised agent's actions that are the intruder's.
const INTRUDER_SHARE: f64 = 0.5;
/// The detector's design shift: compromised windows are modelled as `z ~ N(SHIFT, 1)`, clean
/// ones as `z ~ N(0, 1)` (the per-agent calibration standardises clean windows).
const SHIFT: f64 = 3.0;
/// Bound on one window's log-likelihood ratio, either sign, in nats: one window never decides
/// alone, and a mis-calibrated tail cannot dominate a reporter's total.
const LLR_BOUND: f64 = 4.0;
/// Calibrated score above which a window is reported as an alert rather than a clean sighting.
pub(crate) const ALERT_Z: f32 = 3.0;

/// One agent's habits: its commands and their cumulative Zipf weights.
#[derive(Debug, Clone)]
pub(crate) struct Habits {
    commands: Vec<Event>,
    cdf: Vec<f64>,
}

impl Habits {
    /// Draws a vocabulary of 20-120 distinct commands from the universe.
    pub(crate) fn draw(rng: &mut ChaCha20Rng) -> Habits {
        let size = rng.gen_range(20..=120usize);
        let mut picked: Vec<u32> = Vec::with_capacity(size);
        while picked.len() < size {
            let c = rng.gen_range(0..UNIVERSE);
            if !picked.contains(&c) {
                picked.push(c);
            }
        }
        let commands = picked
            .iter()
            .map(|c| Event::command(&format!("cmd{c}")))
            .collect();
        let mut total = 0.0;
        let mut cdf: Vec<f64> = (1..=size)
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        for w in &mut cdf {
            *w /= total;
        }
        Habits { commands, cdf }
    }

    fn one(&self, rng: &mut ChaCha20Rng) -> Event {
        let u: f64 = rng.r#gen();
        let i = self
            .cdf
            .partition_point(|c| *c < u)
            .min(self.commands.len() - 1);
        self.commands[i]
    }

    /// `n` events of these habits.
    pub(crate) fn stream(&self, rng: &mut ChaCha20Rng, n: usize) -> Vec<Event> {
        (0..n).map(|_| self.one(rng)).collect()
    }
}

/// An agent as the region sees it: its habits, its trained baseline, and the intruder's habits
/// if it is compromised.
#[derive(Debug)]
pub(crate) struct Watched {
    habits: Habits,
    intruder: Option<Habits>,
    baseline: Baseline,
}

/// The region's agents with their baselines, trained against a population pooled from all of them.
pub(crate) fn watch(
    rng: &mut ChaCha20Rng,
    compromised: &[bool],
) -> Result<(Vec<Watched>, Population, Config), Error> {
    let cfg = Config::default();
    let habits: Vec<Habits> = compromised.iter().map(|_| Habits::draw(rng)).collect();
    let training: Vec<Vec<Event>> = habits.iter().map(|h| h.stream(rng, TRAINING)).collect();
    let mut population = Population::new();
    for t in &training {
        population.add_stream(t);
    }
    let mut agents = Vec::with_capacity(habits.len());
    for ((h, t), bad) in habits.into_iter().zip(&training).zip(compromised) {
        let baseline = Baseline::train(t, &population, &cfg)?;
        let intruder = bad.then(|| Habits::draw(rng));
        agents.push(Watched {
            habits: h,
            intruder,
            baseline,
        });
    }
    Ok((agents, population, cfg))
}

impl Watched {
    /// The calibrated score of one fresh window of this agent's actions, as one member sees it.
    pub(crate) fn observe(
        &self,
        rng: &mut ChaCha20Rng,
        population: &Population,
        cfg: &Config,
    ) -> f32 {
        let window: Vec<Event> = (0..cfg.window)
            .map(|_| match &self.intruder {
                Some(i) if rng.gen_bool(INTRUDER_SHARE) => i.one(rng),
                _ => self.habits.one(rng),
            })
            .collect();
        let prev = self.baseline.profile().last();
        self.baseline.score(prev, &window, population, cfg).z
    }
}

/// The log-likelihood ratio of a window with calibrated score `z` under the detector's model
/// (clean `N(0, 1)`, compromised `N(SHIFT, 1)`): `SHIFT z - SHIFT^2 / 2`, bounded to
/// `±LLR_BOUND` nats.
pub(crate) fn llr_of_z(z: f32) -> f64 {
    let z = f64::from(z);
    if !z.is_finite() {
        return LLR_BOUND;
    }
    (SHIFT * z - SHIFT * SHIFT / 2.0).clamp(-LLR_BOUND, LLR_BOUND)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn the_detector_separates_intruders_from_habits() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let compromised: Vec<bool> = (0..40).map(|i| i % 4 == 0).collect();
        let (agents, population, cfg) = watch(&mut rng, &compromised).unwrap();
        let (mut clean, mut bad) = (Vec::new(), Vec::new());
        for (a, c) in agents.iter().zip(&compromised) {
            for _ in 0..10 {
                let z = a.observe(&mut rng, &population, &cfg);
                if *c { bad.push(z) } else { clean.push(z) }
            }
        }
        let alarms = |v: &[f32]| v.iter().filter(|z| **z > ALERT_Z).count() as f64 / v.len() as f64;
        assert!(alarms(&clean) < 0.05, "false alarms {}", alarms(&clean));
        assert!(alarms(&bad) > 0.9, "hits {}", alarms(&bad));
    }

    #[test]
    fn llr_is_bounded_and_monotone() {
        assert_eq!(llr_of_z(-10.0), -LLR_BOUND);
        assert_eq!(llr_of_z(50.0), LLR_BOUND);
        assert_eq!(llr_of_z(f32::NAN), LLR_BOUND);
        assert!((llr_of_z(1.5) - 0.0).abs() < 1e-9);
        assert!(llr_of_z(1.0) < llr_of_z(2.0));
    }
}
