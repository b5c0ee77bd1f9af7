//! Bayesian evidence consensus on "is agent X compromised".
//!
//! Each piece of evidence carries a log-likelihood ratio `ln P(obs | compromised) /
//! P(obs | clean)` in fixed point. A node's view of an agent is
//!
//! ```text
//! log-odds = prior + trimmed_sum over reporters r of clamp(sum_e w(kind_e) c_e llr_e, -cap, cap)
//! ```
//!
//! - Within a reporter, evidence adds up (independent observations multiply likelihoods):
//!   a sum, not a max or a mean, computed exactly in `i128` fixed point.
//! - Each reporter's total is capped at `cap` either way: a lying reporter moves the odds by
//!   at most `cap`, however much it sends (framing and covering are both bounded).
//! - Across reporters the `t = floor(trim R)` largest and `t` smallest capped totals are
//!   dropped. With at most `t` Byzantine reporters on an agent, every kept total lies between
//!   the smallest and the largest honest total, so framing an honest agent needs more than
//!   `t` colluding reporters *and* at least `min_reporters` positive reporters.
//! - Nodes' views (which can differ by what each received, or be lies) are combined by the
//!   median, and quarantine follows when the combined log-odds reach `threshold` (default
//!   `ln 99`: posterior at least 0.99) with at least `min_reporters` positive reporters.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};

/// Fractional bits of [`Llr`]: resolution 2^-16 nats.
pub const LLR_FRAC_BITS: u32 = 16;
const LLR_ONE: f64 = (1u64 << LLR_FRAC_BITS) as f64;

/// A log-likelihood ratio or log-odds in nats, fixed point with [`LLR_FRAC_BITS`] bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Llr(pub i64);

impl Llr {
    /// The nearest fixed-point value to `nats`; rejects non-finite and absurd (|x| > 2^40) values.
    pub fn from_nats(nats: f64) -> Result<Self> {
        if !nats.is_finite() || nats.abs() > (1u64 << 40) as f64 {
            return Err(Error::OutOfRange("llr"));
        }
        Ok(Llr((nats * LLR_ONE).round() as i64))
    }

    /// The value in nats.
    pub fn nats(self) -> f64 {
        self.0 as f64 / LLR_ONE
    }

    /// The posterior probability `1 / (1 + e^-x)` of these log-odds.
    pub fn probability(self) -> f64 {
        1.0 / (1.0 + (-self.nats()).exp())
    }
}

/// An agent's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentId(pub u64);

/// A fleet node's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvidenceKind {
    /// A behavioural detector's alert on the agent's window.
    Alert,
    /// The aggregation rejected a summary carrying the agent's data.
    Rejection,
    /// Drift of the agent against its own baseline over epochs.
    Drift,
    /// The agent's signed events violated clock or chain rules.
    Clock,
    /// A clean window (evidence against compromise; negative LLR).
    Clean,
}

impl EvidenceKind {
    /// All kinds, in code order.
    pub const ALL: [EvidenceKind; 5] = [
        EvidenceKind::Alert,
        EvidenceKind::Rejection,
        EvidenceKind::Drift,
        EvidenceKind::Clock,
        EvidenceKind::Clean,
    ];

    /// Stable one-byte code used in signed records.
    pub fn code(self) -> u8 {
        match self {
            EvidenceKind::Alert => 1,
            EvidenceKind::Rejection => 2,
            EvidenceKind::Drift => 3,
            EvidenceKind::Clock => 4,
            EvidenceKind::Clean => 5,
        }
    }

    /// The kind with this code.
    pub fn from_code(code: u8) -> Result<Self> {
        EvidenceKind::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or(Error::Malformed)
    }

    fn index(self) -> usize {
        usize::from(self.code() - 1)
    }
}

/// One evidence record. Every field is inside the signature of its signed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Unique id chosen by the reporter (e.g. a hash of its content and clock).
    pub id: [u8; 16],
    /// The agent the evidence is about.
    pub agent: AgentId,
    /// The node that reports it (and signs it).
    pub reporter: NodeId,
    /// Its source.
    pub kind: EvidenceKind,
    /// Log-likelihood ratio.
    pub llr: Llr,
    /// The reporter's confidence in per mille (0..=1000).
    pub confidence: u16,
    /// The reporter's vector-clock counter when it made the record.
    pub clock: u64,
    /// SHA3-256 of the observation it rests on (the window, the rejected summary, ...).
    pub payload: [u8; 32],
}

/// Parameters of the consensus.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsensusConfig {
    /// Prior log-odds of compromise (default `ln(0.01/0.99)`: a 1% base rate).
    pub prior: Llr,
    /// Weight of each kind in per mille, indexed by [`EvidenceKind::code`] - 1.
    pub weights: [u16; 5],
    /// Cap on one reporter's total contribution to one agent, either sign (default 6 nats).
    pub reporter_cap: Llr,
    /// Fraction of reporters trimmed on each side (default 0.25).
    pub trim: f64,
    /// Positive reporters required before quarantine (default 3).
    pub min_reporters: usize,
    /// Combined log-odds at which an agent is quarantined (default `ln 99`).
    pub threshold: Llr,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            prior: Llr((-(99f64.ln()) * LLR_ONE).round() as i64),
            weights: [1000, 1000, 800, 1000, 1000],
            reporter_cap: Llr(6 << LLR_FRAC_BITS),
            trim: 0.25,
            min_reporters: 3,
            threshold: Llr((99f64.ln() * LLR_ONE).round() as i64),
        }
    }
}

impl ConsensusConfig {
    /// `w(kind) * confidence * llr`, exact, truncated toward zero to fixed point.
    pub fn weighted(&self, e: &Evidence) -> i128 {
        let w = i128::from(self.weights[e.kind.index()]);
        let c = i128::from(e.confidence.min(1000));
        i128::from(e.llr.0) * w * c / 1_000_000
    }
}

/// Why a record was not added to a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The same id was already counted.
    Duplicate,
    /// The confidence is above 1000 per mille.
    Confidence,
}

/// One node's assessment of one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    /// The agent.
    pub agent: AgentId,
    /// Prior plus the trimmed sum of capped reporter totals.
    pub log_odds: Llr,
    /// Reporters whose kept, capped total is positive.
    pub positive_reporters: usize,
    /// Reporters with any evidence on the agent.
    pub reporters: usize,
}

/// One node's view: every evidence record it accepted, summed per (agent, reporter).
#[derive(Debug, Clone)]
pub struct EvidenceView {
    config: ConsensusConfig,
    seen: BTreeSet<[u8; 16]>,
    totals: BTreeMap<AgentId, BTreeMap<NodeId, i128>>,
}

impl EvidenceView {
    /// An empty view.
    pub fn new(config: ConsensusConfig) -> Self {
        EvidenceView {
            config,
            seen: BTreeSet::new(),
            totals: BTreeMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ConsensusConfig {
        &self.config
    }

    /// Counts one record (whose signature the caller has verified; see the signed form).
    pub fn add(&mut self, e: &Evidence) -> Result<(), Refusal> {
        if e.confidence > 1000 {
            return Err(Refusal::Confidence);
        }
        if !self.seen.insert(e.id) {
            return Err(Refusal::Duplicate);
        }
        let w = self.config.weighted(e);
        let t = self
            .totals
            .entry(e.agent)
            .or_default()
            .entry(e.reporter)
            .or_insert(0);
        // Saturate far beyond any cap: the cap is applied on read, the sum stays exact below.
        *t = t.saturating_add(w);
        Ok(())
    }

    /// Agents with any evidence.
    pub fn agents(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.totals.keys().copied()
    }

    /// The view's assessment of `agent` (the prior alone when there is no evidence).
    pub fn assess(&self, agent: AgentId) -> Assessment {
        let cap = i128::from(self.config.reporter_cap.0.abs());
        let mut capped: Vec<i128> = self
            .totals
            .get(&agent)
            .map(|m| m.values().map(|t| (*t).clamp(-cap, cap)).collect())
            .unwrap_or_default();
        capped.sort_unstable();
        let r = capped.len();
        let t = trim_count(r, self.config.trim);
        let kept = &capped[t..r - t];
        let sum: i128 = kept.iter().sum::<i128>() + i128::from(self.config.prior.0);
        Assessment {
            agent,
            log_odds: Llr(clamp_i64(sum)),
            positive_reporters: kept.iter().filter(|v| **v > 0).count(),
            reporters: r,
        }
    }
}

fn trim_count(n: usize, trim: f64) -> usize {
    let t = if trim.is_finite() && trim > 0.0 {
        (trim.min(0.5) * n as f64).floor() as usize
    } else {
        0
    };
    // Always keep at least one value.
    t.min(n.saturating_sub(1) / 2)
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The combined decision on one agent from several nodes' assessments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Median of the nodes' log-odds.
    pub log_odds: Llr,
    /// Median of the nodes' positive-reporter counts.
    pub positive_reporters: usize,
    /// Whether the agent is quarantined.
    pub quarantine: bool,
}

/// Combines nodes' assessments of one agent robustly: the median log-odds (the lower of the
/// two middle values for an even count, so ties fail towards not quarantining) and the
/// median positive-reporter count. No assessment at all never quarantines.
pub fn decide(config: &ConsensusConfig, assessments: &[Assessment]) -> Decision {
    if assessments.is_empty() {
        return Decision {
            log_odds: config.prior,
            positive_reporters: 0,
            quarantine: false,
        };
    }
    let mut odds: Vec<Llr> = assessments.iter().map(|a| a.log_odds).collect();
    odds.sort_unstable();
    let mut pos: Vec<usize> = assessments.iter().map(|a| a.positive_reporters).collect();
    pos.sort_unstable();
    let mid = (odds.len() - 1) / 2;
    let log_odds = odds[mid];
    let positive_reporters = pos[mid];
    Decision {
        log_odds,
        positive_reporters,
        quarantine: log_odds >= config.threshold && positive_reporters >= config.min_reporters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ev(id: u8, agent: u64, reporter: u32, llr: f64) -> Evidence {
        Evidence {
            id: [id; 16],
            agent: AgentId(agent),
            reporter: NodeId(reporter),
            kind: EvidenceKind::Alert,
            llr: Llr::from_nats(llr).unwrap(),
            confidence: 1000,
            clock: 1,
            payload: [0; 32],
        }
    }

    #[test]
    fn evidence_sums_exactly_within_a_reporter() {
        let cfg = ConsensusConfig {
            prior: Llr(0),
            trim: 0.0,
            reporter_cap: Llr::from_nats(1000.0).unwrap(),
            ..ConsensusConfig::default()
        };
        let mut v = EvidenceView::new(cfg);
        // 0.1 nats a thousand times: exactly 1000 * fix(0.1), no float drift.
        for i in 0..1000u32 {
            let mut e = ev(0, 1, 1, 0.1);
            e.id[..4].copy_from_slice(&i.to_be_bytes());
            v.add(&e).unwrap();
        }
        let fix = Llr::from_nats(0.1).unwrap().0;
        assert_eq!(v.assess(AgentId(1)).log_odds, Llr(1000 * fix));
    }

    #[test]
    fn duplicates_and_bad_confidence_are_refused() {
        let mut v = EvidenceView::new(ConsensusConfig::default());
        v.add(&ev(1, 1, 1, 2.0)).unwrap();
        assert_eq!(v.add(&ev(1, 1, 1, 2.0)), Err(Refusal::Duplicate));
        let mut e = ev(2, 1, 1, 2.0);
        e.confidence = 1001;
        assert_eq!(v.add(&e), Err(Refusal::Confidence));
    }

    #[test]
    fn weights_and_confidence_scale_the_llr() {
        let cfg = ConsensusConfig::default();
        let mut e = ev(1, 1, 1, 2.0);
        e.kind = EvidenceKind::Drift; // weight 800
        e.confidence = 500;
        // 2.0 * 0.8 * 0.5 = 0.8 nats, truncated toward zero in fixed point.
        assert_eq!(cfg.weighted(&e), (2i128 << LLR_FRAC_BITS) * 4 / 10);
    }

    #[test]
    fn framing_by_few_reporters_is_trimmed_and_capped() {
        let cfg = ConsensusConfig::default();
        let mut v = EvidenceView::new(cfg.clone());
        // Eight honest reporters see a clean agent; two Byzantine reporters frame it hard.
        for r in 0..8u8 {
            v.add(&ev(r, 7, u32::from(r), -0.5)).unwrap();
        }
        for r in 8..10u8 {
            for k in 0..50u8 {
                let mut e = ev(r, 7, u32::from(r), 50.0);
                e.id[1] = k;
                v.add(&e).unwrap();
            }
        }
        let a = v.assess(AgentId(7));
        assert!(a.log_odds < cfg.threshold);
        assert!(!decide(&cfg, &[a]).quarantine);
    }

    #[test]
    fn covering_by_few_reporters_does_not_hide_a_compromised_agent() {
        let cfg = ConsensusConfig::default();
        let mut v = EvidenceView::new(cfg.clone());
        for r in 0..8u8 {
            v.add(&ev(r, 7, u32::from(r), 3.0)).unwrap();
        }
        for r in 8..10u8 {
            v.add(&ev(r, 7, u32::from(r), -1000.0)).unwrap();
        }
        let d = decide(&cfg, &[v.assess(AgentId(7))]);
        assert!(d.quarantine, "{d:?}");
    }

    #[test]
    fn median_of_views_ignores_a_lying_minority() {
        let cfg = ConsensusConfig::default();
        let honest = Assessment {
            agent: AgentId(1),
            log_odds: Llr::from_nats(-3.0).unwrap(),
            positive_reporters: 0,
            reporters: 5,
        };
        let liar = Assessment {
            log_odds: Llr::from_nats(100.0).unwrap(),
            positive_reporters: 9,
            ..honest
        };
        assert!(!decide(&cfg, &[honest, liar, honest, liar, honest]).quarantine);
        assert!(!decide(&cfg, &[honest, liar]).quarantine);
        assert!(decide(&cfg, &[liar, liar, honest]).quarantine);
        assert!(!decide(&cfg, &[]).quarantine);
    }

    proptest! {
        #[test]
        fn trimmed_sum_stays_within_honest_extremes(
            honest in proptest::collection::vec(-5.0f64..5.0, 8..20),
            byz in proptest::collection::vec(-1e6f64..1e6, 0..3),
        ) {
            let cfg = ConsensusConfig { prior: Llr(0), ..ConsensusConfig::default() };
            let n = honest.len() + byz.len();
            prop_assume!(byz.len() <= trim_count(n, cfg.trim));
            let mut v = EvidenceView::new(cfg.clone());
            for (i, x) in honest.iter().chain(&byz).enumerate() {
                let mut e = ev(0, 1, i as u32, 0.0);
                e.id[..8].copy_from_slice(&(i as u64).to_be_bytes());
                e.llr = Llr::from_nats(*x).unwrap();
                v.add(&e).unwrap();
            }
            let a = v.assess(AgentId(1));
            let kept = (n - 2 * trim_count(n, cfg.trim)) as f64;
            let lo = honest.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = honest.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(a.log_odds.nats() >= kept * lo - 1e-3);
            prop_assert!(a.log_odds.nats() <= kept * hi + 1e-3);
        }

        #[test]
        fn llr_conversion_never_panics(x in any::<f64>()) {
            let _ = Llr::from_nats(x);
        }
    }
}
