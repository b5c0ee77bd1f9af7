//! `toolcap eval gate` (not wired yet).

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct GateArgs {}

pub(crate) fn run(_args: GateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`toolcap eval gate` is not available in this build")
}
