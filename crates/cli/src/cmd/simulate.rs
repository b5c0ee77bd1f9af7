//! `toolcap simulate`: run the fleet protocol under attack and report what it caught.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use toolcap_simulator::{Error, SimConfig, attacks};

use super::usage_error;

#[derive(Debug, Subcommand)]
pub(crate) enum SimulateCommand {
    /// Simulate agents, local, regional and global nodes with real keys and signatures, some
    /// of them Byzantine, and measure bias, finality, detection and cost.
    Fleet(FleetArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FleetArgs {
    /// Agents in the fleet.
    #[arg(long)]
    agents: u64,
    /// Fan-in of every level of the hierarchy.
    #[arg(long, default_value_t = 64)]
    fanout: u64,
    /// Dimension of the agents' feature vectors.
    #[arg(long, default_value_t = 16)]
    dim: usize,
    /// Fraction of every committee's members that are Byzantine, in [0, 1].
    #[arg(long)]
    byzantine: f64,
    /// The attack (none, tree-poisoning, sub-threshold, ...).
    #[arg(long)]
    attack: String,
    /// Epochs to run.
    #[arg(long, default_value_t = 20)]
    epochs: u32,
    /// Seed of keys, data and placement.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Epsilon of each differentially private release upward.
    #[arg(long, default_value_t = 1.0)]
    dp_epsilon: f64,
    /// Delta of each release (0 selects the Laplace mechanism).
    #[arg(long, default_value_t = 1e-7)]
    dp_delta: f64,
    /// Fraction of agents that are compromised, in [0, 1].
    #[arg(long, default_value_t = 0.05)]
    compromised: f64,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: SimulateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SimulateCommand::Fleet(args) => fleet(args),
    }
}

fn fleet(a: FleetArgs) -> anyhow::Result<ExitCode> {
    if attacks::lookup(&a.attack).is_none() {
        return usage_error(format!(
            "unknown attack {:?}; known attacks: {}",
            a.attack,
            attacks::names()
        ));
    }
    let mut cfg = SimConfig {
        agents: a.agents,
        fanout: a.fanout,
        dim: a.dim,
        byzantine: a.byzantine,
        attack: a.attack,
        epochs: a.epochs,
        seed: a.seed,
        dp_epsilon: a.dp_epsilon,
        dp_delta: a.dp_delta,
        compromised: a.compromised,
        ..SimConfig::default()
    };
    if let Some(t) = a.threads {
        cfg.threads = t;
    }
    let out = match toolcap_simulator::run(&cfg) {
        Ok(out) => out,
        Err(e @ (Error::UnknownAttack { .. } | Error::Config(_))) => return usage_error(e),
        Err(e) => return Err(e.into()),
    };
    let r = &out.report;
    if a.json {
        println!("{}", serde_json::to_string(r)?);
    } else {
        println!(
            "{} agents, {} of every committee Byzantine, attack {}, {} epochs",
            r.agents, r.byzantine_fraction, r.attack, r.epochs
        );
        println!(
            "finalized {} / degraded {}; bias {} sigma (bound {:.4}); silently poisoned {}",
            r.finalized_epochs,
            r.degraded_epochs,
            r.global_bias_sigma
                .map_or_else(|| "n/a".to_owned(), |b| format!("{b:.4}")),
            out.bias_bound,
            r.silent_poisoned_epochs
        );
        println!(
            "detected {} (epoch {}); flagged {} nodes of {} Byzantine, {} honest; {} evidence records",
            r.detected,
            r.detection_epoch
                .map_or_else(|| "-".to_owned(), |e| e.to_string()),
            r.flagged_nodes,
            out.byzantine.len(),
            r.false_flags,
            out.evidence.len()
        );
        let t = &r.trust;
        println!(
            "trust: forged accepted {} of {}; quarantine precision {:.3} recall {:.3} ({} of {} agents compromised); epsilon spent {}; proof verify p50 {:.2} ms",
            t.forged_accepted,
            t.forged_attempted,
            t.agent_precision,
            t.agent_recall,
            t.agents_compromised,
            t.agents_assessed,
            t.dp_epsilon_spent,
            t.proof_verify_ms_p50
        );
        println!(
            "epoch p50 {:.1} ms; peak RSS {}",
            r.epoch_ms_p50,
            r.peak_rss_bytes
                .map_or_else(|| "n/a".to_owned(), |b| format!("{} MiB", b >> 20))
        );
    }
    Ok(ExitCode::SUCCESS)
}
