//! The toolcap node: HTTP decision server, event ingest, alerts, audit endpoints and cluster links.
//!
//! Today the node is the persistent decision server: one process holding a warm
//! [`Engine`], answering over HTTP so that a hook costs a loopback round trip instead of a
//! process start.
//!
//! - [`Config`]: the TOML configuration (`listen`, `data_dir`, request limits).
//! - [`AppState`]: what every handler shares (the engine, the limits); cheap to clone.
//! - [`router`]: the axum [`Router`] with every endpoint, built from an [`AppState`]. Handlers
//!   are thin: they read the body within the limits and call one library function.
//! - [`Server`]: a bound listener; [`Server::run`] serves until a shutdown future resolves and
//!   then drains open requests (graceful shutdown).
//!
//! Endpoints:
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/check` | `{"command": "..."}` | the decision record (`toolcap check --json`) |
//! | `POST /v1/hook/claude-code` | a Claude Code `PreToolUse` input | the hook output (`{}` when toolcap has no opinion) |
//! | `GET /healthz` | | `{"status": "ok"}` |
//! | `/mcp` | MCP streamable HTTP | MCP (the tools and resources of `toolcap mcp`) |
//!
//! Malformed requests get a 4xx with `{"error": "..."}`: 400 for bad JSON or a missing field,
//! 413 for a body over the limit, 408 for a body that does not arrive in time, 404 and 405 for
//! unknown routes and methods.
//!
//! ```
//! # async fn demo() -> Result<(), toolcap_server::Error> {
//! use toolcap_server::{AppState, Config, Server};
//!
//! let mut config = Config::default();
//! config.listen = "127.0.0.1:0".parse().unwrap();
//! let server = Server::bind(&config, AppState::new(&config)).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(async { /* a shutdown signal */ }).await
//! # }
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use toolcap_policy::Engine;

/// What can go wrong when configuring or running the server.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is not valid TOML of the expected shape.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory asked for.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server: {0}")]
    Serve(std::io::Error),
    /// The node runtime (its storage or audit log) failed.
    #[error("node: {0}")]
    Node(String),
}

/// The server's configuration, read from TOML. Every field has a default, so an empty file is
/// a valid configuration.
///
/// ```toml
/// listen = "127.0.0.1:7878"        # default; 127.0.0.1 keeps the server local
/// data_dir = "toolcap-data"        # created at start
/// max_body_bytes = 1048576         # larger request bodies get 413
/// request_timeout_ms = 10000       # a body not received in this time gets 408
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The address and port to listen on.
    pub listen: SocketAddr,
    /// Where the node keeps its state.
    pub data_dir: PathBuf,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a request body may take to arrive, in milliseconds.
    pub request_timeout_ms: u64,
}

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 7878);

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: DEFAULT_LISTEN,
            data_dir: PathBuf::from("toolcap-data"),
            max_body_bytes: toolcap_hook::MAX_INPUT_BYTES,
            request_timeout_ms: 10_000,
        }
    }
}

impl Config {
    /// Parses a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Config, Error> {
        toml::from_str(text).map_err(|e| Error::Config(e.to_string()))
    }
}

/// What every handler shares. Cloning is cheap (reference counts).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The decision engine.
    pub engine: Arc<Engine>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a request body may take to arrive.
    pub request_timeout: Duration,
}

impl AppState {
    /// The state for `config` with the built-in engine.
    pub fn new(config: &Config) -> AppState {
        AppState::with_engine(config, Arc::new(Engine::builtin()))
    }

    /// The state for `config` with a given engine (for a user policy).
    pub fn with_engine(config: &Config, engine: Arc<Engine>) -> AppState {
        AppState {
            engine,
            max_body_bytes: config.max_body_bytes,
            request_timeout: Duration::from_millis(config.request_timeout_ms),
        }
    }
}

/// An error answer: a status and `{"error": message}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// Reads a request body within the size limit and the timeout.
async fn read_body(state: &AppState, body: Body) -> Result<Bytes, ApiError> {
    let limit = state.max_body_bytes;
    match tokio::time::timeout(state.request_timeout, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request body not received in time",
        )),
        // `to_bytes` fails on a body over the limit and on a broken connection; the first is
        // by far the common cause, and the second has no one left to read the answer.
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {limit} bytes"),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

#[derive(Deserialize)]
struct CheckRequest {
    command: String,
}

async fn check(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(&state, body).await?;
    let req: CheckRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed request: {e}")))?;
    Ok(Json(state.engine.check(&req.command)).into_response())
}

async fn hook_claude_code(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(&state, body).await?;
    match toolcap_hook::claude_code::respond(&state.engine, &bytes) {
        Ok(Some(out)) => Ok(Json(out).into_response()),
        // No opinion: an empty object, which the host reads as "no decision".
        Ok(None) => Ok(Json(serde_json::json!({})).into_response()),
        Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, e.to_string())),
    }
}

async fn healthz() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
}

/// Every endpoint, with `mcp` mounted at `/mcp`.
///
/// The MCP service is passed in so the caller keeps its cancellation token (to end open
/// streams at shutdown); [`Server::bind`] does that.
pub fn router(state: AppState, mcp: toolcap_mcp::McpHttpService) -> Router {
    Router::new()
        .route("/v1/check", post(check))
        .route("/v1/hook/claude-code", post(hook_claude_code))
        .route("/healthz", get(healthz))
        .nest_service("/mcp", mcp)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// A server bound to its address, ready to [`run`](Server::run).
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    router: Router,
    mcp_cancel: tokio_util::sync::CancellationToken,
    node: toolcap_node::Node,
}

impl Server {
    /// Creates the data directory and binds `config.listen` (port 0 picks a free port).
    pub async fn bind(config: &Config, state: AppState) -> Result<Server, Error> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(Error::Serve)?;
        let mcp_config =
            toolcap_mcp::HttpConfig::default().with_max_request_body_bytes(config.max_body_bytes);
        let mcp_cancel = mcp_config.cancellation_token.clone();
        let mcp = toolcap_mcp::http_service(Arc::clone(&state.engine), mcp_config);
        // The node runtime: durable ingest, monitoring, alerts and audit in the data directory.
        let node = toolcap_node::Node::open(
            toolcap_node::NodeConfig::new(&config.data_dir),
            Arc::clone(&state.engine),
        )
        .map_err(|e| Error::Node(e.to_string()))?;
        let router = router(state, mcp).merge(toolcap_node::routes::routes(node.clone()));
        Ok(Server {
            listener,
            addr,
            router,
            mcp_cancel,
            node,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` resolves, then stops accepting, ends MCP streams and waits for
    /// the requests in flight.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let cancel = self.mcp_cancel;
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                cancel.cancel();
            })
            .await
            .map_err(Error::Serve);
        // Let the node's writer finish what it holds and close its storage.
        let node = self.node;
        let closed = tokio::task::spawn_blocking(move || node.shutdown()).await;
        served?;
        match closed {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::Node(e.to_string())),
            Err(_) => Err(Error::Node("shutdown task failed".to_owned())),
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_default() {
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
        assert_eq!(Config::default().listen.ip().to_string(), "127.0.0.1");
    }

    #[test]
    fn config_reads_listen_and_data_dir() {
        let c = Config::from_toml("listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/x\"\n").unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn config_rejects_typos_and_bad_addresses() {
        assert!(Config::from_toml("listn = \"127.0.0.1:1\"").is_err());
        assert!(Config::from_toml("listen = \"localhost\"").is_err());
        assert!(Config::from_toml("max_body_bytes = -1").is_err());
    }
}
