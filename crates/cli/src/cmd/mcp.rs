//! `toolcap mcp`: the MCP server over standard input and output.
//!
//! Stdout carries only MCP messages; diagnostics go to stderr. Exits 0 when the client closes
//! the stream.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    /// A policy file (TOML) applied as the project layer; may be given more than once.
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
}

pub(crate) fn run(args: McpArgs) -> anyhow::Result<ExitCode> {
    let engine = match super::policy_engine(&args.policy, None) {
        Ok(engine) => engine,
        Err(e) => return super::usage_error(format_args!("{e:#}")),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(toolcap_mcp::serve_stdio(Arc::new(engine)))?;
    Ok(ExitCode::SUCCESS)
}
