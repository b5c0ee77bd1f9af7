//! Adding the toolcap hook to a Claude Code `settings.json` document and taking it out again.
//!
//! The document shape is the one the Claude Code hooks reference documents:
//! `{"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": ...}]}]}}`.
//! Everything else in the document is kept as it is. These functions work on a parsed
//! [`serde_json::Value`]; reading, backing up and writing the file is the caller's business.

use serde_json::{Map, Value, json};

use crate::Error;

/// The hook event the entry is registered under.
const EVENT: &str = "PreToolUse";

/// Seconds the host waits for the hook before giving up on it.
const TIMEOUT_SECS: u64 = 10;

/// What an install or uninstall did to the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The hook entry was added (replacing any older toolcap entry).
    Added,
    /// Toolcap hook entries were removed (how many).
    Removed(usize),
    /// The document already was as asked; nothing to write.
    Unchanged,
}

/// Whether a hook entry is one that `install` wrote: a command hook running `toolcap hook
/// claude-code` from any location, with any options.
pub fn is_toolcap_entry(hook: &Value) -> bool {
    hook.get("type").and_then(Value::as_str) == Some("command")
        && hook
            .get("command")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains("toolcap") && c.contains(" hook claude-code"))
}

/// The hook entry for `command` (the full command line, e.g. `/usr/bin/toolcap hook claude-code`).
pub fn entry(command: &str) -> Value {
    json!({
        "matcher": "*",
        "hooks": [{ "type": "command", "command": command, "timeout": TIMEOUT_SECS }],
    })
}

/// Adds the hook running `command` to `settings`; idempotent.
pub fn install(settings: &mut Value, command: &str) -> Result<Change, Error> {
    let groups = event_groups(settings)?;
    let present = groups.iter().any(|g| {
        hooks_of(g).is_some_and(|hs| {
            hs.iter().any(|h| {
                is_toolcap_entry(h) && h.get("command").and_then(Value::as_str) == Some(command)
            })
        })
    });
    if present {
        return Ok(Change::Unchanged);
    }
    // An older entry (another path to the binary) is replaced, not doubled.
    remove_entries(groups);
    groups.push(entry(command));
    Ok(Change::Added)
}

/// Removes every toolcap hook entry from `settings`, and the containers left empty by that.
pub fn uninstall(settings: &mut Value) -> Result<Change, Error> {
    let Some(root) = settings.as_object_mut() else {
        return Err(Error::Settings("the document is not a JSON object".into()));
    };
    let Some(hooks) = root.get_mut("hooks") else {
        return Ok(Change::Unchanged);
    };
    let Some(hooks_obj) = hooks.as_object_mut() else {
        return Err(Error::Settings("`hooks` is not an object".into()));
    };
    let Some(groups) = hooks_obj.get_mut(EVENT) else {
        return Ok(Change::Unchanged);
    };
    let Some(groups) = groups.as_array_mut() else {
        return Err(Error::Settings(format!("`hooks.{EVENT}` is not an array")));
    };
    let removed = remove_entries(groups);
    if removed == 0 {
        return Ok(Change::Unchanged);
    }
    if groups.is_empty() {
        hooks_obj.remove(EVENT);
    }
    if hooks_obj.is_empty() {
        root.remove("hooks");
    }
    Ok(Change::Removed(removed))
}

/// `settings.hooks.PreToolUse`, created when absent.
fn event_groups(settings: &mut Value) -> Result<&mut Vec<Value>, Error> {
    let root = settings
        .as_object_mut()
        .ok_or_else(|| Error::Settings("the document is not a JSON object".into()))?;
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| Error::Settings("`hooks` is not an object".into()))?;
    hooks
        .entry(EVENT)
        .or_insert_with(|| Value::Array(Vec::new()))
        .as_array_mut()
        .ok_or_else(|| Error::Settings(format!("`hooks.{EVENT}` is not an array")))
}

fn hooks_of(group: &Value) -> Option<&Vec<Value>> {
    group.get("hooks").and_then(Value::as_array)
}

/// Removes toolcap entries from every matcher group; drops groups that only held toolcap
/// entries. Returns how many entries were removed.
fn remove_entries(groups: &mut Vec<Value>) -> usize {
    let mut removed = 0;
    groups.retain_mut(|group| {
        let Some(hooks) = group.get_mut("hooks").and_then(Value::as_array_mut) else {
            return true;
        };
        let before = hooks.len();
        hooks.retain(|h| !is_toolcap_entry(h));
        let gone = before - hooks.len();
        removed += gone;
        !(gone > 0 && hooks.is_empty())
    });
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    const CMD: &str = "/usr/local/bin/toolcap hook claude-code";

    #[test]
    fn install_into_empty_document() {
        let mut s = json!({});
        assert_eq!(install(&mut s, CMD).unwrap(), Change::Added);
        assert_eq!(s["hooks"]["PreToolUse"][0]["hooks"][0]["command"], CMD);
        assert_eq!(s["hooks"]["PreToolUse"][0]["matcher"], "*");
    }

    #[test]
    fn install_is_idempotent_and_keeps_other_settings() {
        let mut s = json!({
            "model": "x",
            "permissions": {"allow": ["Bash(ls:*)"]},
            "hooks": {
                "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}],
                "PostToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "fmt.sh"}]}]
            }
        });
        let original = s.clone();
        assert_eq!(install(&mut s, CMD).unwrap(), Change::Added);
        let once = s.clone();
        assert_eq!(install(&mut s, CMD).unwrap(), Change::Unchanged);
        assert_eq!(s, once);
        assert_eq!(s["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
        assert_eq!(uninstall(&mut s).unwrap(), Change::Removed(1));
        assert_eq!(s, original);
    }

    #[test]
    fn a_moved_binary_replaces_the_old_entry() {
        let mut s = json!({});
        install(&mut s, "/old/toolcap hook claude-code").unwrap();
        install(&mut s, CMD).unwrap();
        let groups = s["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0]["hooks"][0]["command"], CMD);
    }

    #[test]
    fn uninstall_removes_empty_containers_and_keeps_foreign_hooks() {
        let mut s = json!({});
        install(&mut s, CMD).unwrap();
        assert_eq!(uninstall(&mut s).unwrap(), Change::Removed(1));
        assert_eq!(s, json!({}));
        assert_eq!(uninstall(&mut s).unwrap(), Change::Unchanged);

        let mut s = json!({"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [
            {"type": "command", "command": "other.sh"},
            {"type": "command", "command": CMD}
        ]}]}});
        assert_eq!(uninstall(&mut s).unwrap(), Change::Removed(1));
        assert_eq!(
            s["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
            "other.sh"
        );
    }

    #[test]
    fn wrong_shapes_are_errors_not_overwrites() {
        for bad in [
            json!([]),
            json!({"hooks": []}),
            json!({"hooks": {"PreToolUse": {}}}),
        ] {
            let mut s = bad.clone();
            assert!(install(&mut s, CMD).is_err(), "{bad}");
            assert_eq!(s, bad);
        }
    }
}
