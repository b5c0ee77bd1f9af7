//! `toolcap descriptor` (not wired yet).

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum DescriptorCommand {}

pub(crate) fn run(cmd: DescriptorCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
