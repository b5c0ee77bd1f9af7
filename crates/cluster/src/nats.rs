//! The NATS JetStream transport: sealed frames on durable per-node inbox subjects.
//!
//! Subjects map the hierarchy: node `id` at level `L` of cluster `C` reads
//! `toolcap.C.L.id` (for example `toolcap.fleet.regional.eu-1`). One stream per cluster,
//! `TOOLCAP_C`, captures `toolcap.C.>` with file storage, so frames survive a node's (or the
//! broker's) restart; each node reads its inbox through a durable pull consumer and acknowledges a
//! frame only after it has processed it, so a node killed mid-frame gets it again. The broker sees
//! subjects and sizes, nothing else: payloads are sealed by [`crate::Link`].

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use futures_util::StreamExt;

use crate::{ClusterError, Member};

fn transport<E: std::fmt::Display>(e: E) -> ClusterError {
    ClusterError::Transport(e.to_string())
}

/// A connection to the broker for one cluster.
#[derive(Clone, Debug)]
pub struct NatsTransport {
    js: jetstream::Context,
    cluster: String,
    ack_wait: Duration,
}

/// The subject a member reads.
pub fn inbox_subject(cluster: &str, member: &Member) -> String {
    format!("toolcap.{cluster}.{}.{}", member.level.name(), member.id)
}

impl NatsTransport {
    /// Connects to `url` (e.g. `nats://127.0.0.1:4222`) and makes sure the cluster's stream exists.
    pub async fn connect(url: &str, cluster: &str) -> Result<NatsTransport, ClusterError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(transport)?;
        let js = jetstream::new(client);
        js.get_or_create_stream(stream::Config {
            name: format!("TOOLCAP_{cluster}"),
            subjects: vec![format!("toolcap.{cluster}.>")],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(transport)?;
        Ok(NatsTransport {
            js,
            cluster: cluster.to_owned(),
            ack_wait: Duration::from_secs(10),
        })
    }

    /// How long the broker waits for an acknowledgement before redelivering a frame (default
    /// 10 s). It is fixed when a node's durable inbox is first created.
    #[must_use]
    pub fn with_ack_wait(mut self, ack_wait: Duration) -> NatsTransport {
        self.ack_wait = ack_wait;
        self
    }

    /// Publishes a sealed frame to `to`'s inbox and waits until JetStream has stored it.
    pub async fn send(&self, to: &Member, frame: Vec<u8>) -> Result<(), ClusterError> {
        let ack = self
            .js
            .publish(inbox_subject(&self.cluster, to), Bytes::from(frame))
            .await
            .map_err(transport)?;
        ack.await.map_err(transport)?;
        Ok(())
    }

    /// Opens `me`'s inbox: a durable consumer that resumes where the node left off.
    pub async fn inbox(&self, me: &Member) -> Result<Inbox, ClusterError> {
        let stream = self
            .js
            .get_stream(format!("TOOLCAP_{}", self.cluster))
            .await
            .map_err(transport)?;
        let consumer = stream
            .get_or_create_consumer(
                &format!("node-{}", me.id),
                consumer::pull::Config {
                    durable_name: Some(format!("node-{}", me.id)),
                    filter_subject: inbox_subject(&self.cluster, me),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.ack_wait,
                    ..Default::default()
                },
            )
            .await
            .map_err(transport)?;
        let messages = consumer.messages().await.map_err(transport)?;
        Ok(Inbox { messages })
    }
}

/// A node's inbox.
pub struct Inbox {
    messages: consumer::pull::Stream,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}

/// One frame taken from an inbox; [`Delivery::ack`] it once processed.
pub struct Delivery {
    message: jetstream::Message,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("len", &self.message.payload.len())
            .finish()
    }
}

impl Delivery {
    /// The sealed frame.
    pub fn frame(&self) -> &[u8] {
        &self.message.payload
    }

    /// Tells the broker the frame is processed; until then it is redelivered.
    pub async fn ack(&self) -> Result<(), ClusterError> {
        self.message.ack().await.map_err(transport)
    }
}

impl Inbox {
    /// The next frame, waiting for it; `None` when the connection is gone for good.
    pub async fn next(&mut self) -> Option<Result<Delivery, ClusterError>> {
        let item = self.messages.next().await?;
        Some(item.map(|message| Delivery { message }).map_err(transport))
    }
}
