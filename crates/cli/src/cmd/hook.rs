//! `toolcap hook` (not wired yet).

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum HookCommand {}

pub(crate) fn run(cmd: HookCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
