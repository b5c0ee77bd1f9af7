//! `toolcap serve`: the built binary on 127.0.0.1:0, driven by a real HTTP client (ureq) and,
//! for MCP over streamable HTTP, by the official Python SDK.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should abort the run

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_toolcap");

/// A running `toolcap serve`, stopped with SIGTERM when dropped.
struct Node {
    child: Child,
    base: String,
    dir: PathBuf,
    _stdout: BufReader<ChildStdout>,
}

impl Node {
    fn start(tag: &str, extra_config: &str) -> Node {
        let dir = std::env::temp_dir().join(format!("toolcap-serve-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("node.toml");
        let data = dir.join("data");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:7878\"\ndata_dir = {:?}\n{extra_config}",
                data.display().to_string()
            ),
        )
        .unwrap();
        Node::launch(dir)
    }

    /// Starts `toolcap serve` on the config and data already in `dir` (a restart).
    fn launch(dir: PathBuf) -> Node {
        let config = dir.join("node.toml");
        let data = dir.join("data");
        // --listen overrides the file's port: 0 picks a free one, printed on the first line.
        let mut child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {line:?}"));
        assert!(
            addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
            "{addr}"
        );
        assert!(data.is_dir(), "data_dir is created");
        Node {
            child,
            base: format!("http://{addr}"),
            dir,
            _stdout: stdout,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and returns the exit code and stderr.
    fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    use std::io::Read;
                    e.read_to_string(&mut err).unwrap();
                }
                return (status.code(), err);
            }
            assert!(Instant::now() < deadline, "no exit within 10 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// POSTs raw bytes; returns the status and the JSON body.
fn post(node: &Node, path: &str, body: &[u8]) -> (u16, Value) {
    let mut resp = agent()
        .post(&node.url(path))
        .header("content-type", "application/json")
        .send(body)
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path} {status}: not JSON ({e}): {text:?}"));
    (status, value)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hook")
            .join(name),
    )
    .unwrap()
}

// The decision API and health.
mod api {
    use super::*;

    #[test]
    fn check_healthz_and_graceful_shutdown() {
        let node = Node::start("api", "");
        let mut resp = agent().get(&node.url("/healthz")).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(
            resp.body_mut().read_json::<Value>().unwrap(),
            json!({"status": "ok"})
        );

        let (status, record) = post(&node, "/v1/check", br#"{"command": "rm -rf /"}"#);
        assert_eq!(status, 200);
        assert_eq!(record["decision"], "deny", "{record}");
        for field in ["risk", "capabilities", "reason", "alternative", "commands"] {
            assert!(record.get(field).is_some(), "{field}");
        }
        let (_, record) = post(&node, "/v1/check", br#"{"command": "ls -la", "extra": 1}"#);
        assert_eq!(record["decision"], "allow", "{record}");

        let (code, err) = node.terminate();
        assert_eq!(code, Some(0), "{err}");
        assert!(err.contains("shut down"), "{err}");
    }

    #[test]
    fn malformed_requests_get_4xx_with_a_json_error() {
        let node = Node::start("bad", "max_body_bytes = 4096\n");
        for (body, want) in [
            (&b"{not json"[..], 400),
            (br#"{"cmd": "ls"}"#, 400),
            (br#"{"command": 7}"#, 400),
            (b"", 400),
        ] {
            let (status, v) = post(&node, "/v1/check", body);
            assert_eq!(status, want, "{:?}", String::from_utf8_lossy(body));
            assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
        }
        let big = format!(r#"{{"command": "{}"}}"#, "a".repeat(8192));
        let (status, v) = post(&node, "/v1/check", big.as_bytes());
        assert_eq!(status, 413, "{v}");
        assert!(v["error"].as_str().unwrap().contains("larger than"));

        let mut resp = agent().get(&node.url("/v1/check")).call().unwrap();
        assert_eq!(resp.status().as_u16(), 405);
        assert!(resp.body_mut().read_json::<Value>().unwrap()["error"].is_string());
        let mut resp = agent().get(&node.url("/nope")).call().unwrap();
        assert_eq!(resp.status().as_u16(), 404);
        assert!(resp.body_mut().read_json::<Value>().unwrap()["error"].is_string());

        // Still serving after all that.
        let (status, _) = post(&node, "/v1/check", br#"{"command": "pwd"}"#);
        assert_eq!(status, 200);
    }
}

// The Claude Code `http` hook form: same input and output as the command form.
mod hook {
    use super::*;

    #[test]
    fn hook_endpoint_matches_the_command_hook() {
        let node = Node::start("hook", "");
        for name in [
            "claude_bash_rm_root.json",
            "claude_bash_ls.json",
            "claude_write_authorized_keys.json",
        ] {
            let input = fixture(name);
            let (status, over_http) = post(&node, "/v1/hook/claude-code", &input);
            assert_eq!(status, 200, "{name}");
            let mut child = Command::new(BIN)
                .args(["hook", "claude-code"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input).unwrap();
            let out = child.wait_with_output().unwrap();
            let on_stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(over_http, on_stdin, "{name}");
        }
        let (status, v) = post(
            &node,
            "/v1/hook/claude-code",
            &fixture("claude_mcp_tool.json"),
        );
        assert_eq!((status, v), (200, json!({})), "no opinion: an empty object");
        let (status, v) = post(
            &node,
            "/v1/hook/claude-code",
            &fixture("claude_bash_no_command.json"),
        );
        assert_eq!(status, 400);
        assert!(v["error"].as_str().unwrap().contains("command"), "{v}");
    }
}

// MCP over streamable HTTP at /mcp, with the official Python SDK as the client.
mod mcp_http {
    use super::*;

    fn python_venv() -> Option<PathBuf> {
        let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-venv/bin/python");
        if python.is_file() {
            return Some(python);
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} missing: scripts/install-test-deps creates it",
            python.display()
        );
        eprintln!(
            "SKIPPED: {} missing; run scripts/install-test-deps",
            python.display()
        );
        None
    }

    #[test]
    fn python_sdk_over_streamable_http() {
        let Some(python) = python_venv() else { return };
        let node = Node::start("mcp", "");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mcp/tests/interop/client.py");
        let out = Command::new(python)
            .arg(script)
            .arg("http")
            .arg(node.url("/mcp"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "stdout {stdout}\nstderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(report["server"], "toolcap");
        assert_eq!(report["tools"].as_array().unwrap().len(), 4);
        assert_eq!(report["deny"]["decision"], "deny", "{report}");
        assert_eq!(report["bad_arguments_is_error"], true);
        assert_eq!(report["resource"]["family"], "git");
        let (code, err) = node.terminate();
        assert_eq!(code, Some(0), "{err}");
    }
}

// Durability: nothing acknowledged is lost when the node is killed with SIGKILL mid-stream.
mod crash {
    use super::*;

    fn get(node: &Node, path: &str) -> Value {
        let mut resp = agent().get(&node.url(path)).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
    }

    #[test]
    fn sigkill_mid_stream_loses_no_acknowledged_event() {
        let mut node = Node::start("kill9", "");
        let base = node.base.clone();
        let agents = ["crash-a", "crash-b", "crash-c"];
        // A client posting batches until the node dies; it records what was acknowledged.
        let poster = std::thread::spawn(move || {
            let mut acked = [0u64; 3];
            for i in 0..10_000u64 {
                let k = (i % 3) as usize;
                let batch: Vec<Value> = (0..20)
                    .map(|j| {
                        json!({"agent_id": agents[k], "timestamp": format!("2026-12-04T00:{:02}:{:02}Z", (i / 60) % 60, i % 60),
                               "command": if j % 2 == 0 { "git status" } else { "cargo test" }})
                    })
                    .collect();
                let resp = agent()
                    .post(&format!("{base}/v1/events"))
                    .header("content-type", "application/json")
                    .send(serde_json::to_vec(&batch).unwrap().as_slice());
                match resp {
                    Ok(r) if r.status().as_u16() == 200 => acked[k] += 20,
                    _ => break,
                }
            }
            acked
        });
        std::thread::sleep(Duration::from_millis(1500));
        node.child.kill().unwrap(); // SIGKILL
        node.child.wait().unwrap();
        let acked = poster.join().unwrap();
        assert!(
            acked.iter().sum::<u64>() > 0,
            "nothing acknowledged before the kill"
        );

        let dir = node.dir.clone();
        // Keep the directory: the restarted node owns it from here.
        node.dir = PathBuf::new();
        drop(node);
        let node = Node::launch(dir);
        for (k, id) in agents.iter().enumerate() {
            let a = get(&node, &format!("/v1/agents/{id}"));
            let events = a["events"].as_u64().unwrap_or(0);
            assert!(
                events >= acked[k],
                "{id}: {events} events stored, {} acknowledged",
                acked[k]
            );
        }
        let total: u64 = acked.iter().sum();
        let cp = get(&node, "/v1/audit/checkpoint");
        let size = cp["size"].as_u64().unwrap();
        assert!(
            size >= total,
            "audit log has {size} leaves, {total} decisions acknowledged"
        );
        let mut node = node;
        // The log is re-read after the node stops; this test removes the directory itself.
        let dir = std::mem::take(&mut node.dir);
        let (code, err) = node.terminate();
        assert_eq!(code, Some(0), "{err}");
        let out = Command::new(BIN)
            .args(["audit", "verify", "--dir"])
            .arg(dir.join("data/audit"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
