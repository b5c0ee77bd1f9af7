//! `toolcap serve` (not wired yet).

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {}

pub(crate) fn run(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`toolcap serve` is not available in this build")
}
