//! Many agents' baselines turning event streams into alerts.

use std::collections::HashMap;

use toolcap_descriptor::Capabilities;

use crate::error::Error;
use crate::event::{CommandId, Event};
use crate::profile::{Baseline, Config, Population, Scores};

/// An agent's identifier, chosen by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub u64);

/// A window whose calibrated score reached its threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alert {
    /// The agent.
    pub agent: AgentId,
    /// Index of the window in the agent's stream since enrolment (0-based).
    pub window: u64,
    /// Calibrated score.
    pub z: f32,
    /// The threshold it reached (the agent's own, or the global one).
    pub threshold: f32,
    /// Detector scores.
    pub scores: Scores,
    /// Timestamp of the window's last event, if the events carried one.
    pub at_ms: Option<u64>,
}

#[derive(Clone, Debug)]
struct Agent {
    baseline: Baseline,
    /// The open window, compactly: command and capability bits (8 bytes per event).
    pending: Vec<(u32, u32)>,
    last_at: Option<u64>,
    windows: u64,
    threshold: Option<f32>,
}

/// Holds many agents' baselines and a shared population model; scores each agent's stream in
/// windows of `cfg.window` events and raises an [`Alert`] when a window's calibrated score is at
/// least the agent's threshold (its own if set, else the global one).
///
/// Deterministic: the same enrolments, thresholds and events in the same order give the same
/// alerts. Learning follows the bounded, clean-only rule of [`Baseline::step`].
#[derive(Clone, Debug)]
pub struct Monitor {
    cfg: Config,
    population: Population,
    global: f32,
    agents: HashMap<AgentId, Agent>,
}

impl Monitor {
    /// A monitor with no agents.
    pub fn new(
        cfg: Config,
        population: Population,
        global_threshold: f32,
    ) -> Result<Monitor, Error> {
        cfg.validate()?;
        if !global_threshold.is_finite() {
            return Err(Error::Config("threshold must be finite"));
        }
        Ok(Monitor {
            cfg,
            population,
            global: global_threshold,
            agents: HashMap::new(),
        })
    }

    /// Trains and enrols an agent from its clean history (replacing any earlier baseline).
    pub fn enroll(&mut self, agent: AgentId, history: &[Event]) -> Result<(), Error> {
        let baseline = Baseline::train(history, &self.population, &self.cfg)?;
        self.insert(agent, baseline);
        Ok(())
    }

    /// Enrols an agent with an existing baseline.
    pub fn insert(&mut self, agent: AgentId, baseline: Baseline) {
        let pending = Vec::with_capacity(self.cfg.window);
        self.agents.insert(
            agent,
            Agent {
                baseline,
                pending,
                last_at: None,
                windows: 0,
                threshold: None,
            },
        );
    }

    /// Sets (or with `None` clears) an agent's own threshold.
    pub fn set_threshold(&mut self, agent: AgentId, threshold: Option<f32>) -> Result<(), Error> {
        if threshold.is_some_and(|t| !t.is_finite()) {
            return Err(Error::Config("threshold must be finite"));
        }
        let a = self
            .agents
            .get_mut(&agent)
            .ok_or(Error::UnknownAgent(agent.0))?;
        a.threshold = threshold;
        Ok(())
    }

    /// Sets the global threshold.
    pub fn set_global_threshold(&mut self, threshold: f32) -> Result<(), Error> {
        if !threshold.is_finite() {
            return Err(Error::Config("threshold must be finite"));
        }
        self.global = threshold;
        Ok(())
    }

    /// Feeds one event; when it completes a window, scores (and maybe learns) the window and
    /// returns an alert if it reached the threshold.
    pub fn observe(&mut self, agent: AgentId, event: &Event) -> Result<Option<Alert>, Error> {
        let a = self
            .agents
            .get_mut(&agent)
            .ok_or(Error::UnknownAgent(agent.0))?;
        a.pending.push((event.command.raw(), event.caps.bits()));
        if event.at_ms.is_some() {
            a.last_at = event.at_ms;
        }
        if a.pending.len() < self.cfg.window {
            return Ok(None);
        }
        let events = a.pending.iter().map(|(c, caps)| Event {
            command: CommandId::from_raw(*c),
            caps: Capabilities::from_bits_truncate(*caps),
            at_ms: None,
        });
        let verdict = a
            .baseline
            .step_events(events, &self.population, &self.cfg)?;
        a.pending.clear();
        let window = a.windows;
        a.windows += 1;
        let threshold = a.threshold.unwrap_or(self.global);
        Ok((verdict.z >= threshold).then_some(Alert {
            agent,
            window,
            z: verdict.z,
            threshold,
            scores: verdict.scores,
            at_ms: a.last_at,
        }))
    }

    /// An agent's baseline.
    pub fn baseline(&self, agent: AgentId) -> Option<&Baseline> {
        self.agents.get(&agent).map(|a| &a.baseline)
    }

    /// Agents enrolled.
    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// Whether no agent is enrolled.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    /// Bytes held per agent on average (baselines, open windows, map overhead estimated at one
    /// key and pointer per entry).
    pub fn bytes_per_agent(&self) -> usize {
        if self.agents.is_empty() {
            return 0;
        }
        let total: usize = self
            .agents
            .values()
            .map(|a| {
                std::mem::size_of::<Agent>() - std::mem::size_of::<Baseline>()
                    + a.baseline.bytes()
                    + a.pending.capacity() * 8
                    + std::mem::size_of::<AgentId>()
            })
            .sum();
        total / self.agents.len()
    }
}
