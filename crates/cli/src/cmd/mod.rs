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

/// The engine with the user's policy: the policy files found in their usual places (system
/// `/etc/toolcap/policy.toml`, user `$XDG_CONFIG_HOME/toolcap/policy.toml` or
/// `~/.config/toolcap/policy.toml`, project `.toolcap/policy.toml` in `project_dir` or its nearest
/// ancestor that has one), then the files given with `--policy`, which are the most specific.
///
/// A file that exists but cannot be read or does not load is an error: the caller asked for
/// rules that cannot be applied, so nothing is judged without them. A project file found in the
/// working tree may not override a built-in deny (a cloned repository must not be able to
/// switch off toolcap's denials); such a rule belongs in the user policy or a `--policy` file.
pub(crate) fn policy_engine(
    policies: &[std::path::PathBuf],
    project_dir: Option<&std::path::Path>,
) -> anyhow::Result<toolcap_policy::Engine> {
    use toolcap_policy::{Engine, Layer, Policy};
    let found = PolicyFiles::discover(project_dir);
    let mut layers = Vec::new();
    for (layer, path) in found.layers() {
        let policy = policy_file(path, layer)?;
        let overriding = policy
            .rules()
            .iter()
            .find(|r| r.danger_override_builtin_deny);
        if let (Layer::Project, Some(r)) = (layer, overriding) {
            anyhow::bail!(
                "{}: rule {} sets danger_override_builtin_deny, which a policy file found in \
                 the working tree may not do; put it in {} or pass the file with --policy",
                path.display(),
                r.id,
                found.user_hint()
            );
        }
        layers.push(policy);
    }
    // `--policy` files are more specific than the discovered ones; within them, later files
    // first. `Policy::layered` keeps file order within a layer.
    let mut explicit = Vec::new();
    for p in policies {
        explicit.push(policy_file(p, Layer::Project)?);
    }
    if layers.is_empty() && explicit.is_empty() {
        return Ok(Engine::builtin());
    }
    explicit.reverse();
    explicit.extend(layers);
    Ok(Engine::with_policy(Policy::layered(explicit))?)
}

/// One policy file, loaded as `layer`; the error names the file.
pub(crate) fn policy_file(
    path: &std::path::Path,
    layer: toolcap_policy::Layer,
) -> anyhow::Result<toolcap_policy::Policy> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the {} policy {}", layer.name(), path.display()))?;
    toolcap_policy::Policy::from_toml_str(&text, layer)
        .with_context(|| format!("in {}", path.display()))
}

/// Where the layered policy files are: each is `None` when it does not exist.
struct PolicyFiles {
    system: Option<std::path::PathBuf>,
    user: Option<std::path::PathBuf>,
    project: Option<std::path::PathBuf>,
}

impl PolicyFiles {
    /// System: `$TOOLCAP_SYSTEM_POLICY` or `/etc/toolcap/policy.toml`. User:
    /// `$XDG_CONFIG_HOME/toolcap/policy.toml` (an absolute `XDG_CONFIG_HOME`) or
    /// `$HOME/.config/toolcap/policy.toml`. Project: `.toolcap/policy.toml` in `project_dir`
    /// (default: the working directory) or the nearest ancestor that has one.
    fn discover(project_dir: Option<&std::path::Path>) -> PolicyFiles {
        use std::path::{Path, PathBuf};
        // Present unless it certainly does not exist: a file that cannot be checked is read,
        // and the read error stops the caller (fail closed).
        let present = |p: PathBuf| (!matches!(p.try_exists(), Ok(false))).then_some(p);
        let env_path = |name: &str| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        let system = present(
            env_path("TOOLCAP_SYSTEM_POLICY")
                .unwrap_or_else(|| PathBuf::from("/etc/toolcap/policy.toml")),
        );
        let user = env_path("XDG_CONFIG_HOME")
            .or_else(|| env_path("HOME").map(|h| h.join(".config")))
            .and_then(|c| present(c.join("toolcap").join("policy.toml")));
        let cwd = std::env::current_dir().ok();
        let start: Option<&Path> = project_dir.or(cwd.as_deref());
        let project = start.and_then(|dir| {
            dir.ancestors()
                .map(|d| d.join(".toolcap").join("policy.toml"))
                .find_map(present)
        });
        PolicyFiles {
            system,
            user,
            project,
        }
    }

    fn layers(&self) -> impl Iterator<Item = (toolcap_policy::Layer, &std::path::Path)> {
        use toolcap_policy::Layer;
        [
            (Layer::System, &self.system),
            (Layer::User, &self.user),
            (Layer::Project, &self.project),
        ]
        .into_iter()
        .filter_map(|(l, p)| p.as_deref().map(|p| (l, p)))
    }

    fn user_hint(&self) -> String {
        self.user.as_ref().map_or_else(
            || "~/.config/toolcap/policy.toml".to_owned(),
            |p| p.display().to_string(),
        )
    }
}
