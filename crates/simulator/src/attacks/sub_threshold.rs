//! `sub-threshold`: sleepers. Byzantine nodes behave well for the warm-up epochs, then each
//! adds a small bias in the same direction every epoch, growing by half a standard error per
//! epoch up to two standard errors: below the per-epoch outlier bound (five), so no single
//! epoch rejects them. Once active, Byzantine members withhold their endorsements (signing a
//! wrong hash would be a proof against them).

use toolcap_crypto::Hash;
use toolcap_fleet::{Moments, Summary};

use super::{Attack, AttackEntry, Ctx, MemberVote, shifted, std_error};

pub(super) const ENTRY: AttackEntry = AttackEntry {
    name: "sub-threshold",
    about: "sleepers: behave well, then add a small consistent bias every epoch",
    build: || Box::new(SubThreshold),
};

#[derive(Debug)]
struct SubThreshold;

/// Bias in standard errors at `ctx.epoch`: 0 during warm-up, then 0.5, 1.0, 1.5, 2.0, 2.0, ...
fn strength(ctx: &Ctx) -> f64 {
    if ctx.epoch < ctx.warmup {
        return 0.0;
    }
    (0.5 * f64::from(ctx.epoch - ctx.warmup + 1)).min(2.0)
}

impl Attack for SubThreshold {
    fn local_report(&self, ctx: &Ctx, honest: &Moments) -> Moments {
        let k = strength(ctx);
        if k == 0.0 {
            return honest.clone();
        }
        shifted(honest, |j, m| k * std_error(m, j))
    }

    fn proposal(&self, ctx: &Ctx, honest: &Summary) -> Summary {
        let k = strength(ctx);
        if k == 0.0 {
            return honest.clone();
        }
        // The aggregator's own tiny bias: a tenth of a standard error of its output.
        let mut s = honest.clone();
        s.output = shifted(&honest.output, |j, m| 0.1 * k * std_error(m, j));
        s
    }

    fn vote(&self, ctx: &Ctx, honest: Hash, _proposal: Hash) -> MemberVote {
        if strength(ctx) == 0.0 {
            MemberVote::Endorse(honest)
        } else {
            MemberVote::Withhold
        }
    }
}
