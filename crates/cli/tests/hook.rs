//! `toolcap hook`: the built binary fed recorded hook payloads (fixtures/hook), and the
//! install / uninstall round trip on a temporary HOME and project directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should abort the run

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_toolcap");

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hook")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run_hook(host: &str, input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(["hook", host])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The hook may stop reading early (over-long input); a broken pipe is then expected.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// Runs the Claude Code hook on a fixture; returns the decision and the reason.
fn claude(name: &str) -> (String, String) {
    let out = run_hook("claude-code", &fixture(name));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: stdout is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let s = &v["hookSpecificOutput"];
    assert_eq!(s["hookEventName"], "PreToolUse", "{name}");
    assert_eq!(
        v.as_object().unwrap().len(),
        1,
        "{name}: only hookSpecificOutput expected"
    );
    let reason = s["permissionDecisionReason"].as_str().unwrap().to_owned();
    assert!(!reason.is_empty(), "{name}");
    (s["permissionDecision"].as_str().unwrap().to_owned(), reason)
}

fn assert_blocked(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: must fail closed with exit 2"
    );
    assert!(out.stdout.is_empty(), "{what}: no decision on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{what}: one line on stderr, got {err:?}"
    );
}

// Decisions on recorded Claude Code payloads.
mod claude_code {
    use super::*;

    #[test]
    fn a_harmless_listing_is_allowed() {
        assert_eq!(claude("claude_bash_ls.json").0, "allow");
    }

    #[test]
    fn rm_rf_root_behind_cd_and_sudo_is_denied() {
        let (decision, reason) = claude("claude_bash_rm_root.json");
        assert_eq!(decision, "deny", "{reason}");
    }

    #[test]
    fn a_download_piped_into_a_shell_is_denied() {
        assert_eq!(claude("claude_bash_curl_sh.json").0, "deny");
    }

    #[test]
    fn writing_authorized_keys_is_denied() {
        let (decision, reason) = claude("claude_write_authorized_keys.json");
        assert_eq!(decision, "deny", "{reason}");
    }

    #[test]
    fn editing_the_agents_own_settings_is_denied() {
        // An agent that rewrites the project's Claude Code settings can allow itself anything
        // and drop this hook.
        let (decision, reason) = claude("claude_edit_own_settings.json");
        assert_eq!(decision, "deny", "{reason}");
    }

    #[test]
    fn reading_a_private_key_is_not_allowed() {
        let (decision, reason) = claude("claude_read_private_key.json");
        assert_ne!(decision, "allow", "{reason}");
    }

    #[test]
    fn editing_a_project_file_is_allowed() {
        let (decision, reason) = claude("claude_edit_project_file.json");
        assert_eq!(decision, "allow", "{reason}");
    }

    #[test]
    fn an_mcp_tool_without_a_policy_rule_gets_no_decision() {
        let out = run_hook("claude-code", &fixture("claude_mcp_tool.json"));
        assert_eq!(out.status.code(), Some(0));
        assert!(
            out.stdout.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

// Every input that cannot be judged blocks: exit 2, nothing on stdout, one line on stderr.
mod fail_closed {
    use super::*;

    #[test]
    fn bash_without_a_command() {
        assert_blocked(
            &run_hook("claude-code", &fixture("claude_bash_no_command.json")),
            "no command",
        );
    }

    #[test]
    fn truncated_json() {
        assert_blocked(
            &run_hook("claude-code", &fixture("claude_truncated.json")),
            "truncated",
        );
    }

    #[test]
    fn empty_input() {
        assert_blocked(&run_hook("claude-code", b""), "empty");
        assert_blocked(&run_hook("copilot", b""), "empty copilot");
    }

    #[test]
    fn not_json_at_all() {
        assert_blocked(&run_hook("claude-code", b"\xff\xfe rm -rf /"), "binary");
    }

    #[test]
    fn over_long_input() {
        let mut big = br#"{"tool_name":"Bash","tool_input":{"command":""#.to_vec();
        big.extend(std::iter::repeat_n(b'a', 2 << 20));
        big.extend_from_slice(br#""}}"#);
        let out = run_hook("claude-code", &big);
        assert_blocked(&out, "over-long");
        assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));
    }

    #[test]
    fn another_hook_event() {
        let input = br#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
        assert_blocked(&run_hook("claude-code", input), "PostToolUse");
    }
}

// The GitHub Copilot shape: toolArgs is a JSON string.
mod copilot {
    use super::*;

    fn copilot(name: &str) -> serde_json::Value {
        let out = run_hook("copilot", &fixture(name));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    #[test]
    fn rm_rf_home_is_denied() {
        let v = copilot("copilot_bash_rm.json");
        assert_eq!(v["permissionDecision"], "deny");
        assert!(
            v["permissionDecisionReason"]
                .as_str()
                .unwrap()
                .starts_with("toolcap: ")
        );
    }

    #[test]
    fn git_status_is_allowed() {
        assert_eq!(
            copilot("copilot_bash_ls.json")["permissionDecision"],
            "allow"
        );
    }
}

// `toolcap hook install` / `uninstall` on a temporary HOME and project.
mod install {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let dir =
                std::env::temp_dir().join(format!("toolcap-hook-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn toolcap(args: &[&str], home: &Path, cwd: &Path) -> Output {
        let out = Command::new(BIN)
            .args(args)
            .env("HOME", home)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn read_json(path: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn project_scope_creates_merges_and_is_idempotent() {
        let home = TempDir::new("home-p");
        let project = TempDir::new("proj-p");
        let settings = project.0.join(".claude/settings.json");

        let out = toolcap(&["hook", "install", "claude-code"], &home.0, &project.0);
        assert!(String::from_utf8_lossy(&out.stdout).contains("installed"));
        let doc = read_json(&settings);
        let command = doc["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
            .as_str()
            .unwrap();
        assert!(command.ends_with("toolcap hook claude-code"), "{command}");
        let exe = command
            .trim_end_matches(" hook claude-code")
            .trim_matches('\'');
        assert!(
            Path::new(exe).is_file(),
            "the hook runs the binary by absolute path: {exe}"
        );

        let before = std::fs::read(&settings).unwrap();
        let out = toolcap(
            &["hook", "install", "claude-code", "--scope", "project"],
            &home.0,
            &project.0,
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("already installed"));
        assert_eq!(
            std::fs::read(&settings).unwrap(),
            before,
            "second install changes nothing"
        );
        assert!(
            !home.0.join(".claude").exists(),
            "project scope leaves HOME alone"
        );
    }

    #[test]
    fn user_scope_keeps_existing_settings_and_backs_them_up() {
        let home = TempDir::new("home-u");
        let project = TempDir::new("proj-u");
        let dir = home.0.join(".claude");
        std::fs::create_dir_all(&dir).unwrap();
        let original = serde_json::json!({
            "model": "opus",
            "permissions": {"allow": ["Bash(npm test:*)"]},
            "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "/opt/audit.sh"}]}]}
        });
        let settings = dir.join("settings.json");
        std::fs::write(&settings, serde_json::to_string_pretty(&original).unwrap()).unwrap();

        toolcap(
            &["hook", "install", "claude-code", "--scope", "user"],
            &home.0,
            &project.0,
        );
        let doc = read_json(&settings);
        assert_eq!(doc["model"], "opus");
        assert_eq!(doc["permissions"], original["permissions"]);
        let groups = doc["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(groups.len(), 2, "the existing hook stays, ours is added");
        assert_eq!(
            read_json(&dir.join("settings.json.bak")),
            original,
            "backup of the previous file"
        );

        let out = toolcap(
            &["hook", "uninstall", "--scope", "user"],
            &home.0,
            &project.0,
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("removed 1"));
        assert_eq!(
            read_json(&settings),
            original,
            "uninstall restores the document"
        );
        let out = toolcap(
            &["hook", "uninstall", "--scope", "user"],
            &home.0,
            &project.0,
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to uninstall"));
    }

    #[test]
    fn a_broken_settings_file_is_left_alone() {
        let home = TempDir::new("home-b");
        let project = TempDir::new("proj-b");
        let dir = project.0.join(".claude");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("settings.json"), "{ not json").unwrap();
        let out = Command::new(BIN)
            .args(["hook", "install"])
            .env("HOME", &home.0)
            .current_dir(&project.0)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
        assert_eq!(
            std::fs::read_to_string(dir.join("settings.json")).unwrap(),
            "{ not json"
        );
    }
}
