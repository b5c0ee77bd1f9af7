//! The `toolcap` binary: argument parsing and wiring of the library crates, nothing else.
//!
//! Exit codes (also in `--help` and the README):
//! - 0: success; for `check`, the decision is allow
//! - 10: `check`: the decision is ask
//! - 20: `check`: the decision is deny
//! - 1: internal error (I/O, a failed verification, ...)
//! - 2: usage error (bad arguments or malformed input named on the command line)

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

const EXIT_CODES: &str = "\
Exit codes:
  0   success (check: allow)
  10  check: ask
  20  check: deny
  1   internal error or failed verification
  2   usage error or malformed input";

/// toolcap: the Tool Capability Protocol. Instant, explainable allow / ask / deny for AI agents'
/// commands, and fleet-wide detection of compromised agents.
#[derive(Debug, Parser)]
#[command(name = "toolcap", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Encode and decode capability descriptors.
    #[command(subcommand)]
    Descriptor(cmd::descriptor::DescriptorCommand),
    /// Judge a command line: allow, ask or deny, with the reasons.
    Check(cmd::check::CheckArgs),
    /// Evaluate the gate and the masquerade detector on labelled data.
    #[command(subcommand)]
    Eval(cmd::eval::EvalCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Simulate a fleet under attack against the real protocol code.
    #[command(subcommand)]
    Simulate(cmd::simulate::SimulateCommand),
    /// Agent hooks (Claude Code, GitHub Copilot): run, install, uninstall.
    #[command(subcommand)]
    Hook(cmd::hook::HookCommand),
    /// Serve the Model Context Protocol over standard input and output.
    Mcp(cmd::mcp::McpArgs),
    /// Run a node: decision server, event ingest, alerts, audit.
    Serve(cmd::serve::ServeArgs),
    /// Set up a cluster of nodes: keys, signed membership, per-node configuration.
    #[command(subcommand)]
    Cluster(cmd::cluster::ClusterCommand),
    /// Start a node with a simulated fleet and show what toolcap catches.
    Demo(cmd::demo::DemoArgs),
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("toolcap: error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return Ok(ExitCode::from(code));
        }
    };
    match cli.command {
        Command::Descriptor(c) => cmd::descriptor::run(c),
        Command::Check(a) => cmd::check::run(a),
        Command::Eval(c) => cmd::eval::run(c),
        Command::Audit(c) => cmd::audit::run(c),
        Command::Simulate(c) => cmd::simulate::run(c),
        Command::Hook(c) => cmd::hook::run(c),
        Command::Mcp(a) => cmd::mcp::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Cluster(c) => cmd::cluster::run(c),
        Command::Demo(a) => cmd::demo::run(a),
    }
}
