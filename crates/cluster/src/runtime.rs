//! `toolcap serve` in cluster mode: the node runtime, the decision server and the cluster
//! protocol loop in one process.
//!
//! - [`split_config`] reads a server TOML file with an optional `[cluster]` section.
//! - [`serve`] opens the node, serves the server's and the node's routes plus
//!   `GET /v1/cluster` (the [`ClusterStatus`](crate::node_loop::ClusterStatus) as JSON), and runs the [`NodeLoop`] beside them.
//! - The loop's statistics are the node's agents ([`NodeStats`]: per agent, its deny rate and its
//!   last behavioural score), its evidence goes to the node's audit log ([`AuditSink`]).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use toolcap_crypto::Canonical;
use toolcap_fleet::{Evidence, Signed};
use toolcap_node::Node;

use crate::ClusterError;
use crate::nats::NatsTransport;
use crate::node_loop::{EvidenceSink, NodeLoop, StateStore, StatsSource, StatusHandle};
use crate::setup::ClusterConfig;

/// Splits a server configuration file into the server's part and the optional `[cluster]`
/// section.
pub fn split_config(text: &str) -> Result<(toolcap_server::Config, Option<ClusterConfig>), String> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let cluster = match table.remove("cluster") {
        None => None,
        Some(v) => {
            let mut c = v
                .try_into::<ClusterConfig>()
                .map_err(|e| format!("[cluster]: {e}"))?;
            // What a TPM-equipped node measures into PCR 23: exactly the bytes it was configured by.
            c.config_digest = Some(crate::attestation::sha256(text.as_bytes()));
            Some(c)
        }
    };
    let config: toolcap_server::Config = toml::Value::Table(table)
        .try_into()
        .map_err(|e| e.to_string())?;
    Ok((config, cluster))
}

/// A node's agents and their statistics: every agent it holds a profile for (rebuilt from the
/// journal when the node opens, so a restarted node reports its agents at once).
#[derive(Clone, Debug)]
pub struct NodeStats(pub Node);

impl StatsSource for NodeStats {
    fn rows(&self) -> Vec<Vec<f64>> {
        self.0
            .agents()
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.events > 0)
            .map(|a| {
                let deny_rate = a.denied as f64 / a.events as f64;
                vec![deny_rate, f64::from(a.score.unwrap_or(0.0))]
            })
            .collect()
    }
}

/// Appends signed evidence (signer, signature, canonical record) to the node's audit log.
#[derive(Clone, Debug)]
pub struct AuditSink(pub Node);

impl EvidenceSink for AuditSink {
    fn record_attestation(
        &self,
        record: &crate::attestation::AttestationRecord,
        signer: toolcap_fleet::NodeId,
        signature: &toolcap_crypto::Signature,
    ) -> Result<u64, ClusterError> {
        let mut leaf = b"toolcap/cluster/attestation-leaf/v1\0".to_vec();
        leaf.extend_from_slice(&signer.0.to_be_bytes());
        leaf.extend_from_slice(&signature.to_bytes());
        leaf.extend_from_slice(&record.to_canonical());
        self.0
            .with_audit(|log| log.append(&leaf))
            .map_err(|e| ClusterError::Transport(format!("audit: {e}")))?
            .map_err(|e| ClusterError::Transport(format!("audit: {e}")))
    }

    fn record(&self, e: &Signed<Evidence>) -> Result<u64, ClusterError> {
        let mut leaf = b"toolcap/cluster/evidence-leaf/v1\0".to_vec();
        leaf.extend_from_slice(&e.signer.0.to_be_bytes());
        leaf.extend_from_slice(&e.signature.to_bytes());
        leaf.extend_from_slice(&e.record.to_canonical());
        self.0
            .with_audit(|log| log.append(&leaf))
            .map_err(|e| ClusterError::Transport(format!("audit: {e}")))?
            .map_err(|e| ClusterError::Transport(format!("audit: {e}")))
    }
}

/// The cluster protocol's state as small files under `<data_dir>/cluster/`, each replaced
/// atomically (written to a temporary file, synced, renamed over the old one, directory synced).
#[derive(Clone, Debug)]
pub struct FileState {
    dir: std::path::PathBuf,
}

impl FileState {
    /// A store in `dir` (created if missing).
    pub fn open(dir: impl Into<std::path::PathBuf>) -> Result<FileState, ClusterError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| ClusterError::State(format!("{}: {e}", dir.display())))?;
        Ok(FileState { dir })
    }

    fn path(&self, name: &str) -> Result<std::path::PathBuf, ClusterError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ClusterError::State(format!("bad state name {name:?}")));
        }
        Ok(self.dir.join(format!("{name}.bin")))
    }
}

impl StateStore for FileState {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, ClusterError> {
        let path = self.path(name)?;
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClusterError::State(format!("{}: {e}", path.display()))),
        }
    }

    fn save(&self, name: &str, bytes: &[u8]) -> Result<(), ClusterError> {
        use std::io::Write;
        let path = self.path(name)?;
        let tmp = path.with_extension("tmp");
        let err = |e: std::io::Error| ClusterError::State(format!("{}: {e}", path.display()));
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        f.write_all(bytes).map_err(err)?;
        f.sync_all().map_err(err)?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(err)?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(err)
    }
}

async fn cluster_status(
    State(status): State<StatusHandle>,
) -> Json<crate::node_loop::ClusterStatus> {
    Json(status.lock().map(|s| s.clone()).unwrap_or_default())
}

/// Serves the node with the cluster loop until `shutdown` resolves. Calls `on_bound` with the
/// bound address once the port is listening.
pub async fn serve(
    config: &toolcap_server::Config,
    cluster: &ClusterConfig,
    engine: Arc<toolcap_policy::Engine>,
    on_bound: impl FnOnce(std::net::SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let loop_cfg = cluster.load().map_err(|e| format!("cluster: {e}"))?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("{}: {e}", config.data_dir.display()))?;
    let state =
        FileState::open(config.data_dir.join("cluster")).map_err(|e| format!("cluster: {e}"))?;
    let node_loop = NodeLoop::new(loop_cfg)
        .and_then(|l| l.with_state(Arc::new(state)))
        .map_err(|e| format!("cluster: {e}"))?;
    let node = Node::open(
        toolcap_node::NodeConfig::new(&config.data_dir),
        Arc::clone(&engine),
    )
    .map_err(|e| format!("node: {e}"))?;
    let transport = NatsTransport::connect(&cluster.nats_url, &node_loop_cluster(cluster)?)
        .await
        .map_err(|e| format!("cluster: {e}"))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("{}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    let status = node_loop.status();
    let mcp_config =
        toolcap_mcp::HttpConfig::default().with_max_request_body_bytes(config.max_body_bytes);
    let mcp_cancel = mcp_config.cancellation_token.clone();
    let mcp = toolcap_mcp::http_service(Arc::clone(&engine), mcp_config);
    let state = toolcap_server::AppState::with_engine(config, Arc::clone(&engine));
    let router = toolcap_server::router(state, mcp)
        .merge(toolcap_node::routes::routes(node.clone()))
        .merge(
            Router::new()
                .route("/v1/cluster", get(cluster_status))
                .with_state(status),
        );

    let stats = Arc::new(NodeStats(node.clone()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let loop_task = tokio::spawn(node_loop.run(
        transport,
        stats,
        Arc::new(AuditSink(node.clone())),
        async move {
            let _ = stop_rx.await;
        },
    ));
    on_bound(addr);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            mcp_cancel.cancel();
        })
        .await
        .map_err(|e| e.to_string());
    let _ = stop_tx.send(());
    let looped = loop_task.await;
    let closed = tokio::task::spawn_blocking(move || node.shutdown()).await;
    served?;
    match looped {
        Ok(Err(e)) => return Err(format!("cluster: {e}")),
        Err(e) => return Err(format!("cluster task: {e}")),
        Ok(Ok(())) => {}
    }
    match closed {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("node: {e}")),
        Err(_) => Err("node shutdown task failed".to_owned()),
    }
}

fn node_loop_cluster(cluster: &ClusterConfig) -> Result<String, String> {
    crate::setup::read_membership(&cluster.membership, &cluster.authority_key)
        .map(|m| m.cluster)
        .map_err(|e| format!("cluster: {e}"))
}
