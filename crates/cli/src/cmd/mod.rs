//! One module per subcommand group; each owns its arguments and its `run`.

pub(crate) mod audit;
pub(crate) mod check;
pub(crate) mod cluster;
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

/// The engine for `--policy FILE...`: the built-in engine when none is given, otherwise each
/// file (TOML) as a project layer, later files more specific. The one loader behind `check`,
/// `hook`, `mcp` and `serve`; an unreadable or invalid file is an error naming it (callers fail
/// closed on it).
pub(crate) fn policy_engine(
    policies: &[std::path::PathBuf],
) -> anyhow::Result<toolcap_policy::Engine> {
    use anyhow::Context;
    use toolcap_policy::{Engine, Layer, Policy};
    if policies.is_empty() {
        return Ok(Engine::builtin());
    }
    let mut layers = Vec::new();
    for p in policies {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading policy file {}", p.display()))?;
        layers.push(
            Policy::from_toml_str(&text, Layer::Project)
                .with_context(|| format!("in {}", p.display()))?,
        );
    }
    // Later files are more specific: put them first within the project layer.
    layers.reverse();
    Ok(Engine::with_policy(Policy::layered(layers))?)
}
