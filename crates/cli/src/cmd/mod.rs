//! One module per subcommand group; each owns its arguments and its `run`.

pub(crate) mod audit;
pub(crate) mod check;
pub(crate) mod demo;
pub(crate) mod descriptor;
pub(crate) mod eval;
pub(crate) mod eval_gate;
pub(crate) mod eval_masquerade;
pub(crate) mod hook;
pub(crate) mod mcp;
pub(crate) mod serve;
pub(crate) mod simulate;

/// A usage error: the caller gave bad input. Exits with code 2 and the message on stderr.
pub(crate) fn usage_error(msg: impl std::fmt::Display) -> anyhow::Result<std::process::ExitCode> {
    eprintln!("toolcap: {msg}");
    Ok(std::process::ExitCode::from(2))
}
