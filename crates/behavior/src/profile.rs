//! Profiles, the population model, the detectors and the calibrated baseline.

use crate::error::Error;
use crate::event::{CommandId, Event};
use crate::table::{CountTable, Sketch, pair_key};

/// Capability bits tracked by the capability-mix detector: the named bit positions of
/// [`toolcap_descriptor::Capabilities`] (higher bits are reserved and ignored).
pub const CAP_BITS: usize = 16;

/// Sizes of one profile's tables (4 bytes per slot): what bounds its memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Capacity {
    /// Slots of the command table.
    pub command_slots: u32,
    /// Slots of the transition table.
    pub transition_slots: u32,
}

impl Capacity {
    /// An agent's profile: 256 command and 640 transition slots, 3.5 KiB of tables.
    pub const AGENT: Capacity = Capacity {
        command_slots: 256,
        transition_slots: 640,
    };
}

/// Weights of the detectors in the combined score. Every detector score is a log-likelihood ratio in
/// nats (or a count of never-seen events), so the weights are exchange rates between them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    /// Multinomial naive Bayes: `log P(window | population) - log P(window | self)`.
    pub bayes: f32,
    /// First-order Markov: the same ratio over transitions `(previous, current)`.
    pub markov: f32,
    /// Novelty: events whose command the agent has never used.
    pub novelty: f32,
    /// Capability mix: the likelihood ratio over capability flags.
    pub caps: f32,
}

impl Weights {
    /// The default combination (see `docs/behavior.md` for what each part adds, measured).
    pub const DEFAULT: Weights = Weights {
        bayes: 1.0,
        markov: 1.0,
        novelty: 0.0,
        caps: 1.0,
    };
}

/// Hyperparameters of the detector. They are few on purpose, and none is per agent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Table sizes of each agent's profile.
    pub capacity: Capacity,
    /// Dirichlet prior mass pulling the agent's command distribution toward the population's.
    pub prior_mass: f32,
    /// Prior mass pulling each transition distribution toward the unigram distribution.
    pub transition_prior: f32,
    /// Detector weights.
    pub weights: Weights,
    /// Events per window (the unit that is scored and learned).
    pub window: usize,
    /// Cross-validation folds of the training stream used for calibration.
    pub folds: usize,
    /// A window is learned only when its calibrated score is below this (a z-score).
    pub learn_below: f32,
    /// One update adds at most this fraction of the profile's current mass.
    pub max_step: f32,
    /// One epoch (from training or the last [`Baseline::rebase`]) adds at most this multiple of the
    /// epoch's starting mass.
    pub epoch_budget: f32,
    /// Floor of the calibration spread, in nats, so a very regular agent is not over-sensitive.
    pub min_spread: f32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            capacity: Capacity::AGENT,
            prior_mass: 1.0,
            transition_prior: 2.0,
            weights: Weights::DEFAULT,
            window: 100,
            folds: 5,
            learn_below: 2.0,
            max_step: 0.05,
            epoch_budget: 2.0,
            min_spread: 1.0,
        }
    }
}

impl Config {
    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), Error> {
        let pos = |x: f32| x.is_finite() && x > 0.0;
        if !pos(self.prior_mass) || !pos(self.transition_prior) {
            return Err(Error::Config("priors must be positive"));
        }
        if self.window == 0 || self.folds < 2 {
            return Err(Error::Config(
                "window must be positive and folds at least 2",
            ));
        }
        if !self.learn_below.is_finite() && self.learn_below != f32::NEG_INFINITY {
            return Err(Error::Config("learn_below must be finite or -inf"));
        }
        let bound = |x: f32| x.is_finite() && x >= 0.0;
        if !bound(self.max_step) || !bound(self.epoch_budget) {
            return Err(Error::Config(
                "update bounds must be finite and non-negative",
            ));
        }
        if !pos(self.min_spread) {
            return Err(Error::Config("min_spread must be positive"));
        }
        let w = self.weights;
        if ![w.bayes, w.markov, w.novelty, w.caps]
            .iter()
            .all(|x| x.is_finite() && *x >= 0.0)
        {
            return Err(Error::Config("weights must be finite and non-negative"));
        }
        Ok(())
    }
}

/// Counts of one agent's behaviour: commands, transitions, capability flags.
///
/// Memory is fixed by its [`Capacity`] (the tables are allocated on first use and never grow);
/// [`Profile::observe`] is O(1).
#[derive(Clone, Debug)]
pub struct Profile {
    commands: Sketch,
    transitions: Sketch,
    caps: [f32; CAP_BITS],
    total: f32,
    last: u32,
}

impl Profile {
    /// An empty profile with the given table sizes.
    pub fn new(capacity: Capacity) -> Profile {
        Profile {
            commands: Sketch::new(capacity.command_slots),
            transitions: Sketch::new(capacity.transition_slots),
            caps: [0.0; CAP_BITS],
            total: 0.0,
            last: 0,
        }
    }

    /// Counts one event with weight 1.
    #[inline]
    pub fn observe(&mut self, e: &Event) {
        self.add(e, 1.0);
    }

    #[inline]
    fn add(&mut self, e: &Event, w: f32) {
        let c = e.command.raw();
        self.commands.add(c, w);
        if self.last != 0 {
            self.transitions.add(pair_key(self.last, c), w);
        }
        add_caps(&mut self.caps, e, w);
        self.total += w;
        self.last = c;
    }

    /// Events counted (a weighted sum once windows were learned with weights below 1).
    pub fn mass(&self) -> f32 {
        self.total
    }

    /// Distinct commands held.
    pub fn distinct(&self) -> u32 {
        self.commands.len()
    }

    /// Distinct transitions held.
    pub fn transitions(&self) -> u32 {
        self.transitions.len()
    }

    /// The count of a command.
    pub fn count(&self, c: CommandId) -> f32 {
        self.commands.count(c.raw())
    }

    /// The last command counted (the predecessor of the next event).
    pub fn last(&self) -> CommandId {
        CommandId::from_raw(self.last)
    }

    /// Mass that could not be stored (or was evicted) because a table was full.
    pub fn dropped(&self) -> f32 {
        self.commands.dropped() + self.transitions.dropped()
    }

    /// Bytes this profile occupies: the struct plus its heap tables.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Profile>() + self.commands.heap_bytes() + self.transitions.heap_bytes()
    }

    /// Capability flag counts, by bit.
    pub fn caps(&self) -> &[f32; CAP_BITS] {
        &self.caps
    }

    /// Multiplies every count by `f` (forgetting).
    fn scale(&mut self, f: f32) {
        self.commands.scale(f);
        self.transitions.scale(f);
        for c in &mut self.caps {
            *c *= f;
        }
        self.total *= f;
    }
}

#[inline]
fn add_caps(caps: &mut [f32; CAP_BITS], e: &Event, w: f32) {
    let mut bits = e.caps.bits() & ((1 << CAP_BITS) - 1);
    while bits != 0 {
        caps[bits.trailing_zeros() as usize] += w;
        bits &= bits - 1;
    }
}

/// The reference "not this agent" model: pooled behaviour of other agents (a fleet baseline, or
/// other users' training data in the masquerade benchmark). Shared by many agents, so its tables
/// are exact and large rather than bounded per agent.
#[derive(Clone, Debug)]
pub struct Population {
    commands: CountTable,
    transitions: CountTable,
    caps: [f32; CAP_BITS],
    total: f32,
    norm: f32,
    cap_norm: f32,
}

impl Population {
    /// An empty population.
    pub fn new() -> Population {
        Population {
            commands: CountTable::new(1 << 16),
            transitions: CountTable::new(1 << 20),
            caps: [0.0; CAP_BITS],
            total: 0.0,
            norm: 1.0,
            cap_norm: 1.0,
        }
    }

    /// Adds one agent's stream (counted as its own sequence: no transition across streams).
    pub fn add_stream(&mut self, events: &[Event]) {
        let mut last = 0;
        for e in events {
            let c = e.command.raw();
            self.commands.add(c, 1.0);
            if last != 0 {
                self.transitions.add(pair_key(last, c), 1.0);
            }
            add_caps(&mut self.caps, e, 1.0);
            self.total += 1.0;
            last = c;
        }
        self.refresh();
    }

    /// Adds another population's counts.
    pub fn merge(&mut self, other: &Population) {
        for (k, c) in other.commands.iter() {
            self.commands.add(k, c);
        }
        for (k, c) in other.transitions.iter() {
            self.transitions.add(k, c);
        }
        for (a, b) in self.caps.iter_mut().zip(other.caps.iter()) {
            *a += *b;
        }
        self.total += other.total;
        self.refresh();
    }

    fn refresh(&mut self) {
        // Additive smoothing (Lidstone, 0.5) over the commands seen plus one slot for the unseen.
        self.norm = self.total + 0.5 * (self.commands.len() as f32 + 1.0);
        self.cap_norm = self.caps.iter().sum::<f32>() + 0.5 * CAP_BITS as f32;
    }

    /// Events counted.
    pub fn mass(&self) -> f32 {
        self.total
    }

    /// Distinct commands seen.
    pub fn distinct(&self) -> u32 {
        self.commands.len()
    }

    /// The smoothed probability of a command.
    #[inline]
    pub fn probability(&self, c: CommandId) -> f32 {
        (self.commands.count(c.raw()) + 0.5) / self.norm
    }

    /// Every (command, count) pair.
    pub fn commands(&self) -> impl Iterator<Item = (CommandId, f32)> + '_ {
        self.commands
            .iter()
            .map(|(k, c)| (CommandId::from_raw(k), c))
    }
}

impl Default for Population {
    fn default() -> Population {
        Population::new()
    }
}

/// The detector scores of one window. Higher is more anomalous.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    /// Naive Bayes log-likelihood ratio, nats.
    pub bayes: f32,
    /// Markov log-likelihood ratio, nats.
    pub markov: f32,
    /// Events whose command the agent never used.
    pub novelty: f32,
    /// Capability-mix log-likelihood ratio, nats.
    pub caps: f32,
    /// Events scored.
    pub events: u32,
}

impl Scores {
    /// The weighted sum.
    pub fn combined(&self, w: &Weights) -> f32 {
        w.bayes * self.bayes
            + w.markov * self.markov
            + w.novelty * self.novelty
            + w.caps * self.caps
    }

    /// Adds another window part's scores.
    pub fn accumulate(&mut self, o: &Scores) {
        self.bayes += o.bayes;
        self.markov += o.markov;
        self.novelty += o.novelty;
        self.caps += o.caps;
        self.events += o.events;
    }
}

/// Scores events against a profile and a population.
#[derive(Clone, Copy, Debug)]
pub struct Scorer<'a> {
    profile: &'a Profile,
    population: &'a Population,
    prior: f32,
    tprior: f32,
    norm: f32,
    cap_norm: f32,
}

impl<'a> Scorer<'a> {
    /// A scorer for `profile` against `population` with the priors of `cfg`.
    pub fn new(profile: &'a Profile, population: &'a Population, cfg: &Config) -> Scorer<'a> {
        Scorer {
            profile,
            population,
            prior: cfg.prior_mass,
            tprior: cfg.transition_prior,
            norm: 1.0 / (profile.total + cfg.prior_mass),
            cap_norm: 1.0 / (profile.caps.iter().sum::<f32>() + cfg.prior_mass),
        }
    }

    /// The scores of one event that follows `prev`.
    #[inline]
    pub fn event(&self, prev: CommandId, e: &Event) -> Scores {
        let c = e.command.raw();
        let pop = self.population;
        let me = self.profile;
        let pq = pop.probability(e.command);
        let ns = me.commands.count(c);
        // Self model: a Dirichlet posterior whose prior is the population distribution
        // (mass `prior`), so a command the agent never used keeps a small, population-shaped
        // probability instead of an arbitrary constant.
        let ps = (ns + self.prior * pq) * self.norm;
        let mut s = Scores {
            bayes: (pq / ps).ln(),
            events: 1,
            ..Scores::default()
        };
        if ns == 0.0 {
            s.novelty = 1.0;
        }
        let p = prev.raw();
        if p != 0 {
            // Transition models interpolate toward their own unigram model (a Dirichlet prior of
            // mass `tprior`): P(c | p) = (n(p, c) + t P(c)) / (n(p) + t).
            let t = self.tprior;
            let k = pair_key(p, c);
            let q_pc = (pop.transitions.count(k) + t * pq) / (pop.commands.count(p) + t);
            let s_pc = (me.transitions.count(k) + t * ps) / (me.commands.count(p) + t);
            s.markov = (q_pc.min(1.0) / s_pc.min(1.0)).ln();
        }
        let mut bits = e.caps.bits() & ((1 << CAP_BITS) - 1);
        if bits != 0 {
            let mut caps = 0.0;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                let qb = (pop.caps[b] + 0.5) / pop.cap_norm;
                let sb = (me.caps[b] + self.prior * qb) * self.cap_norm;
                caps += (qb / sb).ln();
                bits &= bits - 1;
            }
            s.caps = caps;
        }
        s
    }

    /// The scores of a window whose first event follows `prev`. Does not read any history.
    pub fn window(&self, prev: CommandId, window: &[Event]) -> Scores {
        let mut total = Scores::default();
        let mut p = prev;
        for e in window {
            total.accumulate(&self.event(p, e));
            p = e.command;
        }
        total
    }
}

/// How to turn one agent's combined score into a calibrated one: a z-score against the agent's own
/// cross-validated clean windows, so one global threshold means about one false-alarm rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    /// Mean combined score of clean windows.
    pub mean: f32,
    /// Their spread (standard deviation, floored).
    pub spread: f32,
}

impl Calibration {
    /// Fits mean and spread to clean-window scores (spread floored at `min_spread`).
    pub fn fit(scores: &[f32], min_spread: f32) -> Calibration {
        let n = scores.len().max(1) as f32;
        let mean = scores.iter().sum::<f32>() / n;
        let var = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f32>() / (n - 1.0).max(1.0);
        Calibration {
            mean,
            spread: var.sqrt().max(min_spread),
        }
    }

    /// The calibrated (z) score.
    pub fn z(&self, combined: f32) -> f32 {
        (combined - self.mean) / self.spread
    }
}

/// The outcome of scoring (and perhaps learning) one window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// The detector scores.
    pub scores: Scores,
    /// The calibrated combined score (higher is more anomalous).
    pub z: f32,
    /// Mass learned from the window (0 when it was not judged clean or the budget is spent).
    pub learned: f32,
}

/// An agent's calibrated baseline: its profile, its calibration and the update budget.
#[derive(Clone, Debug)]
pub struct Baseline {
    profile: Profile,
    calibration: Calibration,
    epoch_mass: f32,
    learned: f32,
}

impl Baseline {
    /// Trains a profile on `events` and calibrates it by `cfg.folds`-fold cross-validation: each
    /// fold's windows are scored by a profile trained on the other folds.
    pub fn train(
        events: &[Event],
        population: &Population,
        cfg: &Config,
    ) -> Result<Baseline, Error> {
        cfg.validate()?;
        let need = cfg.window * cfg.folds;
        if events.len() < need {
            return Err(Error::TooShort {
                got: events.len(),
                need,
            });
        }
        let fold_len = events.len() / cfg.folds;
        let mut cv = Vec::with_capacity(events.len() / cfg.window);
        for f in 0..cfg.folds {
            let (lo, hi) = (
                f * fold_len,
                if f + 1 == cfg.folds {
                    events.len()
                } else {
                    (f + 1) * fold_len
                },
            );
            let mut p = Profile::new(cfg.capacity);
            for e in events[..lo].iter().chain(&events[hi..]) {
                p.observe(e);
            }
            let scorer = Scorer::new(&p, population, cfg);
            let fold = &events[lo..hi];
            let mut prev = if lo == 0 {
                CommandId::NONE
            } else {
                events[lo - 1].command
            };
            for w in fold.chunks_exact(cfg.window) {
                cv.push(scorer.window(prev, w).combined(&cfg.weights));
                prev = w[w.len() - 1].command;
            }
        }
        let mut profile = Profile::new(cfg.capacity);
        for e in events {
            profile.observe(e);
        }
        let calibration = Calibration::fit(&cv, cfg.min_spread);
        Ok(Baseline {
            epoch_mass: profile.mass(),
            profile,
            calibration,
            learned: 0.0,
        })
    }

    /// Scores a window that follows the profile's last event; if it is judged clean, learns it
    /// within the update bounds of `cfg`.
    pub fn step(
        &mut self,
        window: &[Event],
        population: &Population,
        cfg: &Config,
    ) -> Result<Verdict, Error> {
        self.step_events(window.iter().copied(), population, cfg)
    }

    /// [`Baseline::step`] over any re-iterable sequence of events (the monitor's compact buffer).
    pub fn step_events<I>(
        &mut self,
        window: I,
        population: &Population,
        cfg: &Config,
    ) -> Result<Verdict, Error>
    where
        I: Iterator<Item = Event> + Clone,
    {
        let scorer = Scorer::new(&self.profile, population, cfg);
        let mut scores = Scores::default();
        let mut prev = self.profile.last();
        for e in window.clone() {
            scores.accumulate(&scorer.event(prev, &e));
            prev = e.command;
        }
        if scores.events == 0 {
            return Err(Error::EmptyWindow);
        }
        let z = self.calibration.z(scores.combined(&cfg.weights));
        let learned = if z < cfg.learn_below {
            self.learn(window, cfg)
        } else {
            self.skip(prev)
        };
        Ok(Verdict { scores, z, learned })
    }

    /// Scores a window without learning.
    pub fn score(
        &self,
        prev: CommandId,
        window: &[Event],
        population: &Population,
        cfg: &Config,
    ) -> Verdict {
        let scores = Scorer::new(&self.profile, population, cfg).window(prev, window);
        Verdict {
            scores,
            z: self.calibration.z(scores.combined(&cfg.weights)),
            learned: 0.0,
        }
    }

    /// Learns a window with the largest weight the bounds allow; returns the mass added.
    ///
    /// Two bounds, both relative so they hold at every scale: one update adds at most
    /// `max_step` times the current mass, and one epoch at most `epoch_budget` times the mass at
    /// its start. So after any sequence of updates in one epoch, at most
    /// `epoch_budget / (1 + epoch_budget)` of the profile's mass is learned (a mixture bound on how
    /// far its distributions can move), whatever a poisoner sends; and one update moves them by at
    /// most `max_step / (1 + max_step)` in total variation.
    pub fn learn<I>(&mut self, window: I, cfg: &Config) -> f32
    where
        I: Iterator<Item = Event> + Clone,
    {
        let n = window.clone().count() as f32;
        let room = (cfg.epoch_budget * self.epoch_mass - self.learned).max(0.0);
        let mass = n.min(cfg.max_step * self.profile.mass()).min(room);
        if mass <= 0.0 || n == 0.0 {
            let last = window.last().map_or(self.profile.last(), |e| e.command);
            return self.skip(last);
        }
        let w = mass / n;
        for e in window {
            self.profile.add(&e, w);
        }
        self.learned += mass;
        mass
    }

    /// Keeps the transition context without learning the window.
    fn skip(&mut self, last: CommandId) -> f32 {
        self.profile.last = last.raw();
        0.0
    }

    /// Starts a new update epoch from the current profile (an operator's or a policy's decision to
    /// accept the drift so far), optionally forgetting old mass by `keep` in (0, 1].
    pub fn rebase(&mut self, keep: f32) {
        if keep.is_finite() && keep > 0.0 && keep < 1.0 {
            self.profile.scale(keep);
        }
        self.epoch_mass = self.profile.mass();
        self.learned = 0.0;
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The calibration.
    pub fn calibration(&self) -> Calibration {
        self.calibration
    }

    /// Mass learned in the current epoch.
    pub fn learned(&self) -> f32 {
        self.learned
    }

    /// Bytes this baseline occupies.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Baseline>() - std::mem::size_of::<Profile>() + self.profile.bytes()
    }
}
