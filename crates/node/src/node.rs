//! The node's state and its single writer.
//!
//! Ingest is a pipeline with one writer thread, so that the order in which events are made
//! durable is the order in which they are applied (replay after a restart reproduces the state
//! exactly: the monitor is deterministic):
//!
//! 1. the HTTP handler parses and validates the whole batch (nothing is applied on error), and
//!    on its own thread judges every event with the command engine and encodes the batch for
//!    the journal and the decisions for the audit log (so many connections do this in parallel);
//! 2. the writer takes every batch waiting (group commit) and numbers their events;
//! 3. it applies them in sequence order: the behavioural monitor per agent, alerts;
//! 4. it writes the group to the journal (one redb transaction, one row per batch) and every
//!    decision and alert to the audit log (one durable group append) at the same time, on two
//!    threads, so the two `fsync`s overlap;
//! 5. only when both are durable are the requests acknowledged.
//!
//! A crash can leave one group in one of the two stores only. On open the node compares them:
//! journalled events whose decisions are missing from the audit log are audited then, and
//! sequence numbers the audit log already holds are not reused (see
//! `docs/decisions/0093-audit-tiles.md`).

use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};

use serde::Serialize;
use toolcap_audit::{HashAlg, Log};
use toolcap_behavior::{AgentId, Monitor, Population};
use toolcap_policy::{Decision, Engine, Verdict};

use crate::NodeError;
use crate::event::{Action, Event};
use crate::store::{Store, encode};

/// Settings of the node runtime.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Where the journal and the audit log live.
    pub data_dir: PathBuf,
    /// Events per behavioural window.
    pub window: usize,
    /// Events an agent must have sent before its baseline is trained (at least 5 windows).
    pub enroll_after: usize,
    /// Calibrated score at which a window raises an alert.
    pub alert_threshold: f32,
    /// Alerts kept in memory for `GET /v1/alerts` (all of them are in the audit log).
    pub alerts_kept: usize,
}

impl NodeConfig {
    /// Defaults for a node storing its data in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> NodeConfig {
        NodeConfig {
            data_dir: data_dir.into(),
            window: 50,
            enroll_after: 500,
            alert_threshold: 4.0,
            alerts_kept: 10_000,
        }
    }
}

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The command engine denied an action.
    Denied,
    /// The agent's behaviour departed from its baseline.
    Behaviour,
}

/// An alert, as served by `/v1/alerts` and its event stream.
#[derive(Clone, Debug, Serialize)]
pub struct AlertRecord {
    /// Increasing id.
    pub id: u64,
    /// The agent.
    pub agent_id: String,
    /// What kind.
    pub kind: AlertKind,
    /// The event's time (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// The event's sequence number in the journal.
    pub seq: u64,
    /// One line for humans.
    pub detail: String,
    /// The calibrated behavioural score, for behaviour alerts.
    pub score: Option<f32>,
    /// The leaf index of this alert in the audit log.
    pub audit_index: Option<u64>,
}

/// Per-agent summary for `GET /v1/agents/{id}`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AgentSummary {
    /// The agent's id.
    pub agent_id: String,
    /// Events received.
    pub events: u64,
    /// Decisions by kind.
    pub allowed: u64,
    /// Decisions by kind.
    pub asked: u64,
    /// Decisions by kind.
    pub denied: u64,
    /// Whether the behavioural baseline is trained.
    pub enrolled: bool,
    /// Windows scored since enrolment.
    pub windows: u64,
    /// The last window's calibrated score.
    pub score: Option<f32>,
    /// Alerts raised.
    pub alerts: u64,
    /// Time of the last event (ms since the Unix epoch).
    pub last_seen_ms: u64,
}

/// Counters for `/metrics`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Metrics {
    /// Events made durable and applied.
    pub events: u64,
    /// Batches acknowledged.
    pub batches: u64,
    /// Group commits (one fsync each).
    pub commits: u64,
    /// Decisions by kind.
    pub allowed: u64,
    /// Decisions by kind.
    pub asked: u64,
    /// Decisions by kind.
    pub denied: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Leaves in the audit log.
    pub audit_leaves: u64,
}

struct AgentState {
    summary: AgentSummary,
    id: AgentId,
    history: Vec<toolcap_behavior::Event>,
}

/// Everything readers see; the writer holds the lock only while applying a group.
struct State {
    agents: HashMap<String, AgentState>,
    alerts: VecDeque<AlertRecord>,
    metrics: Metrics,
    next_alert: u64,
    monitor: Monitor,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("agents", &self.agents.len())
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// A request to the writer.
struct Job {
    events: Vec<Event>,
    /// The engine's verdict on each event, judged by the caller's thread so that many
    /// connections judge in parallel and the single writer only commits.
    verdicts: Vec<Verdict>,
    /// The batch in the journal's encoding.
    journal: Vec<u8>,
    /// Each event's decision leaf without its `type` and `seq` (see [`decision_body`]), one
    /// after the other; `ends[i]` is where event `i`'s ends.
    bodies: Vec<u8>,
    ends: Vec<usize>,
    reply: mpsc::Sender<Result<Receipt, NodeError>>,
}

/// What an acknowledged batch got.
#[derive(Clone, Debug, Serialize)]
pub struct Receipt {
    /// Events accepted (all of the batch).
    pub accepted: usize,
    /// Sequence number of the first event.
    pub first_seq: u64,
    /// The decision for each event, in order.
    pub decisions: Vec<Decision>,
    /// Alerts this batch raised.
    pub alerts: Vec<AlertRecord>,
}

/// A running node: share it (it is cheap to clone) between the HTTP handlers.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
    /// Held only by `Node` handles (not by the writer), so the writer stops when they are gone.
    control: Arc<Control>,
}

struct Inner {
    cfg: NodeConfig,
    engine: Arc<Engine>,
    state: Mutex<State>,
    audit: Mutex<Log>,
    alerts_tx: tokio::sync::broadcast::Sender<AlertRecord>,
}

struct Control {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("data_dir", &self.inner.cfg.data_dir)
            .finish_non_exhaustive()
    }
}

fn poisoned<T>(_: T) -> NodeError {
    NodeError::Internal("a node lock was poisoned by a panic".to_owned())
}

/// The behavioural event of an action: the program (or tool) name and the engine's capabilities.
fn behaviour_event(event: &Event, verdict: &Verdict) -> toolcap_behavior::Event {
    let name = match &event.action {
        Action::Command(_) => verdict
            .commands
            .first()
            .and_then(|c| c.argv.first())
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
            .unwrap_or_else(|| "?".to_owned()),
        Action::Tool { name, .. } => name.clone(),
    };
    let mut e = toolcap_behavior::Event::with_caps(&name, verdict.capabilities);
    e.at_ms = Some(event.timestamp_ms);
    e
}

/// The engine's decision on one event. A tool call is read the way the hook adapters read it
/// ([`toolcap_hook::Call::of_tool`]): shell tools by their command line, file tools by path;
/// other tools by the policy's tool rules, and `ask` where no rule applies (the node has no host
/// permission flow to defer to), as is a shell or file tool without its argument.
pub fn judge(engine: &Engine, event: &Event) -> Verdict {
    match &event.action {
        Action::Command(c) => engine.check(c),
        Action::Tool { name, input } => toolcap_hook::Call::of_tool(name, input)
            .ok()
            .and_then(|call| toolcap_hook::judge(engine, &call, None))
            .unwrap_or_else(|| engine.check(&format!("{name} # tool call"))),
    }
}

impl Node {
    /// Opens the node's storage in `cfg.data_dir` (creating it), replays the journal to rebuild
    /// every agent's state, and starts the writer.
    pub fn open(cfg: NodeConfig, engine: Arc<Engine>) -> Result<Node, NodeError> {
        if cfg.enroll_after < cfg.window * 5 || cfg.window == 0 {
            return Err(NodeError::Config(
                "enroll_after must be at least 5 windows".to_owned(),
            ));
        }
        std::fs::create_dir_all(&cfg.data_dir).map_err(|e| NodeError::Storage(e.to_string()))?;
        let store = Store::open(&cfg.data_dir.join("events.redb"))?;
        let audit_dir = cfg.data_dir.join("audit");
        let audit = if audit_dir.join("config").exists() {
            Log::open(&audit_dir)
        } else {
            Log::create(&audit_dir, HashAlg::Sha3_256, "toolcap-node")
        }
        .map_err(|e| NodeError::Audit(e.to_string()))?;
        let bcfg = toolcap_behavior::Config {
            window: cfg.window,
            ..Default::default()
        };
        let monitor = Monitor::new(bcfg, Population::new(), cfg.alert_threshold)
            .map_err(|e| NodeError::Config(e.to_string()))?;
        let mut state = State {
            agents: HashMap::new(),
            alerts: VecDeque::new(),
            metrics: Metrics::default(),
            next_alert: 0,
            monitor,
        };
        let mut store = store;
        let mut audit = audit;
        // Rebuild from the journal. The decisions and alerts of these events are in the audit
        // log, except for a group that a crash caught between the two: those are audited now.
        let audited = last_audited_seq(&audit).map_err(|e| NodeError::Audit(e.to_string()))?;
        let mut leaves = Leaves::default();
        let mut body = Vec::new();
        let base = audit.size();
        store.replay(|seq, event| {
            let verdict = judge(&engine, &event);
            let alerts = apply(&cfg, &mut state, seq, &event, &verdict);
            if audited.is_none_or(|a| seq > a) {
                body.clear();
                decision_body(&event, &verdict, &mut body);
                leaves.decision(seq, &body);
                for mut alert in alerts {
                    alert.audit_index = Some(base + leaves.len() as u64);
                    leaves.alert(&alert);
                    remember(&cfg, &mut state, alert);
                }
            } else {
                for mut alert in alerts {
                    // Its leaf is the one appended for it then; the index is not needed again.
                    alert.audit_index = None;
                    remember(&cfg, &mut state, alert);
                }
            }
            Ok(())
        })?;
        if !leaves.is_empty() {
            audit
                .append_batch(&leaves.slices())
                .map_err(|e| NodeError::Audit(e.to_string()))?;
        }
        if let Some(a) = audited {
            store.skip_to(a + 1);
        }
        state.metrics.audit_leaves = audit.size();
        let (tx, rx) = mpsc::channel::<Job>();
        let (alerts_tx, _) = tokio::sync::broadcast::channel(1024);
        let inner = Arc::new(Inner {
            cfg,
            engine: engine.clone(),
            state: Mutex::new(state),
            audit: Mutex::new(audit),
            alerts_tx,
        });
        let writer = inner.clone();
        let handle = std::thread::Builder::new()
            .name("toolcap-node-writer".into())
            .spawn(move || writer.write_loop(store, rx))
            .map_err(|e| NodeError::Internal(e.to_string()))?;
        Ok(Node {
            inner,
            control: Arc::new(Control {
                jobs: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
            }),
        })
    }

    /// Stops accepting batches, lets the writer finish what it holds, and closes the storage.
    pub fn shutdown(&self) -> Result<(), NodeError> {
        drop(self.control.jobs.lock().map_err(poisoned)?.take());
        if let Some(h) = self.control.writer.lock().map_err(poisoned)?.take() {
            h.join()
                .map_err(|_| NodeError::Internal("the writer panicked".to_owned()))?;
        }
        Ok(())
    }

    /// The configuration in force.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.cfg
    }

    /// Makes a validated batch durable, applies it, and returns once both are done.
    /// Blocking: call it from a blocking context (`tokio::task::spawn_blocking`).
    pub fn ingest(&self, events: Vec<Event>) -> Result<Receipt, NodeError> {
        let verdicts: Vec<Verdict> = events
            .iter()
            .map(|e| judge(&self.inner.engine, e))
            .collect();
        let journal = encode(&events);
        let mut bodies = Vec::with_capacity(events.len() * 160);
        let mut ends = Vec::with_capacity(events.len());
        for (e, v) in events.iter().zip(&verdicts) {
            decision_body(e, v, &mut bodies);
            ends.push(bodies.len());
        }
        let (reply, rx) = mpsc::channel();
        self.control
            .jobs
            .lock()
            .map_err(poisoned)?
            .as_ref()
            .ok_or_else(|| NodeError::Internal("the node is shut down".to_owned()))?
            .send(Job {
                events,
                verdicts,
                journal,
                bodies,
                ends,
                reply,
            })
            .map_err(|_| NodeError::Internal("the writer has stopped".to_owned()))?;
        rx.recv()
            .map_err(|_| NodeError::Internal("the writer has stopped".to_owned()))?
    }

    /// An agent's summary.
    pub fn agent(&self, id: &str) -> Result<Option<AgentSummary>, NodeError> {
        Ok(self
            .inner
            .state
            .lock()
            .map_err(poisoned)?
            .agents
            .get(id)
            .map(|a| a.summary.clone()))
    }

    /// Every agent the node holds a profile for (rebuilt from the journal on open, so a
    /// restarted node lists them before new events arrive), sorted by id.
    pub fn agents(&self) -> Result<Vec<AgentSummary>, NodeError> {
        let state = self.inner.state.lock().map_err(poisoned)?;
        let mut out: Vec<AgentSummary> = state.agents.values().map(|a| a.summary.clone()).collect();
        drop(state);
        out.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
        Ok(out)
    }

    /// The most recent alerts, oldest first, at most `limit`.
    pub fn alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, NodeError> {
        let state = self.inner.state.lock().map_err(poisoned)?;
        let skip = state.alerts.len().saturating_sub(limit);
        Ok(state.alerts.iter().skip(skip).cloned().collect())
    }

    /// A live feed of new alerts.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<AlertRecord> {
        self.inner.alerts_tx.subscribe()
    }

    /// The counters.
    pub fn metrics(&self) -> Result<(Metrics, usize), NodeError> {
        let state = self.inner.state.lock().map_err(poisoned)?;
        Ok((state.metrics.clone(), state.agents.len()))
    }

    /// Runs `f` on the audit log (checkpoints and proofs).
    pub fn with_audit<T>(&self, f: impl FnOnce(&mut Log) -> T) -> Result<T, NodeError> {
        Ok(f(&mut *self.inner.audit.lock().map_err(poisoned)?))
    }

    /// The audit log's directory.
    pub fn audit_dir(&self) -> PathBuf {
        self.inner.cfg.data_dir.join("audit")
    }
}

impl Inner {
    fn write_loop(&self, mut store: Store, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            let mut jobs = vec![first];
            while jobs.len() < 256 {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            let result = self.commit_group(&mut store, &jobs);
            match result {
                Ok(receipts) => {
                    for (job, r) in jobs.into_iter().zip(receipts) {
                        let _ = job.reply.send(Ok(r));
                    }
                }
                Err(e) => {
                    for job in jobs {
                        let _ = job.reply.send(Err(NodeError::Storage(e.to_string())));
                    }
                }
            }
        }
    }

    fn commit_group(&self, store: &mut Store, jobs: &[Job]) -> Result<Vec<Receipt>, NodeError> {
        let mut next = store.len();
        let ranges: Vec<std::ops::Range<u64>> = jobs
            .iter()
            .map(|j| {
                let r = next..next + j.events.len() as u64;
                next = r.end;
                r
            })
            .collect();
        // Lock order: audit, then state (the writer is the only one holding both).
        let mut audit = self.audit.lock().map_err(poisoned)?;
        let base = audit.size();
        let mut leaves = Leaves::default();
        let mut receipts = Vec::with_capacity(jobs.len());
        {
            let mut state = self.state.lock().map_err(poisoned)?;
            state.metrics.commits += 1;
            for (job, range) in jobs.iter().zip(&ranges) {
                let mut receipt = Receipt {
                    accepted: job.events.len(),
                    first_seq: range.start,
                    decisions: Vec::with_capacity(job.events.len()),
                    alerts: Vec::new(),
                };
                let mut from = 0;
                for (((event, verdict), seq), &end) in job
                    .events
                    .iter()
                    .zip(&job.verdicts)
                    .zip(range.clone())
                    .zip(&job.ends)
                {
                    receipt.decisions.push(verdict.decision);
                    leaves.decision(seq, &job.bodies[from..end]);
                    from = end;
                    for mut alert in apply(&self.cfg, &mut state, seq, event, verdict) {
                        alert.audit_index = Some(base + leaves.len() as u64);
                        leaves.alert(&alert);
                        remember(&self.cfg, &mut state, alert.clone());
                        receipt.alerts.push(alert);
                    }
                }
                state.metrics.batches += 1;
                receipts.push(receipt);
            }
        }
        let journal: Vec<(usize, &[u8])> = jobs
            .iter()
            .map(|j| (j.events.len(), j.journal.as_slice()))
            .collect();
        let refs = leaves.slices();
        // Both stores at once: the journal's commit on a second thread, the audit append here.
        let (journalled, audited) = std::thread::scope(|s| {
            let journal = s.spawn(|| store.append(&journal));
            let audited = audit.append_batch(&refs);
            (journal.join(), audited)
        });
        let journalled = journalled
            .map_err(|_| NodeError::Internal("the journal thread panicked".to_owned()))??;
        let range = audited.map_err(|e| NodeError::Audit(e.to_string()))?;
        if journalled != ranges {
            return Err(NodeError::Internal(
                "the journal numbered the group differently".to_owned(),
            ));
        }
        drop(audit);
        self.state.lock().map_err(poisoned)?.metrics.audit_leaves = range.end;
        for receipt in &receipts {
            for a in &receipt.alerts {
                // No subscriber is not an error: the alert is stored and audited either way.
                let _ = self.alerts_tx.send(a.clone());
            }
        }
        Ok(receipts)
    }
}

/// A group's audit leaves, in one buffer.
#[derive(Default)]
struct Leaves {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Leaves {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The decision leaf of event `seq`: canonical JSON, fields in a fixed order, no whitespace:
    /// `{"type":"decision","seq":N,` followed by the event's [`decision_body`] without its `{`.
    fn decision(&mut self, seq: u64, body: &[u8]) {
        self.bytes
            .extend_from_slice(b"{\"type\":\"decision\",\"seq\":");
        // Writing into a Vec cannot fail.
        let _ = write!(self.bytes, "{seq}");
        self.bytes.push(b',');
        self.bytes
            .extend_from_slice(body.get(1..).unwrap_or_default());
        self.ends.push(self.bytes.len());
    }

    fn alert(&mut self, alert: &AlertRecord) {
        #[derive(Serialize)]
        struct AlertLeaf<'a> {
            r#type: &'static str,
            alert: &'a AlertRecord,
        }
        // Serialising these plain structs into a Vec cannot fail.
        let _ = serde_json::to_writer(
            &mut self.bytes,
            &AlertLeaf {
                r#type: "alert",
                alert,
            },
        );
        self.ends.push(self.bytes.len());
    }

    fn slices(&self) -> Vec<&[u8]> {
        let mut from = 0;
        self.ends
            .iter()
            .map(|&end| {
                let s = &self.bytes[from..end];
                from = end;
                s
            })
            .collect()
    }
}

/// The sequence number of the last decision in the audit log (a group ends with its last
/// decision's alerts, so only a few leaves are read).
fn last_audited_seq(log: &Log) -> Result<Option<u64>, toolcap_audit::Error> {
    #[derive(serde::Deserialize)]
    struct Head {
        r#type: String,
        seq: Option<u64>,
    }
    let mut i = log.size();
    while i > 0 {
        i -= 1;
        let leaf = log.leaf_data(i)?;
        if let Ok(Head {
            r#type,
            seq: Some(seq),
        }) = serde_json::from_slice::<Head>(&leaf)
            && r#type == "decision"
        {
            return Ok(Some(seq));
        }
    }
    Ok(None)
}

fn remember(cfg: &NodeConfig, state: &mut State, alert: AlertRecord) {
    state.alerts.push_back(alert);
    while state.alerts.len() > cfg.alerts_kept {
        state.alerts.pop_front();
    }
}

/// Applies one durable event to the in-memory state; returns the alerts it raises (their
/// `audit_index` still unset). Deterministic: replaying the journal gives the same state.
fn apply(
    cfg: &NodeConfig,
    state: &mut State,
    seq: u64,
    event: &Event,
    verdict: &Verdict,
) -> Vec<AlertRecord> {
    let mut out = Vec::new();
    let next_id = state.agents.len() as u64;
    if !state.agents.contains_key(&event.agent_id) {
        state.agents.insert(
            event.agent_id.clone(),
            AgentState {
                summary: AgentSummary {
                    agent_id: event.agent_id.clone(),
                    ..AgentSummary::default()
                },
                id: AgentId(next_id),
                history: Vec::new(),
            },
        );
    }
    let Some(agent) = state.agents.get_mut(&event.agent_id) else {
        return out;
    };
    let s = &mut agent.summary;
    s.events += 1;
    s.last_seen_ms = s.last_seen_ms.max(event.timestamp_ms);
    match verdict.decision {
        Decision::Allow => {
            s.allowed += 1;
            state.metrics.allowed += 1;
        }
        Decision::Ask => {
            s.asked += 1;
            state.metrics.asked += 1;
        }
        Decision::Deny => {
            s.denied += 1;
            state.metrics.denied += 1;
        }
    }
    state.metrics.events += 1;
    if verdict.decision == Decision::Deny {
        out.push(AlertRecord {
            id: 0,
            agent_id: event.agent_id.clone(),
            kind: AlertKind::Denied,
            timestamp_ms: event.timestamp_ms,
            seq,
            detail: verdict.reason.clone(),
            score: None,
            audit_index: None,
        });
    }
    let be = behaviour_event(event, verdict);
    if !s.enrolled {
        agent.history.push(be);
        if agent.history.len() >= cfg.enroll_after {
            // Training can only fail on a too-short history, which the length check rules out;
            // should it fail anyway the agent stays unenrolled and keeps collecting.
            if state.monitor.enroll(agent.id, &agent.history).is_ok() {
                agent.summary.enrolled = true;
                agent.history = Vec::new();
            } else {
                agent.history.drain(..cfg.window);
            }
        }
    } else if let Ok(Some(alert)) = state.monitor.observe(agent.id, &be) {
        s.windows += 1;
        s.score = Some(alert.z);
        out.push(AlertRecord {
            id: 0,
            agent_id: event.agent_id.clone(),
            kind: AlertKind::Behaviour,
            timestamp_ms: event.timestamp_ms,
            seq,
            detail: format!(
                "behaviour departed from the agent's baseline: score {:.1} >= threshold {:.1}",
                alert.z, alert.threshold
            ),
            score: Some(alert.z),
            audit_index: None,
        });
    }
    for a in &mut out {
        a.id = state.next_alert;
        state.next_alert += 1;
        state.metrics.alerts += 1;
        if let Some(agent) = state.agents.get_mut(&event.agent_id) {
            agent.summary.alerts += 1;
        }
    }
    out
}

#[derive(Serialize)]
struct DecisionBody<'a> {
    agent_id: &'a str,
    timestamp_ms: u64,
    action: &'a Action,
    decision: Decision,
    rules: Vec<&'a str>,
    reason: &'a str,
}

/// An event's decision leaf without its `type` and `seq` (known only to the writer), as JSON.
fn decision_body(event: &Event, verdict: &Verdict, out: &mut Vec<u8>) {
    let body = DecisionBody {
        agent_id: &event.agent_id,
        timestamp_ms: event.timestamp_ms,
        action: &event.action,
        decision: verdict.decision,
        rules: verdict
            .commands
            .iter()
            .flat_map(|c| c.rules.iter().map(String::as_str))
            .collect(),
        reason: &verdict.reason,
    };
    // Serialising these plain structs into a Vec cannot fail.
    let _ = serde_json::to_writer(out, &body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_are_judged_as_the_hooks_judge_them() {
        let engine = Engine::builtin();
        let tool = |name: &str, input: serde_json::Value| {
            let event = Event {
                agent_id: "a".into(),
                timestamp_ms: 0,
                action: Action::Tool {
                    name: name.into(),
                    input,
                },
                outcome: None,
            };
            judge(&engine, &event).decision
        };
        use serde_json::json;
        assert_eq!(
            tool("Bash", json!({"command": "cat /etc/shadow"})),
            Decision::Deny
        );
        assert_eq!(tool("bash", json!({"command": "rm -rf /"})), Decision::Deny);
        assert_eq!(tool("Bash", json!({"command": "ls -la"})), Decision::Allow);
        assert_eq!(
            tool("Read", json!({"file_path": "/etc/shadow"})),
            Decision::Deny
        );
        assert_eq!(
            tool("Write", json!({"file_path": "/root/.ssh/authorized_keys"})),
            Decision::Deny
        );
        // A shell tool without its command, and an unknown tool: ask, never allow.
        assert_eq!(tool("Bash", json!({"cmd": "ls"})), Decision::Ask);
        assert_eq!(tool("mcp__x__frobnicate", json!({})), Decision::Ask);
    }

    #[test]
    fn decision_leaf_is_the_canonical_json_of_the_whole_record() {
        let engine = Engine::builtin();
        let event = Event {
            agent_id: "a \"quoted\" agent".into(),
            timestamp_ms: 1_765_000_000_123,
            action: Action::Command("rm -rf / # \u{e9}".into()),
            outcome: None,
        };
        let verdict = judge(&engine, &event);
        let mut body = Vec::new();
        decision_body(&event, &verdict, &mut body);
        let mut leaves = Leaves::default();
        leaves.decision(12_345, &body);
        #[derive(Serialize)]
        struct Whole<'a> {
            r#type: &'static str,
            seq: u64,
            #[serde(flatten)]
            body: DecisionBody<'a>,
        }
        let whole = serde_json::to_vec(&Whole {
            r#type: "decision",
            seq: 12_345,
            body: DecisionBody {
                agent_id: &event.agent_id,
                timestamp_ms: event.timestamp_ms,
                action: &event.action,
                decision: verdict.decision,
                rules: verdict
                    .commands
                    .iter()
                    .flat_map(|c| c.rules.iter().map(String::as_str))
                    .collect(),
                reason: &verdict.reason,
            },
        })
        .unwrap();
        assert_eq!(leaves.slices(), vec![whole.as_slice()]);
    }
}
