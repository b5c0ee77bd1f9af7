//! ROC curves and their area, from scores and labels.

use crate::error::Error;

/// One operating point: a threshold and its rates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RocPoint {
    /// Alarm when the score is at least this.
    pub threshold: f64,
    /// Alarms on negatives / negatives.
    pub false_alarm: f64,
    /// Alarms on positives / positives.
    pub hit: f64,
}

/// A ROC curve: every distinct threshold from "no alarm" to "all alarm".
#[derive(Clone, Debug, PartialEq)]
pub struct Roc {
    points: Vec<RocPoint>,
    positives: usize,
    negatives: usize,
}

impl Roc {
    /// The curve of `scores` (higher is more anomalous) against `labels` (true = positive).
    pub fn new(scores: &[f64], labels: &[bool]) -> Result<Roc, Error> {
        if scores.len() != labels.len() {
            return Err(Error::Labels("scores and labels differ in length"));
        }
        let positives = labels.iter().filter(|l| **l).count();
        let negatives = labels.len() - positives;
        if positives == 0 || negatives == 0 {
            return Err(Error::Labels("need at least one positive and one negative"));
        }
        let mut idx: Vec<usize> = (0..scores.len()).collect();
        idx.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
        let mut points = vec![RocPoint {
            threshold: f64::INFINITY,
            false_alarm: 0.0,
            hit: 0.0,
        }];
        let (mut tp, mut fp) = (0usize, 0usize);
        let mut i = 0;
        while i < idx.len() {
            let t = scores[idx[i]];
            // Tied scores move together: one threshold cannot split them.
            while i < idx.len() && scores[idx[i]].total_cmp(&t).is_eq() {
                if labels[idx[i]] {
                    tp += 1;
                } else {
                    fp += 1;
                }
                i += 1;
            }
            points.push(RocPoint {
                threshold: t,
                false_alarm: fp as f64 / negatives as f64,
                hit: tp as f64 / positives as f64,
            });
        }
        Ok(Roc {
            points,
            positives,
            negatives,
        })
    }

    /// The points, from the strictest threshold to the most lenient.
    pub fn points(&self) -> &[RocPoint] {
        &self.points
    }

    /// Area under the curve (trapezoids; ties count half, as in the Mann-Whitney statistic).
    pub fn auc(&self) -> f64 {
        self.points
            .windows(2)
            .map(|w| (w[1].false_alarm - w[0].false_alarm) * (w[1].hit + w[0].hit) / 2.0)
            .sum()
    }

    /// The best operating point whose false-alarm rate does not exceed `false_alarm`.
    pub fn at_false_alarm(&self, false_alarm: f64) -> RocPoint {
        let mut best = self.points[0];
        for p in &self.points {
            if p.false_alarm <= false_alarm + 1e-12 && p.hit >= best.hit {
                best = *p;
            }
        }
        best
    }

    /// Positives and negatives counted.
    pub fn counts(&self) -> (usize, usize) {
        (self.positives, self.negatives)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_random_and_ties() {
        let r = Roc::new(&[3.0, 2.0, 1.0, 0.0], &[true, true, false, false]).unwrap();
        assert_eq!(r.auc(), 1.0);
        assert_eq!(r.at_false_alarm(0.0).hit, 1.0);
        let r = Roc::new(&[1.0, 1.0], &[true, false]).unwrap();
        assert_eq!(r.auc(), 0.5);
        let r = Roc::new(&[0.0, 1.0], &[true, false]).unwrap();
        assert_eq!(r.auc(), 0.0);
        assert!(Roc::new(&[1.0], &[true]).is_err());
        assert!(Roc::new(&[1.0], &[true, false]).is_err());
    }
}
