//! `toolcap mcp`: the built binary driven over stdio by real MCP clients: the Rust SDK's client
//! (rmcp), and the official Python SDK (`mcp` on PyPI) from the virtual environment that
//! `scripts/install-test-deps` creates in `target/py-venv`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should abort the run

use std::path::{Path, PathBuf};
use std::process::Command;

use rmcp::model::{
    CallToolRequestParams, ClientConfig, ProtocolVersion, ReadResourceRequestParams,
    ResourceContents,
};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, ServiceError, ServiceExt};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_toolcap");

/// A client that announces one protocol revision.
#[derive(Clone, Debug)]
struct Client(ProtocolVersion);

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        info.protocol_version = self.0.clone();
        info
    }
}

async fn connect(version: ProtocolVersion) -> RunningService<RoleClient, Client> {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("mcp");
    let transport = TokioChildProcess::new(cmd).unwrap();
    Client(version).serve(transport).await.unwrap()
}

fn args(v: Value) -> rmcp::model::JsonObject {
    v.as_object().unwrap().clone()
}

async fn call(
    client: &RunningService<RoleClient, Client>,
    tool: &'static str,
    a: Value,
) -> Result<Value, ServiceError> {
    let result = client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args(a)))
        .await?;
    assert_eq!(result.is_error, Some(false), "{tool}: {result:?}");
    Ok(result.structured_content.expect("structured content"))
}

// The Rust SDK's client over stdio, speaking 2025-06-18 as today's hosts do.
mod rust_client {
    use super::*;

    #[tokio::test]
    async fn handshake_tools_and_annotations() {
        let client = connect(ProtocolVersion::V_2025_06_18).await;
        let info = client.peer_info().unwrap();
        assert_eq!(info.protocol_version, ProtocolVersion::V_2025_06_18);
        assert_eq!(
            info.server_info.as_ref().map(|i| i.name.as_str()),
            Some("toolcap")
        );

        let tools = client.list_all_tools().await.unwrap();
        let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "analyze_command_safety",
                "check_family",
                "describe_command",
                "get_safe_alternative"
            ]
        );
        for t in &tools {
            let a = t.annotations.as_ref().unwrap();
            assert_eq!(
                (a.read_only_hint, a.destructive_hint, a.open_world_hint),
                (Some(true), Some(false), Some(false)),
                "{}",
                t.name
            );
            assert!(t.description.as_ref().is_some_and(|d| !d.is_empty()));
        }
        client.cancel().await.unwrap();
    }

    #[tokio::test]
    async fn tools_answer_and_bad_arguments_are_errors_that_do_not_stop_the_server() {
        let client = connect(ProtocolVersion::V_2025_06_18).await;

        let record = call(
            &client,
            "analyze_command_safety",
            json!({"command": "rm -rf /"}),
        )
        .await
        .unwrap();
        assert_eq!(record["decision"], "deny", "{record}");
        for field in ["risk", "capabilities", "reason", "alternative", "commands"] {
            assert!(record.get(field).is_some(), "{field}");
        }
        let record = call(
            &client,
            "analyze_command_safety",
            json!({"command": "ls -la"}),
        )
        .await
        .unwrap();
        assert_eq!(record["decision"], "allow", "{record}");

        // Missing argument, wrong type, empty command, unknown names: JSON-RPC errors with a message.
        for (tool, a, needle) in [
            ("analyze_command_safety", json!({}), "command"),
            ("analyze_command_safety", json!({"command": 5}), "string"),
            ("analyze_command_safety", json!({"command": "  "}), "empty"),
            (
                "describe_command",
                json!({"name": "no-such-command-zz"}),
                "unknown command",
            ),
            ("check_family", json!({"family": "rm"}), "unknown family"),
        ] {
            // Every bad argument is a JSON-RPC invalid-params error naming the problem, never a
            // successful result flagged isError.
            let result = client
                .call_tool(CallToolRequestParams::new(tool).with_arguments(args(a.clone())))
                .await;
            match result {
                Err(ServiceError::McpError(e)) => {
                    assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_PARAMS, "{tool} {a}");
                    assert!(e.message.contains(needle), "{tool} {a}: {}", e.message);
                }
                other => panic!("{tool} {a}: expected a JSON-RPC error, got {other:?}"),
            }
            // The server is still there after each one.
            let ok = call(&client, "analyze_command_safety", json!({"command": "ls"}))
                .await
                .unwrap();
            assert_eq!(ok["decision"], "allow");
        }
        let unknown = client
            .call_tool(CallToolRequestParams::new("no_such_tool").with_arguments(args(json!({}))))
            .await;
        assert!(
            matches!(&unknown, Err(ServiceError::McpError(e)) if e.code == rmcp::model::ErrorCode::INVALID_PARAMS),
            "{unknown:?}"
        );

        // Still serving.
        let alt = call(
            &client,
            "get_safe_alternative",
            json!({"command": "rm -rf /"}),
        )
        .await
        .unwrap();
        assert_eq!(alt["decision"], "deny");
        let d = call(&client, "describe_command", json!({"name": "rm"}))
            .await
            .unwrap();
        assert_eq!(d["length"], 24);
        assert!(
            d["hex"].as_str().unwrap().starts_with("54435002"),
            "magic TCP\\x02: {d}"
        );
        let f = call(&client, "check_family", json!({"family": "git"}))
            .await
            .unwrap();
        assert!(
            f["subcommands"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == "push")
        );
        client.cancel().await.unwrap();
    }

    #[tokio::test]
    async fn resources_by_template() {
        let client = connect(ProtocolVersion::V_2025_06_18).await;
        let templates = client.list_all_resource_templates().await.unwrap();
        let mut uris: Vec<_> = templates.iter().map(|t| t.uri_template.clone()).collect();
        uris.sort();
        assert_eq!(uris, ["tcp://command/{name}", "tcp://family/{name}"]);

        let read = client
            .read_resource(ReadResourceRequestParams::new("tcp://family/git"))
            .await
            .unwrap();
        let mut blob = None;
        let mut text = None;
        for c in read.contents {
            match c {
                ResourceContents::BlobResourceContents { blob: b, .. } => blob = Some(b),
                ResourceContents::TextResourceContents { text: t, .. } => text = Some(t),
                other => panic!("unexpected resource contents {other:?}"),
            }
        }
        let json: Value = serde_json::from_str(&text.unwrap()).unwrap();
        assert_eq!(json["family"], "git");
        assert_eq!(json["base64"].as_str(), blob.as_deref());

        let err = client
            .read_resource(ReadResourceRequestParams::new("tcp://nothing/x"))
            .await;
        assert!(matches!(err, Err(ServiceError::McpError(_))), "{err:?}");
        client.cancel().await.unwrap();
    }

    #[tokio::test]
    async fn the_newest_revision_with_a_handshake_works_too() {
        let client = connect(ProtocolVersion::LATEST_WITH_INITIALIZE).await;
        assert_eq!(
            client.peer_info().unwrap().protocol_version,
            ProtocolVersion::LATEST_WITH_INITIALIZE
        );
        let record = call(
            &client,
            "analyze_command_safety",
            json!({"command": "echo hi"}),
        )
        .await
        .unwrap();
        assert!(record["decision"].is_string());
        client.cancel().await.unwrap();
    }
}

/// The Python interpreter of the test virtual environment, or `None` (with a loud note) when it
/// is absent outside CI. In CI (`CI=true`) it must be there: `scripts/test` installs it first.
pub fn python_venv() -> Option<PathBuf> {
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

// The official Python SDK as an independent client.
mod python_client {
    use super::*;

    #[test]
    fn lists_tools_and_calls_analyze_command_safety_over_stdio() {
        let Some(python) = python_venv() else { return };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mcp/tests/interop/client.py");
        let out = Command::new(python)
            .arg(script)
            .args(["stdio", BIN])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "stdout {stdout}\nstderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_str(stdout.trim()).unwrap();
        let mut tools: Vec<_> = report["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        tools.sort();
        assert_eq!(
            tools,
            [
                "analyze_command_safety",
                "check_family",
                "describe_command",
                "get_safe_alternative"
            ]
        );
        assert_eq!(report["deny"]["decision"], "deny", "{report}");
        assert_eq!(report["allow"]["decision"], "allow", "{report}");
        assert_eq!(report["bad_arguments_is_error"], true, "{report}");
        assert_eq!(report["resource"]["family"], "git", "{report}");
        assert!(report["protocol_version"].is_string());
    }
}
