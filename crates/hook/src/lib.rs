//! Agent hook adapters for toolcap: Claude Code and GitHub Copilot pre-tool-use hooks.
//!
//! Each adapter turns one host's hook input (bytes of JSON) into one call on the
//! [`toolcap_policy::Engine`] and the engine's [`Verdict`](toolcap_policy::Verdict) back into
//! that host's answer. Nothing here does I/O: the `toolcap hook` command reads standard input
//! and the HTTP server reads a request body, and both hand the bytes to the same function.
//!
//! - [`claude_code::respond`]: Claude Code `PreToolUse` input to
//!   [`claude_code::Output`] (`hookSpecificOutput` with `permissionDecision`).
//! - [`copilot::respond`]: the GitHub Copilot `preToolUse` input (`toolName`, `toolArgs`) to
//!   [`copilot::Output`].
//! - [`settings`]: merging the hook into a Claude Code `settings.json` document and taking it
//!   out again (the `toolcap hook install` / `uninstall` commands do the file work).
//!
//! Both adapters fail closed: input that is too long, is not JSON, or names a shell tool without
//! a command is an [`Error`], which the callers turn into a block (exit code 2, or an HTTP 4xx).
//! A tool call the engine and the user's policy have nothing to say about gets `None`, so the
//! host's own permission flow runs.
//!
//! ```
//! use toolcap_policy::Engine;
//!
//! let engine = Engine::builtin();
//! let input = br#"{"hook_event_name":"PreToolUse","tool_name":"Bash",
//!                  "tool_input":{"command":"ls -la"}}"#;
//! let out = toolcap_hook::claude_code::respond(&engine, input).unwrap().unwrap();
//! assert_eq!(out.hook_specific_output.hook_event_name, "PreToolUse");
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

pub mod claude_code;
pub mod copilot;
pub mod settings;

use std::path::Path;

use toolcap_policy::{Access, Engine, Verdict};

/// The longest hook input accepted, in bytes (1 MiB). Hosts send a few kilobytes; anything
/// near this is not a real tool call and is refused rather than parsed.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// What can go wrong while answering a hook.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is longer than [`MAX_INPUT_BYTES`].
    #[error("hook input is longer than {limit} bytes")]
    TooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The input is not JSON of the expected shape.
    #[error("malformed hook input: {0}")]
    Malformed(String),
    /// The input is for another hook event than the one this adapter answers.
    #[error("unsupported hook event {0:?}: only PreToolUse is answered")]
    Event(String),
    /// A shell or file tool call lacks the argument it is judged by.
    #[error("{tool} call without a string `{field}` argument")]
    MissingArgument {
        /// The tool that was called.
        tool: String,
        /// The argument that is missing or not a string.
        field: &'static str,
    },
    /// A `settings.json` document does not have the shape the host documents.
    #[error("settings: {0}")]
    Settings(String),
}

/// The decision a hook returns, in the words the hosts use (`allow`, `ask`, `deny`).
pub use toolcap_policy::Decision;

/// What a tool call is judged as: the tools with a meaning the engine knows, and the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call<'a> {
    /// A shell command line.
    Shell(&'a str),
    /// A file about to be read or written.
    File {
        /// The path as the tool received it (absolute or relative to the working directory).
        path: &'a str,
        /// Read or write.
        access: Access,
    },
    /// Any other tool, by name (including `mcp__<server>__<tool>`).
    Tool(&'a str),
}

impl<'a> Call<'a> {
    /// What a tool call is judged as, by the tool's name and input, whichever supported host
    /// made it: Claude Code's tools (`Bash`, `Read`, `Write`, `Edit`, `MultiEdit`,
    /// `NotebookEdit`) and GitHub Copilot's (`bash`, `shell`, `view`, `read`, `create`, `edit`,
    /// `write`). A shell or file tool without its string argument is an error (fail closed);
    /// any other name is a [`Call::Tool`].
    pub fn of_tool(name: &'a str, input: &'a serde_json::Value) -> Result<Call<'a>, Error> {
        let file = |field, access| {
            Ok(Call::File {
                path: string_arg(input, name, field)?,
                access,
            })
        };
        match name {
            "Bash" | "bash" | "shell" => Ok(Call::Shell(string_arg(input, name, "command")?)),
            "Write" | "Edit" | "MultiEdit" => file("file_path", Access::Write),
            "NotebookEdit" => file("notebook_path", Access::Write),
            "Read" => file("file_path", Access::Read),
            "create" | "edit" | "write" => file("path", Access::Write),
            "view" | "read" => file("path", Access::Read),
            _ => Ok(Call::Tool(name)),
        }
    }
}

/// Judges one call with the engine; `None` when nothing applies (an unknown tool without a
/// policy rule), so that the host decides.
pub fn judge(engine: &Engine, call: &Call<'_>, cwd: Option<&Path>) -> Option<Verdict> {
    match *call {
        Call::Shell(command) => Some(engine.check(command)),
        Call::File { path, access } => Some(engine.check_path(path, access, cwd)),
        Call::Tool(name) => engine.check_tool(name),
    }
}

/// The one-line explanation shown to the user or the agent: the engine's reason and, where
/// there is one, the safer alternative.
pub fn reason(verdict: &Verdict) -> String {
    match &verdict.alternative {
        Some(alt) => format!("toolcap: {} (safer: {alt})", verdict.reason),
        None => format!("toolcap: {}", verdict.reason),
    }
}

fn check_len(input: &[u8]) -> Result<(), Error> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(Error::TooLong {
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(())
}

/// Reads a string argument of a tool call, failing closed when it is absent or not a string.
fn string_arg<'a>(
    args: &'a serde_json::Value,
    tool: &str,
    field: &'static str,
) -> Result<&'a str, Error> {
    args.get(field)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| Error::MissingArgument {
            tool: tool.to_owned(),
            field,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_long_input_is_refused_before_parsing() {
        let big = vec![b' '; MAX_INPUT_BYTES + 1];
        assert!(matches!(check_len(&big), Err(Error::TooLong { .. })));
        assert!(check_len(&big[..MAX_INPUT_BYTES]).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let engine = Engine::builtin();
            let _ = claude_code::respond(&engine, &bytes);
            let _ = copilot::respond(&engine, &bytes);
        }

        #[test]
        fn arbitrary_commands_always_get_a_decision(command in ".{0,80}") {
            let engine = Engine::builtin();
            let input = serde_json::json!({"tool_name": "Bash", "tool_input": {"command": command}});
            let out = claude_code::respond(&engine, input.to_string().as_bytes());
            proptest::prop_assert!(matches!(out, Ok(Some(_))));
        }
    }

    #[test]
    fn reason_names_the_alternative() {
        let engine = Engine::builtin();
        let mut v = engine.check("ls");
        v.alternative = Some("ls -l".into());
        assert!(reason(&v).contains("safer: ls -l"));
    }
}
