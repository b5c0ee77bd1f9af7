//! The Claude Code `PreToolUse` hook: input on standard input (or as an HTTP body), answer as
//! `hookSpecificOutput`.
//!
//! Shapes follow the Claude Code hooks reference: the input carries `session_id`, `cwd`,
//! `hook_event_name`, `tool_name` and `tool_input` (plus fields this adapter ignores); the answer
//! is `{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": ...,
//! "permissionDecisionReason": ...}}` with exit code 0.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toolcap_policy::{Decision, Engine, Verdict};

use crate::{Call, Error, check_len, judge, reason};

/// The only event this adapter answers.
pub const EVENT: &str = "PreToolUse";

/// The part of a `PreToolUse` input the adapter reads; everything else is ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct Input {
    /// `PreToolUse`; absent is taken as `PreToolUse`.
    #[serde(default)]
    pub hook_event_name: Option<String>,
    /// `Bash`, `Write`, `Edit`, `MultiEdit`, `Read`, `mcp__<server>__<tool>`, ...
    pub tool_name: String,
    /// The tool's arguments; their shape depends on the tool.
    #[serde(default)]
    pub tool_input: serde_json::Value,
    /// The session's working directory, against which relative paths are resolved.
    #[serde(default)]
    pub cwd: Option<String>,
}

impl Input {
    /// Parses the host's bytes, refusing over-long input before looking at it.
    pub fn parse(bytes: &[u8]) -> Result<Input, Error> {
        check_len(bytes)?;
        let input: Input =
            serde_json::from_slice(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
        match input.hook_event_name.as_deref() {
            None | Some(EVENT) => Ok(input),
            Some(other) => Err(Error::Event(other.to_owned())),
        }
    }

    /// What the call is judged as (see [`Call::of_tool`]).
    pub fn call(&self) -> Result<Call<'_>, Error> {
        Call::of_tool(&self.tool_name, &self.tool_input)
    }
}

/// The answer printed on standard output (or sent as the HTTP response body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    /// The event-specific part, the only one this adapter fills.
    pub hook_specific_output: SpecificOutput,
}

/// `hookSpecificOutput` of a `PreToolUse` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecificOutput {
    /// Always `PreToolUse`.
    pub hook_event_name: &'static str,
    /// `allow`, `ask` or `deny`.
    pub permission_decision: Decision,
    /// Shown to the user (allow, ask) or to the agent (deny).
    pub permission_decision_reason: String,
}

impl Output {
    /// The answer for a verdict.
    pub fn from_verdict(verdict: &Verdict) -> Output {
        Output {
            hook_specific_output: SpecificOutput {
                hook_event_name: EVENT,
                permission_decision: verdict.decision,
                permission_decision_reason: reason(verdict),
            },
        }
    }
}

/// Answers one `PreToolUse` input: `Ok(None)` when nothing applies to the tool (no output, so
/// the host's own permission flow runs), an error when the input cannot be judged.
pub fn respond(engine: &Engine, bytes: &[u8]) -> Result<Option<Output>, Error> {
    let input = Input::parse(bytes)?;
    let call = input.call()?;
    let cwd = input.cwd.as_deref().map(Path::new);
    Ok(judge(engine, &call, cwd).map(|v| Output::from_verdict(&v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolcap_policy::Access;

    fn answer(json: &str) -> Result<Option<serde_json::Value>, Error> {
        let engine = Engine::builtin();
        respond(&engine, json.as_bytes()).map(|o| o.map(|o| serde_json::to_value(o).unwrap()))
    }

    #[test]
    fn bash_gets_a_decision_in_the_documented_shape() {
        let out = answer(r#"{"tool_name":"Bash","tool_input":{"command":"rm -rf /"}}"#)
            .unwrap()
            .unwrap();
        let specific = &out["hookSpecificOutput"];
        assert_eq!(specific["hookEventName"], "PreToolUse");
        assert!(
            ["allow", "ask", "deny"].contains(&specific["permissionDecision"].as_str().unwrap())
        );
        assert!(
            specific["permissionDecisionReason"]
                .as_str()
                .unwrap()
                .starts_with("toolcap: ")
        );
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let out = answer(
            r#"{"session_id":"x","transcript_path":"/t","permission_mode":"default",
                "hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"t1",
                "tool_input":{"command":"ls","description":"list","timeout":1000},"extra":[1,2]}"#,
        )
        .unwrap();
        assert!(out.is_some());
    }

    #[test]
    fn bash_without_a_command_fails_closed() {
        for json in [
            r#"{"tool_name":"Bash","tool_input":{}}"#,
            r#"{"tool_name":"Bash","tool_input":{"command":7}}"#,
            r#"{"tool_name":"Bash"}"#,
        ] {
            assert!(
                matches!(answer(json), Err(Error::MissingArgument { .. })),
                "{json}"
            );
        }
    }

    #[test]
    fn malformed_and_foreign_events_fail_closed() {
        assert!(matches!(answer("{"), Err(Error::Malformed(_))));
        assert!(matches!(answer("[]"), Err(Error::Malformed(_))));
        assert!(matches!(
            answer(r#"{"tool_input":{}}"#),
            Err(Error::Malformed(_))
        ));
        assert!(matches!(
            answer(
                r#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#
            ),
            Err(Error::Event(_))
        ));
    }

    #[test]
    fn file_tools_are_judged_by_path() {
        let input = Input::parse(
            br#"{"tool_name":"Write","tool_input":{"file_path":"/etc/passwd","content":""}}"#,
        )
        .unwrap();
        assert_eq!(
            input.call().unwrap(),
            Call::File {
                path: "/etc/passwd",
                access: Access::Write
            }
        );
        let input = Input::parse(
            br#"{"tool_name":"Read","tool_input":{"file_path":"/home/u/.ssh/id_rsa"}}"#,
        )
        .unwrap();
        assert_eq!(
            input.call().unwrap(),
            Call::File {
                path: "/home/u/.ssh/id_rsa",
                access: Access::Read
            }
        );
        let input = Input::parse(br#"{"tool_name":"Edit","tool_input":{}}"#).unwrap();
        assert!(input.call().is_err());
    }

    #[test]
    fn other_tools_are_judged_by_name() {
        let input = Input::parse(
            br#"{"tool_name":"mcp__github__create_issue","tool_input":{"title":"x"}}"#,
        )
        .unwrap();
        assert_eq!(
            input.call().unwrap(),
            Call::Tool("mcp__github__create_issue")
        );
    }
}
