//! Layered user policy: TOML rules matched on the parsed argv, with examples checked at load.
//!
//! The format is in `docs/policy.md`. A rule names a command (basename, glob allowed), optional
//! positional argument patterns and optional words that must (or must not) appear, and a
//! decision. Its `match` and `not_match` examples are parsed with the same shell analysis as real
//! command lines and must behave as stated, or the policy does not load.

use serde::Deserialize;
use toolcap_shell::SimpleCommand;

use crate::{Decision, PolicyError};

/// Where a policy file comes from. Later layers are more specific and win.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// Machine-wide (`/etc/toolcap/policy.toml`).
    System,
    /// The user's (`~/.config/toolcap/policy.toml`).
    User,
    /// The project's (`.toolcap/policy.toml` in the working tree).
    Project,
}

impl Layer {
    /// The lowercase name.
    pub const fn name(self) -> &'static str {
        match self {
            Layer::System => "system",
            Layer::User => "user",
            Layer::Project => "project",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    tool: Vec<ToolSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    decision: DecisionSpec,
    command: String,
    #[serde(default)]
    args: Option<Vec<String>>,
    #[serde(default)]
    contains: Vec<String>,
    #[serde(default)]
    not_contains: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default, rename = "match")]
    matches: Vec<String>,
    #[serde(default)]
    not_match: Vec<String>,
    #[serde(default)]
    danger_override_builtin_deny: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolSpec {
    id: String,
    tool: String,
    decision: DecisionSpec,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DecisionSpec {
    Allow,
    Ask,
    Deny,
}

impl From<DecisionSpec> for Decision {
    fn from(d: DecisionSpec) -> Decision {
        match d {
            DecisionSpec::Allow => Decision::Allow,
            DecisionSpec::Ask => Decision::Ask,
            DecisionSpec::Deny => Decision::Deny,
        }
    }
}

/// A user rule on commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Its id, as it appears in verdicts (`project.make-test`).
    pub id: String,
    /// The layer it came from.
    pub layer: Layer,
    /// What it decides.
    pub decision: Decision,
    command: String,
    args: Option<Vec<String>>,
    contains: Vec<String>,
    not_contains: Vec<String>,
    /// Why (shown in verdicts).
    pub reason: String,
    /// True when the rule may turn a built-in deny into allow or ask.
    pub danger_override_builtin_deny: bool,
}

impl Rule {
    /// True when the rule applies to this simple command (matched on the parsed argv).
    pub fn matches(&self, c: &SimpleCommand) -> bool {
        let Some(name) = c.static_name() else {
            return false;
        };
        if !glob(&self.command, name) {
            return false;
        }
        let args: Vec<&str> = c.args().collect();
        if let Some(pats) = &self.args {
            let mut i = 0;
            for (k, p) in pats.iter().enumerate() {
                if p == "**" && k == pats.len() - 1 {
                    i = args.len();
                    break;
                }
                match args.get(i) {
                    Some(a) if glob(p, a) => i += 1,
                    _ => return false,
                }
            }
            if i != args.len() {
                return false;
            }
        }
        self.contains
            .iter()
            .all(|w| args.iter().any(|a| glob(w, a)))
            && !self
                .not_contains
                .iter()
                .any(|w| args.iter().any(|a| glob(w, a)))
    }
}

/// A user rule on tool names (`mcp__github__delete_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolRule {
    /// Its id.
    pub id: String,
    /// The layer it came from.
    pub layer: Layer,
    /// The tool-name pattern (`*` matches any run of characters).
    pub tool: String,
    /// What it decides.
    pub decision: Decision,
    /// Why.
    pub reason: String,
}

/// A user policy: rules from one or more layers, most specific first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub(crate) rules: Vec<Rule>,
    pub(crate) tools: Vec<ToolRule>,
}

impl Policy {
    /// An empty policy (built-in rules only).
    pub fn empty() -> Policy {
        Policy::default()
    }

    /// Parses one policy file's text and checks every rule's examples.
    pub fn from_toml_str(text: &str, layer: Layer) -> Result<Policy, PolicyError> {
        let file: File = toml::from_str(text).map_err(|e| PolicyError::Toml {
            layer: layer.name(),
            message: e.message().to_owned(),
        })?;
        let mut policy = Policy::default();
        for spec in file.rule {
            if spec.id.is_empty() || spec.command.is_empty() {
                return Err(PolicyError::Invalid {
                    rule: spec.id,
                    message: "a rule needs an id and a command".to_owned(),
                });
            }
            let rule = Rule {
                reason: spec
                    .reason
                    .unwrap_or_else(|| format!("{} policy rule {}", layer.name(), spec.id)),
                id: spec.id,
                layer,
                decision: spec.decision.into(),
                command: spec.command,
                args: spec.args,
                contains: spec.contains,
                not_contains: spec.not_contains,
                danger_override_builtin_deny: spec.danger_override_builtin_deny,
            };
            check_examples(&rule, &spec.matches, true)?;
            check_examples(&rule, &spec.not_match, false)?;
            policy.rules.push(rule);
        }
        for spec in file.tool {
            policy.tools.push(ToolRule {
                reason: spec
                    .reason
                    .unwrap_or_else(|| format!("{} policy rule {}", layer.name(), spec.id)),
                id: spec.id,
                layer,
                tool: spec.tool,
                decision: spec.decision.into(),
            });
        }
        Ok(policy)
    }

    /// Combines layers: `layers` in any order; rules of more specific layers are tried first.
    pub fn layered(layers: impl IntoIterator<Item = Policy>) -> Policy {
        let mut all = Policy::default();
        for p in layers {
            all.rules.extend(p.rules);
            all.tools.extend(p.tools);
        }
        // Stable: within a layer, file order is kept.
        all.rules.sort_by_key(|r| std::cmp::Reverse(r.layer));
        all.tools.sort_by_key(|r| std::cmp::Reverse(r.layer));
        all
    }

    /// Loads the system, user and project files (each optional) through `read`, which does the
    /// I/O (this crate does none): `read(path)` returns the file's text.
    pub fn load_layers<P, F, E>(
        system: Option<P>,
        user: Option<P>,
        project: Option<P>,
        mut read: F,
    ) -> Result<Policy, PolicyError>
    where
        P: AsRef<std::path::Path>,
        F: FnMut(&std::path::Path) -> Result<String, E>,
        E: std::fmt::Display,
    {
        let mut layers = Vec::new();
        for (layer, path) in [
            (Layer::System, system),
            (Layer::User, user),
            (Layer::Project, project),
        ] {
            if let Some(p) = path {
                let p = p.as_ref();
                let text = read(p).map_err(|e| PolicyError::Read {
                    path: p.display().to_string(),
                    message: e.to_string(),
                })?;
                layers.push(Policy::from_toml_str(&text, layer)?);
            }
        }
        Ok(Policy::layered(layers))
    }

    /// The command rules, most specific layer first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The tool rules, most specific layer first.
    pub fn tool_rules(&self) -> &[ToolRule] {
        &self.tools
    }
}

fn check_examples(rule: &Rule, examples: &[String], expect: bool) -> Result<(), PolicyError> {
    for ex in examples {
        let analysis = toolcap_shell::analyze(ex).map_err(|e| PolicyError::Example {
            rule: rule.id.clone(),
            example: ex.clone(),
            message: format!("the example does not parse: {e}"),
        })?;
        let hit = analysis.commands.iter().any(|c| rule.matches(c));
        if hit != expect {
            return Err(PolicyError::Example {
                rule: rule.id.clone(),
                example: ex.clone(),
                message: if expect {
                    "listed under `match` but the rule does not match it".to_owned()
                } else {
                    "listed under `not_match` but the rule matches it".to_owned()
                },
            });
        }
    }
    Ok(())
}

/// `*` matches any run of characters, `?` one character; everything else is literal.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("mcp__github__*", "mcp__github__delete_repo"));
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(!glob("a*c", "abbb"));
        assert!(glob("make", "make"));
        assert!(!glob("make", "cmake"));
    }
}
