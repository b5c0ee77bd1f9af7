//! The policy files toolcap finds on its own: system, user and project layers in their usual
//! places, below the `--policy` files, for `toolcap check` and the hooks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test code; a failure should abort the run

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fake machine: a home, a system policy path and a project with a subdirectory.
struct Machine {
    _dir: tempfile::TempDir,
    home: PathBuf,
    system: PathBuf,
    project: PathBuf,
}

impl Machine {
    fn new() -> Machine {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let project = dir.path().join("work/proj");
        std::fs::create_dir_all(home.join(".config/toolcap")).unwrap();
        std::fs::create_dir_all(project.join(".toolcap")).unwrap();
        std::fs::create_dir_all(project.join("src/deep")).unwrap();
        let system = dir.path().join("etc-toolcap-policy.toml");
        Machine {
            home,
            system,
            project,
            _dir: dir,
        }
    }

    fn write(&self, path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    fn user_file(&self) -> PathBuf {
        self.home.join(".config/toolcap/policy.toml")
    }

    fn project_file(&self) -> PathBuf {
        self.project.join(".toolcap/policy.toml")
    }

    fn run(&self, cwd: &Path, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_toolcap"))
            .args(args)
            .current_dir(cwd)
            .env("HOME", &self.home)
            .env_remove("XDG_CONFIG_HOME")
            .env("TOOLCAP_SYSTEM_POLICY", &self.system)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn check(&self, cwd: &Path, line: &str) -> Output {
        self.run(cwd, &["check", "--json", line], "")
    }
}

fn rules(out: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    v["commands"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["rules"].as_array().unwrap().clone())
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

const DEPLOY_ALLOW: &str = r#"
[[rule]]
id = "project.deploy"
decision = "allow"
command = "deploy.sh"
match = ["./deploy.sh staging"]
"#;

#[test]
fn the_project_file_applies_from_any_subdirectory() {
    let m = Machine::new();
    // Without any file an unknown script needs a look.
    assert_eq!(
        m.check(&m.project, "./deploy.sh staging").status.code(),
        Some(10)
    );
    m.write(&m.project_file(), DEPLOY_ALLOW);
    let deep = m.project.join("src/deep");
    let out = m.check(&deep, "./deploy.sh staging");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rules(&out).contains(&"project.deploy".to_owned()));
    // Outside the project the rule does not apply.
    assert_eq!(
        m.check(&m.home, "./deploy.sh staging").status.code(),
        Some(10)
    );
}

#[test]
fn user_and_system_files_apply_and_the_more_specific_layer_wins() {
    let m = Machine::new();
    m.write(
        &m.system,
        r#"
[[rule]]
id = "system.no-terraform"
decision = "deny"
command = "terraform"
reason = "infrastructure changes go through the pipeline"
match = ["terraform plan"]

[[rule]]
id = "system.make"
decision = "ask"
command = "make"
match = ["make"]
"#,
    );
    m.write(
        &m.user_file(),
        r#"
[[rule]]
id = "user.make"
decision = "allow"
command = "make"
match = ["make test"]
"#,
    );
    let out = m.check(&m.project, "terraform plan");
    assert_eq!(out.status.code(), Some(20));
    assert!(rules(&out).contains(&"system.no-terraform".to_owned()));
    let out = m.check(&m.project, "make test");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        rules(&out).contains(&"user.make".to_owned()),
        "{:?}",
        rules(&out)
    );
    // XDG_CONFIG_HOME, when set, is where the user file lives.
    let xdg = m.home.join("xdg");
    std::fs::create_dir_all(xdg.join("toolcap")).unwrap();
    std::fs::write(xdg.join("toolcap/policy.toml"), DEPLOY_ALLOW).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_toolcap"))
        .args(["check", "./deploy.sh staging"])
        .current_dir(&m.home)
        .env("HOME", &m.home)
        .env("XDG_CONFIG_HOME", &xdg)
        .env("TOOLCAP_SYSTEM_POLICY", &m.system)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_policy_flag_file_is_more_specific_than_the_found_ones() {
    let m = Machine::new();
    m.write(&m.project_file(), DEPLOY_ALLOW);
    let flag = m.project.join("strict.toml");
    m.write(
        &flag,
        r#"
[[rule]]
id = "strict.deploy"
decision = "deny"
command = "deploy.sh"
match = ["./deploy.sh staging"]
"#,
    );
    let out = m.run(
        &m.project,
        &[
            "check",
            "--json",
            "--policy",
            flag.to_str().unwrap(),
            "./deploy.sh staging",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(20));
    assert!(rules(&out).contains(&"strict.deploy".to_owned()));
}

#[test]
fn a_broken_file_blocks_instead_of_being_skipped() {
    let m = Machine::new();
    m.write(&m.user_file(), "[[rule]]\nid = \"x\"\n");
    let out = m.check(&m.project, "ls");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("policy.toml"), "{err}");
    // The hook fails closed on it too.
    let payload =
        r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
    let out = m.run(&m.project, &["hook", "claude-code"], payload);
    assert_eq!(out.status.code(), Some(2));
}

/// A rule that turns the built-in deny of `rm -rf /` into allow.
const ALLOW_RM_OVER_DENY: &str = r#"
[[rule]]
id = "allow-rm"
decision = "allow"
command = "rm"
danger_override_builtin_deny = true
match = ["rm -rf /"]
"#;

#[test]
fn a_found_project_file_cannot_override_a_builtin_deny() {
    let m = Machine::new();
    m.write(&m.project_file(), ALLOW_RM_OVER_DENY);
    let out = m.check(&m.project, "rm -rf /");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("danger_override_builtin_deny"), "{err}");
    // The same rule in the user's own file is the user's decision.
    std::fs::remove_file(m.project_file()).unwrap();
    m.write(&m.user_file(), ALLOW_RM_OVER_DENY);
    let out = m.check(&m.project, "rm -rf /");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_hook_uses_the_project_of_the_payloads_cwd() {
    let m = Machine::new();
    m.write(&m.project_file(), DEPLOY_ALLOW);
    let payload = serde_json::json!({
        "hook_event_name": "PreToolUse",
        "cwd": m.project.join("src"),
        "tool_name": "Bash",
        "tool_input": {"command": "./deploy.sh staging"},
    })
    .to_string();
    // The hook process runs elsewhere (the host's directory); the payload names the project.
    let out = m.run(&m.home, &["hook", "claude-code"], &payload);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["hookSpecificOutput"]["permissionDecision"], "allow",
        "{v}"
    );
    // Without the project file, the same call is asked.
    std::fs::remove_file(m.project_file()).unwrap();
    let out = m.run(&m.home, &["hook", "claude-code"], &payload);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "ask", "{v}");
}
