//! Decisions and their explanations: the record every integration returns.

use serde::Serialize;
use toolcap_descriptor::{Capabilities, Risk};

/// What to do with a command: the three answers, ordered from least to most strict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Run it.
    Allow,
    /// Ask the human first.
    Ask,
    /// Do not run it.
    Deny,
}

impl Decision {
    /// The lowercase name used in JSON (`"allow"`, `"ask"`, `"deny"`).
    pub const fn name(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Ask => "ask",
            Decision::Deny => "deny",
        }
    }
}

/// The judgement of one simple command inside a command line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommandVerdict {
    /// The argument vector as the shell would pass it (after unwrapping), dynamic parts shown as written.
    pub argv: Vec<String>,
    /// This part's decision.
    pub decision: Decision,
    /// This part's risk.
    #[serde(serialize_with = "serialize_risk")]
    pub risk: Risk,
    /// This part's capability flags.
    #[serde(serialize_with = "serialize_caps")]
    pub capabilities: Capabilities,
    /// The ids of the rules that fired for this part.
    pub rules: Vec<String>,
}

/// The decision on a whole command line, with its explanation.
///
/// Serialises to the JSON record of `toolcap check --json`:
/// `decision`, `risk`, `capabilities`, `reason`, `alternative`, `commands`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The strictest decision over all parts.
    pub decision: Decision,
    /// The highest risk over all parts.
    #[serde(serialize_with = "serialize_risk")]
    pub risk: Risk,
    /// The union of all parts' capabilities.
    #[serde(serialize_with = "serialize_caps")]
    pub capabilities: Capabilities,
    /// One line: which part, which rule, why.
    pub reason: String,
    /// A safer way to get the same done, where one exists.
    pub alternative: Option<String>,
    /// One entry per simple command, in the order the shell would meet them.
    pub commands: Vec<CommandVerdict>,
}

fn serialize_risk<S: serde::Serializer>(risk: &Risk, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(risk.name())
}

fn serialize_caps<S: serde::Serializer>(caps: &Capabilities, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(caps.names())
}
