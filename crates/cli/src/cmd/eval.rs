//! `toolcap eval`: measurements on labelled data.

use std::process::ExitCode;

use clap::Subcommand;

use super::{eval_gate, eval_masquerade};

#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// Detection and false-positive rates of the command gate on a labelled corpus.
    Gate(eval_gate::GateArgs),
    /// The Schonlau masquerade benchmark: per-block anomaly scores, ROC and AUC.
    Masquerade(eval_masquerade::MasqueradeArgs),
}

pub(crate) fn run(cmd: EvalCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvalCommand::Gate(a) => eval_gate::run(a),
        EvalCommand::Masquerade(a) => eval_masquerade::run(a),
    }
}
