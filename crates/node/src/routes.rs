//! The node's HTTP routes, to be merged into the server's router.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream::Stream;
use serde::Deserialize;
use serde_json::json;

use crate::event::{parse_json, parse_ndjson};
use crate::{Node, NodeError};

/// Largest accepted ingest body.
pub const MAX_BATCH_BYTES: usize = 32 << 20;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

fn internal(e: NodeError) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// The routes: `/v1/events`, `/v1/agents/{id}`, `/v1/alerts`, `/v1/alerts/stream`,
/// `/v1/audit/checkpoint`, `/v1/audit/inclusion`, `/v1/audit/consistency`, `/metrics`.
pub fn routes(node: Node) -> Router {
    Router::new()
        .route(
            "/v1/events",
            post(ingest).layer(DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
        .route("/v1/agents/{id}", get(agent))
        .route("/v1/alerts", get(alerts))
        .route("/v1/alerts/stream", get(alert_stream))
        .route("/v1/audit/checkpoint", get(checkpoint))
        .route("/v1/audit/inclusion", get(inclusion))
        .route("/v1/audit/consistency", get(consistency))
        .route("/metrics", get(metrics))
        .with_state(node)
}

async fn ingest(State(node): State<Node>, headers: HeaderMap, body: Bytes) -> Response {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let parsed = match mime.as_str() {
        "application/json" => parse_json(&body),
        "application/x-ndjson" | "application/ndjson" => parse_ndjson(&body),
        _ => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content-type must be application/json or application/x-ndjson",
            );
        }
    };
    let events = match parsed {
        Ok(e) => e,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": e.message, "line": e.line })),
            )
                .into_response();
        }
    };
    match tokio::task::spawn_blocking(move || node.ingest(events)).await {
        Ok(Ok(receipt)) => Json(receipt).into_response(),
        Ok(Err(e)) => internal(e),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "ingest task failed"),
    }
}

async fn agent(State(node): State<Node>, Path(id): Path<String>) -> Response {
    match node.agent(&id) {
        Ok(Some(s)) => Json(s).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no agent {id:?}")),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<usize>,
}

async fn alerts(State(node): State<Node>, Query(q): Query<Limit>) -> Response {
    match node.alerts(q.limit.unwrap_or(100).min(10_000)) {
        Ok(a) => Json(a).into_response(),
        Err(e) => internal(e),
    }
}

async fn alert_stream(
    State(node): State<Node>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = node.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(alert) => {
                    let data = serde_json::to_string(&alert).unwrap_or_default();
                    return Some((Ok(SseEvent::default().event("alert").data(data)), rx));
                }
                // A slow reader skips what it missed (the alerts stay in /v1/alerts and the log).
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn checkpoint(State(node): State<Node>) -> Response {
    let result = node.with_audit(|log| -> Result<_, toolcap_audit::Error> {
        let fresh = log.checkpoints().last().map(|c| c.checkpoint.size) != Some(log.size());
        let cp = if fresh {
            let key = log.signing_key()?;
            log.checkpoint(&key)?
        } else {
            log.checkpoints()
                .last()
                .cloned()
                .ok_or(toolcap_audit::Error::Note("no checkpoint"))?
        };
        Ok(json!({
            "size": cp.checkpoint.size,
            "root_hex": cp.checkpoint.root.to_hex(),
            "checkpoint": cp.note,
            "public_key_hex": log.verifying_key().to_hex(),
        }))
    });
    match result {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

async fn inclusion(State(node): State<Node>, Query(q): Query<InclusionQuery>) -> Response {
    let result = node.with_audit(|log| -> Result<_, toolcap_audit::Error> {
        let size = q.size.unwrap_or(log.size());
        let proof = log.inclusion_proof(q.index, size)?;
        let leaf = log.leaf_data(q.index)?;
        Ok(json!({
            "index": q.index,
            "size": size,
            "leaf": String::from_utf8_lossy(&leaf),
            "leaf_hex": hex(&leaf),
            "proof": proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
        }))
    });
    match result {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: u64,
}

async fn consistency(State(node): State<Node>, Query(q): Query<ConsistencyQuery>) -> Response {
    let result = node.with_audit(|log| log.consistency_proof(q.from, q.to));
    match result {
        Ok(Ok(proof)) => Json(json!({
            "from": q.from,
            "to": q.to,
            "proof": proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
        }))
        .into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => internal(e),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn metrics(State(node): State<Node>) -> Response {
    let (m, agents) = match node.metrics() {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    let text = format!(
        "# HELP toolcap_events_total Events made durable and applied.\n# TYPE toolcap_events_total counter\ntoolcap_events_total {}\n\
# HELP toolcap_batches_total Ingest batches acknowledged.\n# TYPE toolcap_batches_total counter\ntoolcap_batches_total {}\n\
# HELP toolcap_commits_total Group commits (one fsync each).\n# TYPE toolcap_commits_total counter\ntoolcap_commits_total {}\n\
# HELP toolcap_decisions_total Decisions of the command engine.\n# TYPE toolcap_decisions_total counter\n\
toolcap_decisions_total{{decision=\"allow\"}} {}\ntoolcap_decisions_total{{decision=\"ask\"}} {}\ntoolcap_decisions_total{{decision=\"deny\"}} {}\n\
# HELP toolcap_alerts_total Alerts raised.\n# TYPE toolcap_alerts_total counter\ntoolcap_alerts_total {}\n\
# HELP toolcap_audit_leaves Leaves in the audit log.\n# TYPE toolcap_audit_leaves gauge\ntoolcap_audit_leaves {}\n\
# HELP toolcap_agents Agents seen.\n# TYPE toolcap_agents gauge\ntoolcap_agents {}\n",
        m.events,
        m.batches,
        m.commits,
        m.allowed,
        m.asked,
        m.denied,
        m.alerts,
        m.audit_leaves,
        agents
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
