//! The toolcap command safety engine.
//!
//! [`Engine::check`] takes a command line as an agent would pass it to `bash -c` and returns a
//! [`Verdict`]: allow, ask or deny, with the reasons.
#![cfg_attr(not(test), warn(missing_docs))]

mod verdict;

pub use verdict::{CommandVerdict, Decision, Verdict};

use toolcap_descriptor::{Capabilities, Risk};

/// Whether a file is about to be read or written (for tools such as Read, Write, Edit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// The tool reads the file.
    Read,
    /// The tool creates or changes the file.
    Write,
}

/// The command safety engine: the built-in catalog and rules plus any user policy.
///
/// Cheap to share across threads (`Send + Sync`); build it once and call it for every command.
#[derive(Debug, Default)]
pub struct Engine {
    _private: (),
}

impl Engine {
    /// The engine with the built-in catalog and rules and no user policy.
    pub fn builtin() -> Engine {
        Engine::default()
    }

    /// Judges a whole command line.
    pub fn check(&self, command_line: &str) -> Verdict {
        let _ = command_line;
        Verdict {
            decision: Decision::Ask,
            risk: Risk::Medium,
            capabilities: Capabilities::NONE,
            reason: "the command engine is not built yet".to_owned(),
            alternative: None,
            commands: Vec::new(),
        }
    }
}
