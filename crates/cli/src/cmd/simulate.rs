//! `toolcap simulate` (not wired yet).

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum SimulateCommand {}

pub(crate) fn run(cmd: SimulateCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
