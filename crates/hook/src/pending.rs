//! Stand-ins for `Engine::check_path` and `Engine::check_tool` until the engine offers them.
//! They fail closed (a path is `ask`, never `allow`) and give no opinion on tool names, which
//! is what the engine does without a user policy. Removed when the engine's methods land.

use std::path::Path;

use toolcap_descriptor::{Capabilities, Risk};
use toolcap_policy::{Access, Decision, Engine, Verdict};

pub(crate) fn check_path(
    _engine: &Engine,
    path: &str,
    access: Access,
    _cwd: Option<&Path>,
) -> Verdict {
    let verb = match access {
        Access::Read => "read",
        Access::Write => "write",
    };
    Verdict {
        decision: Decision::Ask,
        risk: Risk::Medium,
        capabilities: Capabilities::NONE,
        reason: format!("{verb} of {path}: path rules are not available in this build"),
        alternative: None,
        commands: Vec::new(),
    }
}

pub(crate) fn check_tool(_engine: &Engine, _name: &str) -> Option<Verdict> {
    None
}
