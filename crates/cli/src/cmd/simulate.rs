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
        println!(
            "epoch p50 {:.1} ms; peak RSS {}",
            r.epoch_ms_p50,
            r.peak_rss_bytes
                .map_or_else(|| "n/a".to_owned(), |b| format!("{} MiB", b >> 20))
        );
    }
    Ok(ExitCode::SUCCESS)
}
