//! `toolcap eval masquerade` (not wired yet).

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct MasqueradeArgs {}

pub(crate) fn run(_args: MasqueradeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`toolcap eval masquerade` is not available in this build")
}
