//! `tree-poisoning`: Byzantine nodes publish validly signed false summaries from the first
//! epoch: shifted means, deflated variance, inflated counts; Byzantine members endorse the
//! false output (or a fabricated hash) instead of the honest recomputation.

use toolcap_crypto::{Hash, sha3_256};
use toolcap_fleet::{Moments, Summary};

use super::{Attack, AttackEntry, Ctx, MemberVote, shifted, std_error};

pub(super) const ENTRY: AttackEntry = AttackEntry {
    name: "tree-poisoning",
    about: "validly signed false summaries: shifted means, deflated variance, inflated counts",
    build: || Box::new(TreePoisoning),
};

#[derive(Debug)]
struct TreePoisoning;

impl Attack for TreePoisoning {
    fn local_report(&self, ctx: &Ctx, honest: &Moments) -> Moments {
        // Three flavours by node id, so every defence is exercised in every run.
        match ctx.node.0 % 3 {
            // A mean shifted by one agent standard deviation: 8 standard errors at fan-in 64.
            0 => shifted(honest, |j, m| m.variance(j).sqrt()),
            // A moderate shift made to look precise: variance deflated a hundredfold.
            1 => {
                let s = shifted(honest, |j, m| 2.5 * std_error(m, j));
                let c: Vec<f64> = s.comoment().iter().map(|v| v * 0.01).collect();
                Moments::from_parts(s.count(), s.mean().to_vec(), c).unwrap_or(s)
            }
            // The same moderate shift with twenty times the real count, to buy weight.
            _ => {
                let s = shifted(honest, |j, m| 2.5 * std_error(m, j));
                let n = s.count().saturating_mul(20);
                let f = n as f64 / s.count().max(1) as f64;
                let c: Vec<f64> = s.comoment().iter().map(|v| v * f).collect();
                Moments::from_parts(n, s.mean().to_vec(), c).unwrap_or(s)
            }
        }
    }

    fn proposal(&self, _ctx: &Ctx, honest: &Summary) -> Summary {
        let mut s = honest.clone();
        let out = &honest.output;
        let moved = shifted(out, |j, m| 0.5 * m.variance(j).sqrt());
        let n = moved.count().saturating_mul(10);
        let c: Vec<f64> = moved.comoment().iter().map(|v| v * 0.1).collect();
        s.output = Moments::from_parts(n, moved.mean().to_vec(), c).unwrap_or(moved);
        s
    }

    fn vote(&self, _ctx: &Ctx, honest: Hash, proposal: Hash) -> MemberVote {
        if proposal != honest {
            // Back the lying aggregator.
            MemberVote::Endorse(proposal)
        } else {
            // Sign for an output of the coalition's own.
            MemberVote::Endorse(sha3_256(honest.as_bytes()))
        }
    }
}
