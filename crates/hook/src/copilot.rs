//! The GitHub Copilot `preToolUse` hook: input `{timestamp, cwd, toolName, toolArgs}`, answer
//! `{permissionDecision, permissionDecisionReason}`.
//!
//! Copilot CLI passes `toolArgs` as a JSON-encoded string; the SDK hands it over as an object.
//! Both are accepted.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toolcap_policy::{Decision, Engine, Verdict};

use crate::{Call, Error, check_len, judge, reason};

/// The part of a `preToolUse` input the adapter reads; everything else is ignored.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// Milliseconds since the Unix epoch (not used for the decision).
    #[serde(default)]
    pub timestamp: Option<serde_json::Value>,
    /// The session's working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// `bash`, `edit`, `create`, `view`, ...
    pub tool_name: String,
    /// The tool's arguments, decoded from their JSON string when given as one.
    #[serde(default)]
    pub tool_args: serde_json::Value,
}

impl Input {
    /// Parses the host's bytes, refusing over-long input before looking at it.
    pub fn parse(bytes: &[u8]) -> Result<Input, Error> {
        check_len(bytes)?;
        let mut input: Input =
            serde_json::from_slice(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
        if let serde_json::Value::String(encoded) = &input.tool_args {
            input.tool_args = serde_json::from_str(encoded)
                .map_err(|e| Error::Malformed(format!("toolArgs: {e}")))?;
        }
        Ok(input)
    }

    /// What the call is judged as (see [`Call::of_tool`]).
    pub fn call(&self) -> Result<Call<'_>, Error> {
        Call::of_tool(&self.tool_name, &self.tool_args)
    }
}

/// The answer printed on standard output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    /// `allow`, `ask` or `deny`.
    pub permission_decision: Decision,
    /// Shown to the user.
    pub permission_decision_reason: String,
}

impl Output {
    /// The answer for a verdict.
    pub fn from_verdict(verdict: &Verdict) -> Output {
        Output {
            permission_decision: verdict.decision,
            permission_decision_reason: reason(verdict),
        }
    }
}

/// Answers one `preToolUse` input: `Ok(None)` when nothing applies to the tool, an error when
/// the input cannot be judged.
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

    #[test]
    fn tool_args_as_a_json_string_are_decoded() {
        let input = Input::parse(
            br#"{"timestamp":1704614600000,"cwd":"/w","toolName":"bash",
                 "toolArgs":"{\"command\":\"rm -rf dist\",\"description\":\"clean\"}"}"#,
        )
        .unwrap();
        assert_eq!(input.call().unwrap(), Call::Shell("rm -rf dist"));
    }

    #[test]
    fn tool_args_as_an_object_are_accepted() {
        let input =
            Input::parse(br#"{"toolName":"edit","toolArgs":{"path":"/etc/hosts"}}"#).unwrap();
        assert_eq!(
            input.call().unwrap(),
            Call::File {
                path: "/etc/hosts",
                access: Access::Write
            }
        );
    }

    #[test]
    fn broken_tool_args_fail_closed() {
        assert!(matches!(
            Input::parse(br#"{"toolName":"bash","toolArgs":"{not json"}"#),
            Err(Error::Malformed(_))
        ));
        let input = Input::parse(br#"{"toolName":"bash","toolArgs":"{}"}"#).unwrap();
        assert!(matches!(input.call(), Err(Error::MissingArgument { .. })));
    }

    #[test]
    fn output_shape() {
        let engine = Engine::builtin();
        let out = respond(
            &engine,
            br#"{"toolName":"bash","toolArgs":"{\"command\":\"ls\"}"}"#,
        )
        .unwrap()
        .unwrap();
        let v = serde_json::to_value(out).unwrap();
        assert!(v["permissionDecision"].is_string());
        assert!(v["permissionDecisionReason"].is_string());
        assert_eq!(v.as_object().unwrap().len(), 2);
    }
}
