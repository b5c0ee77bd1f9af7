//! The toolcap node runtime: what `toolcap serve` runs beside the decision endpoints.
//!
//! - [`event`]: the ingest formats (one event, a JSON array, NDJSON), parsed whole and validated
//!   before anything is applied; a bad batch names its line.
//! - [`Store`]: the durable event journal in redb (embedded: one machine needs nothing else).
//! - [`Node`]: the single writer that makes batches durable (group commit), judges every event
//!   with the command engine, feeds each agent's behavioural monitor, raises [`AlertRecord`]s,
//!   and appends every decision and alert to the audit log before acknowledging. On start it
//!   replays the journal, so profiles resume after a crash ([`Node::agents`] lists them), and
//!   audits any journalled event whose decision a crash kept out of the audit log.
//! - [`routes`]: the HTTP surface (axum): `POST /v1/events`, `GET /v1/agents/{id}`,
//!   `GET /v1/alerts` and its server-sent-events stream, the audit endpoints, `/metrics`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use toolcap_node::{Node, NodeConfig, event::parse_json};
//! use toolcap_policy::Engine;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Node::open(NodeConfig::new("/tmp/toolcap-node"), Arc::new(Engine::builtin()))?;
//! let batch = parse_json(br#"{"agent_id":"a1","timestamp":"2026-12-03T12:00:00Z","command":"rm -rf /"}"#)?;
//! let receipt = node.ingest(batch)?;
//! assert_eq!(receipt.alerts.len(), 1);
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

pub mod event;
mod node;
pub mod routes;
mod store;

pub use node::{AgentSummary, AlertKind, AlertRecord, Metrics, Node, NodeConfig, Receipt, judge};
pub use store::Store;

/// Errors of the node runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The embedded store failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The audit log failed.
    #[error("audit log: {0}")]
    Audit(String),
    /// A setting is out of range.
    #[error("config: {0}")]
    Config(String),
    /// A bug or a stopped component.
    #[error("internal: {0}")]
    Internal(String),
}
