//! `toolcap mcp` (not wired yet).

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct McpArgs {}

pub(crate) fn run(_args: McpArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`toolcap mcp` is not available in this build")
}
