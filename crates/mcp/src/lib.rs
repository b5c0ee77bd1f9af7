//! The toolcap MCP server: command safety tools and descriptor resources over the Model Context
//! Protocol.
//!
//! [`Server`] is an MCP server handler built on the official Rust SDK (`rmcp`). It offers four
//! read-only tools and two resource templates:
//!
//! | tool | argument | answer (structured content) |
//! |---|---|---|
//! | `analyze_command_safety` | `command` | the decision record of `toolcap check --json` |
//! | `get_safe_alternative` | `command` | the decision, its reason and the safer alternative |
//! | `describe_command` | `name` | the v2 descriptor: hex, base64 and decoded fields |
//! | `check_family` | `family` | the v3 family table: hex, base64, parent and subcommands |
//!
//! Resources `tcp://command/{name}` and `tcp://family/{name}` return the same descriptors as a
//! base64 blob and as JSON. The answers are computed by the pure functions in [`tools`], so the
//! transports ([`serve_stdio`], [`http_service`] for streamable HTTP) only move bytes.
//!
//! Bad arguments (an empty or over-long command, an unknown name, a missing field) are JSON-RPC
//! `invalid_params` errors with a clear message; the server keeps serving.
//!
//! ```
//! use toolcap_policy::Engine;
//!
//! let record = toolcap_mcp::tools::analyze(&Engine::builtin(), "ls -la").unwrap();
//! assert!(record["decision"].is_string());
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

pub mod tools;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, Implementation, ListResourceTemplatesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ResourceContents,
    ResourceTemplate, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{
    ErrorData, RoleServer, ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router,
};
use serde::Deserialize;
use toolcap_policy::Engine;

/// What can go wrong in the MCP server.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `command` argument is empty or only blanks.
    #[error("command is empty")]
    EmptyCommand,
    /// The `command` argument is longer than [`tools::MAX_COMMAND_BYTES`].
    #[error("command is longer than {limit} bytes")]
    CommandTooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// No catalog entry has this command name.
    #[error("unknown command {0:?}: not in the catalog")]
    UnknownCommand(String),
    /// No catalog family has this name.
    #[error("unknown family {0:?}: not a tool family in the catalog")]
    UnknownFamily(String),
    /// The URI matches neither resource template.
    #[error("unknown resource {0:?}: expected tcp://command/NAME or tcp://family/NAME")]
    UnknownResource(String),
    /// An answer could not be encoded as JSON.
    #[error("cannot encode the answer: {0}")]
    Encode(String),
    /// The transport failed (the peer went away, the stream broke).
    #[error("mcp transport: {0}")]
    Transport(String),
}

impl From<Error> for ErrorData {
    fn from(e: Error) -> ErrorData {
        match e {
            Error::UnknownResource(_) => ErrorData::resource_not_found(e.to_string(), None),
            Error::Transport(_) | Error::Encode(_) => {
                ErrorData::internal_error(e.to_string(), None)
            }
            _ => ErrorData::invalid_params(e.to_string(), None),
        }
    }
}

/// Arguments of the tools that judge a command line.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CommandArgs {
    /// The command line, as it would be passed to `bash -c`.
    pub command: String,
}

/// Arguments of `describe_command`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct NameArgs {
    /// A command name as it starts an argv (`rm`, `git`, `/usr/bin/curl`).
    pub name: String,
}

/// Arguments of `check_family`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct FamilyArgs {
    /// A tool family (`git`, `docker`, `kubectl`, ...).
    pub family: String,
}

/// The MCP server handler: one per connection (or HTTP session), sharing one engine.
#[derive(Clone, Debug)]
pub struct Server {
    engine: Arc<Engine>,
    tool_router: ToolRouter<Server>,
}

fn structured(value: serde_json::Value) -> CallToolResult {
    CallToolResult::structured(value)
}

#[tool_router(router = tool_router)]
impl Server {
    /// A server judging with `engine`.
    pub fn new(engine: Arc<Engine>) -> Server {
        Server {
            engine,
            tool_router: Self::tool_router(),
        }
    }

    /// Judge a shell command line: allow, ask or deny, with the risk, the capabilities, the
    /// reason, a safer alternative where one exists, and one entry per simple command.
    #[tool(annotations(
        title = "Analyze command safety",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn analyze_command_safety(
        &self,
        Parameters(args): Parameters<CommandArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(structured(tools::analyze(&self.engine, &args.command)?))
    }

    /// A safer way to get the same job done as a command line, where one exists, with the
    /// decision on the original and its reason.
    #[tool(annotations(
        title = "Get a safer alternative",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn get_safe_alternative(
        &self,
        Parameters(args): Parameters<CommandArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(structured(tools::alternative(&self.engine, &args.command)?))
    }

    /// The v2 capability descriptor (24 bytes) of a command: hex, base64 and decoded fields
    /// (risk, capability flags, performance profile), plus the catalog's summary.
    #[tool(annotations(
        title = "Describe a command",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn describe_command(
        &self,
        Parameters(args): Parameters<NameArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(structured(tools::describe(&args.name)?))
    }

    /// The v3 hierarchical descriptor of a tool family (git, docker, kubectl, ...): the parent
    /// and one entry per subcommand with its risk and capabilities.
    #[tool(annotations(
        title = "Check a tool family",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn check_family(
        &self,
        Parameters(args): Parameters<FamilyArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(structured(tools::family_table(&args.family)?))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let mut config = ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_instructions(
            "toolcap judges shell commands before they run: call analyze_command_safety with a \
             command line to get allow, ask or deny with the reasons. describe_command and \
             check_family return capability descriptors; tcp://command/{name} and \
             tcp://family/{name} are the same descriptors as resources.",
        );
        config.server_info = Implementation::new("toolcap", env!("CARGO_PKG_VERSION"));
        config
    }

    /// Checks the arguments against the tool's argument type before routing, so that a missing
    /// or mistyped argument is a JSON-RPC invalid-params error (-32602) naming the problem: the
    /// SDK's router would answer a successful result flagged `isError` instead. Unknown tools are
    /// the router's invalid-params error.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        let args = serde_json::Value::Object(request.arguments.clone().unwrap_or_default());
        if let Some(Err(e)) = check_arguments(&request.name, args) {
            return Err(ErrorData::invalid_params(
                format!("invalid arguments for {}: {e}", request.name),
                None,
            ));
        }
        let tcc = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        self.tool_router.call(tcc).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(tools::COMMAND_TEMPLATE, "command descriptor")
                .with_description("The v2 capability descriptor of a command, as base64 and JSON")
                .with_mime_type("application/json"),
            ResourceTemplate::new(tools::FAMILY_TEMPLATE, "family descriptor")
                .with_description("The v3 descriptor of a tool family, as base64 and JSON")
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let resource = tools::resource(&request.uri)?;
        let uri = request.uri;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::blob(resource.base64, uri.clone())
                .with_mime_type("application/octet-stream"),
            ResourceContents::text(resource.json.to_string(), uri)
                .with_mime_type("application/json"),
        ])
        .into())
    }
}

/// Deserialises a tool's arguments into the type its handler takes, so that a bad argument is a
/// JSON-RPC `invalid_params` error rather than the SDK's tool error. `None` for a name that is not
/// one of the server's tools (the router answers those itself); a test holds every routed tool to
/// an entry here.
fn check_arguments(tool: &str, args: serde_json::Value) -> Option<Result<(), serde_json::Error>> {
    Some(match tool {
        "analyze_command_safety" | "get_safe_alternative" => {
            serde_json::from_value::<CommandArgs>(args).map(drop)
        }
        "describe_command" => serde_json::from_value::<NameArgs>(args).map(drop),
        "check_family" => serde_json::from_value::<FamilyArgs>(args).map(drop),
        _ => return None,
    })
}

/// Serves MCP over standard input and output until the peer closes the stream.
pub async fn serve_stdio(engine: Arc<Engine>) -> Result<(), Error> {
    let running = Server::new(engine)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    Ok(())
}

/// The MCP streamable HTTP transport as a tower service, to mount at a path (`/mcp`) of an
/// HTTP server. Only loopback `Host` headers are accepted (the SDK's DNS-rebinding guard);
/// `config` may widen that. Cancel `config.cancellation_token` to end open streams on shutdown.
pub fn http_service(engine: Arc<Engine>, config: StreamableHttpServerConfig) -> McpHttpService {
    StreamableHttpService::new(
        move || Ok(Server::new(Arc::clone(&engine))),
        Arc::default(),
        config,
    )
}

pub use rmcp::transport::streamable_http_server::StreamableHttpServerConfig as HttpConfig;

/// The streamable HTTP service type returned by [`http_service`].
pub type McpHttpService = StreamableHttpService<Server, LocalSessionManager>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_routed_tool_has_its_arguments_checked() {
        let server = Server::new(Arc::new(Engine::builtin()));
        for t in server.tool_router.list_all() {
            let missing = check_arguments(&t.name, serde_json::json!({}));
            assert!(
                matches!(missing, Some(Err(_))),
                "{}: no argument check, or empty arguments accepted",
                t.name
            );
            let wrong_type = check_arguments(
                &t.name,
                serde_json::json!({"command": 1, "name": 1, "family": 1}),
            );
            assert!(matches!(wrong_type, Some(Err(_))), "{}", t.name);
        }
        assert!(check_arguments("no_such_tool", serde_json::json!({})).is_none());
    }

    #[test]
    fn every_tool_is_annotated_read_only_and_closed_world() {
        let server = Server::new(Arc::new(Engine::builtin()));
        let tools = server.tool_router.list_all();
        let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
        for want in [
            "analyze_command_safety",
            "get_safe_alternative",
            "describe_command",
            "check_family",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
        for t in &tools {
            let a = t.annotations.as_ref().unwrap();
            assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
            assert_eq!(a.destructive_hint, Some(false), "{}", t.name);
            assert_eq!(a.open_world_hint, Some(false), "{}", t.name);
            let schema = serde_json::to_value(&*t.input_schema).unwrap();
            assert_eq!(schema["type"], "object", "{}", t.name);
            assert!(
                schema["required"].as_array().is_some_and(|r| r.len() == 1),
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn bad_arguments_map_to_invalid_params() {
        let e: ErrorData = Error::EmptyCommand.into();
        assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("empty"));
    }
}
