//! `toolcap check` (not wired yet).

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {}

pub(crate) fn run(_args: CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`toolcap check` is not available in this build")
}
