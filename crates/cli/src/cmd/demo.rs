//! `toolcap demo` (not wired yet).

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {}

pub(crate) fn run(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`toolcap demo` is not available in this build")
}
