//! The Schonlau et al. masquerade benchmark protocol ("SEA"), without any I/O.
//!
//! M. Schonlau, W. DuMouchel, W.-H. Ju, A. F. Karr, M. Theus, Y. Vardi, "Computer Intrusion:
//! Detecting Masquerades", Statistical Science 16(1), 2001. Each user has 15,000 commands: the
//! first 5,000 are training data, then 100 test blocks of 100 commands.

use crate::error::Error;
use crate::event::Event;
use crate::profile::{Baseline, Config, Population};

/// Training commands per user.
pub const TRAIN: usize = 5_000;
/// Commands per test block.
pub const BLOCK: usize = 100;
/// Test blocks per user.
pub const BLOCKS: usize = 100;
/// Commands per user.
pub const COMMANDS: usize = TRAIN + BLOCK * BLOCKS;

/// A published operating point on the 50-user benchmark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Published {
    /// Method and source.
    pub method: &'static str,
    /// Hit rate, percent.
    pub hit: f64,
    /// False-alarm rate, percent.
    pub false_alarm: f64,
}

/// The 11 published results (hit % at false-alarm %) the detector is measured against.
pub const PUBLISHED: [Published; 11] = [
    Published {
        method: "Uniqueness (Schonlau et al. 2001)",
        hit: 39.4,
        false_alarm: 1.4,
    },
    Published {
        method: "Bayes one-step Markov (Schonlau et al. 2001)",
        hit: 69.3,
        false_alarm: 6.7,
    },
    Published {
        method: "Hybrid multistep Markov (Schonlau et al. 2001)",
        hit: 49.3,
        false_alarm: 3.2,
    },
    Published {
        method: "Compression (Schonlau et al. 2001)",
        hit: 34.2,
        false_alarm: 5.0,
    },
    Published {
        method: "Sequence match (Lane & Brodley)",
        hit: 36.8,
        false_alarm: 3.7,
    },
    Published {
        method: "IPAM (Davison & Hirsh)",
        hit: 41.1,
        false_alarm: 2.7,
    },
    Published {
        method: "Naive Bayes with updating (Maxion & Townsend 2002)",
        hit: 61.5,
        false_alarm: 1.3,
    },
    Published {
        method: "Naive Bayes without updating (Maxion & Townsend 2002)",
        hit: 66.2,
        false_alarm: 4.6,
    },
    Published {
        method: "Semi-global alignment (Coull et al. 2003)",
        hit: 75.8,
        false_alarm: 7.7,
    },
    Published {
        method: "Eigen co-occurrence matrix (Oka et al. 2004)",
        hit: 72.3,
        false_alarm: 2.5,
    },
    Published {
        method: "SVM with voting (Kim & Cha 2005)",
        hit: 80.1,
        false_alarm: 9.7,
    },
];

/// Runs the standard protocol on `users` (each exactly [`COMMANDS`] events) and returns, per user,
/// the calibrated score of each of the [`BLOCKS`] test blocks, in order.
///
/// For each user: the population model is the other users' training parts (never their test
/// blocks); the baseline is trained and calibrated on the user's own training part; then each
/// block is scored in order, and learned when it was judged clean (within the update bounds).
/// Labels are not an input: the scores cannot depend on them.
pub fn evaluate(users: &[Vec<Event>], cfg: &Config) -> Result<Vec<Vec<f32>>, Error> {
    for u in users {
        if u.len() != COMMANDS {
            return Err(Error::TooShort {
                got: u.len(),
                need: COMMANDS,
            });
        }
    }
    let mut out = Vec::with_capacity(users.len());
    for (i, u) in users.iter().enumerate() {
        let mut population = Population::new();
        for (j, other) in users.iter().enumerate() {
            if j != i {
                population.add_stream(&other[..TRAIN]);
            }
        }
        out.push(evaluate_user(u, &population, cfg)?);
    }
    Ok(out)
}

/// The protocol for one user against a given population model.
pub fn evaluate_user(
    events: &[Event],
    population: &Population,
    cfg: &Config,
) -> Result<Vec<f32>, Error> {
    if events.len() != COMMANDS {
        return Err(Error::TooShort {
            got: events.len(),
            need: COMMANDS,
        });
    }
    let mut baseline = Baseline::train(&events[..TRAIN], population, cfg)?;
    let mut scores = Vec::with_capacity(BLOCKS);
    for block in events[TRAIN..].chunks_exact(BLOCK) {
        scores.push(baseline.step(block, population, cfg)?.z);
    }
    Ok(scores)
}
