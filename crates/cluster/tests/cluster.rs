//! Cluster links end to end: membership, sealed frames, and a real `nats-server` as the broker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test code; a failure should abort the test

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use toolcap_cluster::nats::{NatsTransport, inbox_subject};
use toolcap_cluster::{
    ClusterError, FrameKind, Level, Link, LinkKeys, Member, Membership, SignedMembership,
};
use toolcap_crypto::SigningKey;

struct Node {
    id: &'static str,
    link: LinkKeys,
}

fn cluster() -> (SigningKey, Membership, Vec<Node>) {
    let authority = SigningKey::generate_os().unwrap();
    let shape = [
        ("g", Level::Global, None),
        ("r1", Level::Regional, Some("g")),
        ("l1", Level::Local, Some("r1")),
    ];
    let mut nodes = Vec::new();
    let mut members = Vec::new();
    for (id, level, parent) in shape {
        let link = LinkKeys::generate().unwrap();
        members.push(Member::new(
            id,
            level,
            parent,
            SigningKey::generate_os().unwrap().verifying_key(),
            link.public(),
        ));
        nodes.push(Node { id, link });
    }
    (
        authority,
        Membership {
            cluster: "t".into(),
            version: 1,
            members,
        },
        nodes,
    )
}

fn link(m: &Membership, n: Node) -> Link {
    Link::new(n.id, n.link, m.clone()).unwrap()
}

/// Membership lists: what verifies and what does not.
mod membership {
    use super::*;

    #[test]
    fn only_the_authoritys_signature_over_a_consistent_list_verifies() {
        let (authority, m, _) = cluster();
        let signed = SignedMembership::sign(m.clone(), &authority);
        assert_eq!(signed.verify(&authority.verifying_key()).unwrap(), m);

        let other = SigningKey::generate_os().unwrap();
        assert!(
            signed.verify(&other.verifying_key()).is_err(),
            "wrong authority"
        );
        for i in [0, signed.bytes.len() / 2, signed.bytes.len() - 1] {
            let mut t = signed.clone();
            t.bytes[i] ^= 1;
            assert!(
                t.verify(&authority.verifying_key()).is_err(),
                "byte {i} flipped"
            );
        }

        let mut orphan = m.clone();
        orphan.members[2].parent = Some("nowhere".into());
        let e = SignedMembership::sign(orphan, &authority)
            .verify(&authority.verifying_key())
            .unwrap_err();
        assert!(matches!(e, ClusterError::Membership(_)), "{e}");
        let mut skip = m.clone();
        skip.members[2].parent = Some("g".into());
        assert!(
            skip.validate().is_err(),
            "a local node reporting straight to the global one"
        );
        let mut dup = m;
        dup.members[2].link_key = dup.members[1].link_key;
        assert!(dup.validate().is_err(), "shared link key");
    }
}

/// Sealing and opening without a broker.
mod frames {
    use super::*;

    #[test]
    fn frames_authenticate_sender_recipient_and_header() {
        let (_, m, mut nodes) = cluster();
        let l1 = nodes.pop().unwrap();
        let r1 = nodes.pop().unwrap();
        let g = nodes.pop().unwrap();
        let mut l1 = link(&m, l1);
        let mut r1 = link(&m, r1);
        let mut g = link(&m, g);

        let frame = l1.seal("r1", FrameKind::Summary, b"summary").unwrap();
        assert!(
            !frame.windows(7).any(|w| w == b"summary"),
            "payload is encrypted"
        );
        assert!(
            matches!(g.open(&frame), Err(ClusterError::InvalidFrame)),
            "not for g"
        );
        let opened = r1.open(&frame).unwrap();
        assert_eq!(
            (opened.header.from.as_str(), opened.header.kind),
            ("l1", FrameKind::Summary)
        );
        assert!(matches!(r1.open(&frame), Err(ClusterError::Replay(_))));

        // Every single-byte change anywhere in the frame is refused.
        let frame = l1.seal("r1", FrameKind::Evidence, b"evidence").unwrap();
        for i in 0..frame.len() {
            let mut t = frame.clone();
            t[i] ^= 0x20;
            assert!(r1.open(&t).is_err(), "byte {i} changed and accepted");
        }
        assert!(
            r1.open(&frame).is_ok(),
            "the forgeries did not burn the sequence number"
        );
        assert!(r1.open(&[]).is_err());
        assert!(r1.open(&frame[..frame.len() - 1]).is_err());
    }

    #[test]
    fn a_non_member_cannot_send_even_with_a_member_name() {
        let (_, m, mut nodes) = cluster();
        let _l1 = nodes.pop().unwrap();
        let r1 = nodes.pop().unwrap();
        let mut r1 = link(&m, r1);
        // The attacker holds its own link key and claims to be l1.
        let mut forged = m.clone();
        let attacker = LinkKeys::generate().unwrap();
        forged.members[2].link_key = attacker.public();
        let mut mallory = Link::new("l1", attacker, forged).unwrap();
        let frame = mallory.seal("r1", FrameKind::Summary, b"lies").unwrap();
        assert!(matches!(r1.open(&frame), Err(ClusterError::InvalidFrame)));
    }

    #[test]
    fn a_restarted_sender_continues_above_its_floor() {
        let (_, m, mut nodes) = cluster();
        let l1_keys = nodes.pop().unwrap();
        let secret = l1_keys.link.secret();
        let r1 = nodes.pop().unwrap();
        let mut r1 = link(&m, r1);
        let mut l1 = link(&m, l1_keys);
        for _ in 0..3 {
            r1.open(&l1.seal("r1", FrameKind::Clock, b"x").unwrap())
                .unwrap();
        }
        // Restart: a new Link from the stored secret, seq floor from the clock.
        let mut l1 = Link::new("l1", LinkKeys::from_secret(&secret).unwrap(), m.clone()).unwrap();
        assert!(
            r1.open(&l1.seal("r1", FrameKind::Clock, b"x").unwrap())
                .is_err(),
            "seq 1 again is a replay"
        );
        l1.set_seq_floor(1_000_000);
        assert!(
            r1.open(&l1.seal("r1", FrameKind::Clock, b"x").unwrap())
                .is_ok()
        );
    }
}

/// A real nats-server with JetStream, started on a free loopback port.
struct NatsServer {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn nats_server() -> Option<NatsServer> {
    let bin = ["nats-server", "/usr/sbin/nats-server"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        });
    let Some(bin) = bin else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("nats-server is not installed; scripts/install-test-deps installs it");
        }
        eprintln!("SKIPPED: nats-server is not installed (run scripts/install-test-deps)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("toolcap-nats-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new(bin)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "nats-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(NatsServer {
        child,
        dir,
        url: format!("nats://127.0.0.1:{port}"),
    })
}

/// Frames over a real, untrusted broker.
mod broker {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn frames_cross_jetstream_and_the_brokers_tricks_fail() {
        let Some(server) = nats_server() else { return };
        let (_, m, mut nodes) = cluster();
        let l1 = nodes.pop().unwrap();
        let r1 = nodes.pop().unwrap();
        let mut l1 = link(&m, l1);
        let mut r1 = link(&m, r1);
        let r1_member = m.member("r1").unwrap().clone();

        let net = NatsTransport::connect(&server.url, "t").await.unwrap();
        let frame = l1.seal("r1", FrameKind::Summary, b"epoch 1").unwrap();
        net.send(&r1_member, frame.clone()).await.unwrap();
        // The broker (or anyone who can publish) replays the frame and injects garbage.
        net.send(&r1_member, frame).await.unwrap();
        net.send(&r1_member, b"TCF1 garbage".to_vec())
            .await
            .unwrap();
        net.send(
            &r1_member,
            l1.seal("r1", FrameKind::Summary, b"epoch 2").unwrap(),
        )
        .await
        .unwrap();

        let mut inbox = net.inbox(&r1_member).await.unwrap();
        let mut accepted = Vec::new();
        let mut rejected = 0;
        for _ in 0..4 {
            let d = tokio::time::timeout(Duration::from_secs(10), inbox.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            match r1.open(d.frame()) {
                Ok(o) => accepted.push(o.payload),
                Err(_) => rejected += 1,
            }
            d.ack().await.unwrap();
        }
        assert_eq!(accepted, vec![b"epoch 1".to_vec(), b"epoch 2".to_vec()]);
        assert_eq!(rejected, 2);
        assert_eq!(inbox_subject("t", &r1_member), "toolcap.t.regional.r1");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unacknowledged_frame_is_redelivered_to_a_restarted_node() {
        let Some(server) = nats_server() else { return };
        let (_, m, mut nodes) = cluster();
        let l1 = nodes.pop().unwrap();
        let mut l1 = link(&m, l1);
        let r1_member = m.member("r1").unwrap().clone();
        let net = NatsTransport::connect(&server.url, "t")
            .await
            .unwrap()
            .with_ack_wait(Duration::from_secs(1));
        net.send(
            &r1_member,
            l1.seal("r1", FrameKind::Evidence, b"must not be lost")
                .unwrap(),
        )
        .await
        .unwrap();
        {
            let mut inbox = net.inbox(&r1_member).await.unwrap();
            let d = tokio::time::timeout(Duration::from_secs(10), inbox.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert!(!d.frame().is_empty());
            // Dropped without ack: the node "crashed" while processing.
        }
        let net2 = NatsTransport::connect(&server.url, "t")
            .await
            .unwrap()
            .with_ack_wait(Duration::from_secs(1));
        let mut inbox = net2.inbox(&r1_member).await.unwrap();
        let d = tokio::time::timeout(Duration::from_secs(30), inbox.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(d.frame().starts_with(b"TCF1"));
        d.ack().await.unwrap();
    }
}

/// The per-epoch protocol of eleven nodes (two regional groups of four local nodes, a global
/// node) over a real broker, one local node Byzantine.
mod protocol {
    use super::*;
    use std::sync::{Arc, Mutex};
    use toolcap_cluster::node_loop::{
        EvidenceSink, NodeLoop, NodeLoopConfig, StatsSource, StatusHandle, fleet_membership,
    };
    use toolcap_cluster::runtime::FileState;
    use toolcap_fleet::{Evidence, FleetConfig, Signed};

    /// Twenty agents whose two features are spread around (0.5, -0.5), different per node.
    struct Agents(u64);
    impl StatsSource for Agents {
        fn rows(&self) -> Vec<Vec<f64>> {
            (0..20u64)
                .map(|a| {
                    let x = ((a * 7 + self.0 * 3) % 11) as f64 / 10.0 - 0.5;
                    vec![0.5 + x, -0.5 - x / 2.0]
                })
                .collect()
        }
    }

    #[derive(Default)]
    struct Evidences(Mutex<Vec<Signed<Evidence>>>);
    impl EvidenceSink for Evidences {
        fn record(&self, e: &Signed<Evidence>) -> Result<u64, ClusterError> {
            let mut v = self.0.lock().unwrap();
            v.push(e.clone());
            Ok(v.len() as u64 - 1)
        }
        fn record_attestation(
            &self,
            _: &toolcap_cluster::attestation::AttestationRecord,
            _: toolcap_fleet::NodeId,
            _: &toolcap_crypto::Signature,
        ) -> Result<u64, ClusterError> {
            panic!("no attestation in this cluster")
        }
    }

    struct Spec {
        id: String,
        identity: SigningKey,
        link_secret: [u8; 32],
    }

    fn shape() -> (Membership, Vec<Spec>) {
        let mut layout: Vec<(String, Level, Option<String>)> =
            vec![("g".into(), Level::Global, None)];
        for r in 1..=2 {
            layout.push((format!("r{r}"), Level::Regional, Some("g".into())));
            for l in 1..=4 {
                layout.push((format!("l{r}{l}"), Level::Local, Some(format!("r{r}"))));
            }
        }
        let mut members = Vec::new();
        let mut specs = Vec::new();
        for (id, level, parent) in layout {
            let identity = SigningKey::generate_os().unwrap();
            let link = LinkKeys::generate().unwrap();
            members.push(Member::new(
                &id,
                level,
                parent.as_deref(),
                identity.verifying_key(),
                link.public(),
            ));
            specs.push(Spec {
                id,
                identity,
                link_secret: *link.secret(),
            });
        }
        (
            Membership {
                cluster: "p".into(),
                version: 1,
                members,
            },
            specs,
        )
    }

    fn start(
        url: &str,
        m: &Membership,
        s: &Spec,
        sink: Arc<Evidences>,
        state: &std::path::Path,
        liar: &str,
    ) -> (StatusHandle, tokio::task::JoinHandle<()>) {
        let cfg = NodeLoopConfig {
            me: s.id.clone(),
            identity: SigningKey::from_seed(&s.identity.to_seed()),
            link: LinkKeys::from_secret(&s.link_secret).unwrap(),
            membership: m.clone(),
            epoch: Duration::from_millis(400),
            fleet: FleetConfig::new(2, -10.0, 10.0).unwrap(),
            byzantine_shift: if s.id == liar { 4.0 } else { 0.0 },
            require_attestation: false,
            attester: None,
        };
        let node = NodeLoop::new(cfg)
            .unwrap()
            .with_state(Arc::new(FileState::open(state.join(&s.id)).unwrap()))
            .unwrap();
        let status = node.status();
        let url = url.to_owned();
        let seed = s.id.bytes().map(u64::from).sum::<u64>();
        let task = tokio::spawn(async move {
            let net = NatsTransport::connect(&url, "p")
                .await
                .unwrap()
                .with_ack_wait(Duration::from_secs(2));
            node.run(net, Arc::new(Agents(seed)), sink, std::future::pending())
                .await
                .unwrap();
        });
        (status, task)
    }

    async fn until(what: &str, mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn byzantine_child_is_flagged_baseline_holds_and_a_restarted_aggregator_rejoins() {
        let Some(server) = nats_server() else { return };
        let (m, specs) = shape();
        let state = std::env::temp_dir().join(format!("toolcap-cl-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let sinks: Vec<Arc<Evidences>> = specs.iter().map(|_| Arc::default()).collect();
        let mut nodes: Vec<(StatusHandle, tokio::task::JoinHandle<()>)> = specs
            .iter()
            .zip(&sinks)
            .map(|(s, k)| start(&server.url, &m, s, Arc::clone(k), &state, "l13"))
            .collect();
        let idx = |id: &str| specs.iter().position(|s| s.id == id).unwrap();
        let status =
            |nodes: &Vec<(StatusHandle, _)>, id: &str| nodes[idx(id)].0.lock().unwrap().clone();

        // The regional node of the Byzantine child flags it, with signed evidence.
        until("r1 to flag l13", || {
            status(&nodes, "r1").flagged.contains("l13")
        })
        .await;
        let r1 = status(&nodes, "r1");
        assert_eq!(
            r1.flagged.iter().collect::<Vec<_>>(),
            vec!["l13"],
            "only the liar is flagged"
        );
        let members = fleet_membership(&m);
        let evidence = sinks[idx("r1")].0.lock().unwrap().clone();
        assert!(!evidence.is_empty());
        for e in &evidence {
            e.verify(&members).unwrap();
            assert_eq!(e.record.subject.0 as usize, idx("l13"));
        }
        assert!(status(&nodes, "r2").flagged.is_empty());

        // r1 sends its signed evidence up: g checks r1's signature and records it, so the
        // global node knows, provably, which local node lied.
        until("g to hear of l13 from r1", || {
            status(&nodes, "g").flagged_below.contains("l13")
        })
        .await;
        let g = status(&nodes, "g");
        assert_eq!(g.flagged_below.iter().collect::<Vec<_>>(), vec!["l13"]);
        assert!(g.reported_findings.iter().all(|f| f.reporter == "r1"));
        let forwarded = sinks[idx("g")].0.lock().unwrap().clone();
        assert!(!forwarded.is_empty());
        for e in &forwarded {
            e.verify(&members).unwrap();
            assert_eq!(e.signer.0 as usize, idx("r1"));
            assert_eq!(e.record.subject.0 as usize, idx("l13"));
        }

        // The global baseline stays near the honest mean (about (0.5, -0.5)) despite a shift of 4.
        until("a global baseline from both regions", || {
            let g = status(&nodes, "g");
            g.baseline.is_some() && g.children_last_epoch.len() == 2
        })
        .await;
        let g = status(&nodes, "g");
        let b = g.baseline.unwrap();
        assert!(
            (b[0] - 0.5).abs() < 0.25 && (b[1] + 0.5).abs() < 0.25,
            "baseline {b:?}"
        );
        // Clock entries travel with every frame: g's vector has learned the local nodes'
        // counters through the regional ones, and no entry was refused.
        assert!(
            g.clock[idx("l11")] > 0 && g.clock[idx("l24")] > 0,
            "{:?}",
            g.clock
        );
        assert!(
            g.clock[idx("r1")] > 0 && g.clock[idx("r2")] > 0,
            "{:?}",
            g.clock
        );
        assert!(g.clock_refused.is_empty(), "{:?}", g.clock_refused);

        // Quorum certificates: each regional node's children recompute and endorse its merge,
        // so its summaries go up certified; g's epochs are final and g's own output is
        // certified by r1 and r2.
        until("a final, certified global epoch", || {
            let g = status(&nodes, "g");
            g.final_epoch.is_some() && g.certified_epoch.is_some()
        })
        .await;
        for r in ["r1", "r2"] {
            let st = status(&nodes, r);
            assert!(st.certified_sent > 0, "{r}: {st:?}");
            assert!(st.endorsements_sent > 0, "{r}: {st:?}");
        }
        for l in ["l11", "l13", "l24"] {
            let st = status(&nodes, l);
            assert!(st.endorsements_sent > 0, "{l}: {st:?}");
            assert!(st.endorse_refused.is_empty(), "{l}: {st:?}");
        }
        let g = status(&nodes, "g");
        assert_eq!(g.certificate_refused, 0, "{g:?}");
        let fb = g.final_baseline.clone().unwrap();
        assert!((fb[0] - 0.5).abs() < 0.25, "{fb:?}");

        // Kill the regional r2 mid-run and restart it from its key material and its clock state:
        // it continues its clock and rejoins, and nothing of it is refused.
        let (_, task) = nodes.remove(idx("r2"));
        task.abort();
        let _ = task.await;
        let before = status(&nodes, "g").children_last_epoch["r2"];
        let restarted = start(
            &server.url,
            &m,
            &specs[idx("r2")],
            Arc::clone(&sinks[idx("r2")]),
            &state,
            "l13",
        );
        nodes.insert(idx("r2"), restarted);
        until("r2's summaries to reach g again", || {
            status(&nodes, "g").children_last_epoch["r2"] > before + 1
        })
        .await;
        let g = status(&nodes, "g");
        assert_eq!(g.refused, 0, "the restarted node is not refused: {g:?}");
        assert!(g.clock_refused.is_empty(), "{:?}", g.clock_refused);

        // Restarted without its clock state, r2's entries start again from the genesis: they
        // replay or fork its chain, and g refuses them.
        let (_, task) = nodes.remove(idx("r2"));
        task.abort();
        let _ = task.await;
        let amnesiac = start(
            &server.url,
            &m,
            &specs[idx("r2")],
            Arc::clone(&sinks[idx("r2")]),
            &state.join("amnesia"),
            "l13",
        );
        nodes.insert(idx("r2"), amnesiac);
        until("g to refuse r2's restarted clock", || {
            !status(&nodes, "g").clock_refused.is_empty()
        })
        .await;
        let g = status(&nodes, "g");
        assert!(
            g.clock_refused
                .keys()
                .all(|k| ["replayed", "reordered", "spliced"].contains(&k.as_str())),
            "{:?}",
            g.clock_refused
        );
        for (_, t) in nodes {
            t.abort();
        }
        let _ = std::fs::remove_dir_all(&state);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lying_aggregator_gets_no_certificate_and_its_epochs_are_degraded() {
        let Some(server) = nats_server() else { return };
        let (m, specs) = shape();
        let state = std::env::temp_dir().join(format!("toolcap-cl-liar-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let sinks: Vec<Arc<Evidences>> = specs.iter().map(|_| Arc::default()).collect();
        let nodes: Vec<(StatusHandle, tokio::task::JoinHandle<()>)> = specs
            .iter()
            .zip(&sinks)
            .map(|(s, k)| start(&server.url, &m, s, Arc::clone(k), &state, "r2"))
            .collect();
        let idx = |id: &str| specs.iter().position(|s| s.id == id).unwrap();
        let status =
            |nodes: &Vec<(StatusHandle, _)>, id: &str| nodes[idx(id)].0.lock().unwrap().clone();
        // r2 shifts its merged mean by 4: its children recompute the merge and refuse.
        until(
            "r2's children to refuse its proposal, and g to merge it",
            || {
                let l = status(&nodes, "l21");
                let g = status(&nodes, "g");
                l.endorse_refused.contains_key("differs")
                    && g.degraded_epochs > 1
                    && status(&nodes, "r2").uncertified_sent > 1
            },
        )
        .await;
        for l in ["l21", "l22", "l23", "l24"] {
            let st = status(&nodes, l);
            assert_eq!(st.endorsements_sent, 0, "{l}: {st:?}");
        }
        let r2 = status(&nodes, "r2");
        assert_eq!(r2.certified_sent, 0, "{r2:?}");
        assert!(r2.certified_epoch.is_none(), "{r2:?}");
        assert!(status(&nodes, "r1").certified_sent > 0);
        // Every global epoch includes r2's uncertified summary: none is final, nothing false
        // becomes the final baseline.
        let g = status(&nodes, "g");
        assert!(g.merged_epoch.is_some(), "{g:?}");
        assert_eq!(g.final_epoch, None, "{g:?}");
        assert_eq!(g.final_baseline, None, "{g:?}");

        // r2's children send g the proof (their signed evidence and r2's signed proposal with
        // its signed inputs); g recomputes the merge, records the proof and leaves r2 out.
        until("g to hold a proof against r2", || {
            status(&nodes, "g").proven_false.contains("r2")
        })
        .await;
        let evidence = sinks[idx("g")].0.lock().unwrap().clone();
        let members = fleet_membership(&m);
        let proofs: Vec<_> = evidence
            .iter()
            .filter(|e| e.record.kind == toolcap_fleet::EvidenceKind::FalseSummary)
            .collect();
        assert_eq!(proofs.len(), 1, "recorded once: {evidence:?}");
        proofs[0].verify(&members).unwrap();
        assert_eq!(proofs[0].record.subject.0 as usize, idx("r2"));
        let reporter = proofs[0].record.reporter.0 as usize;
        assert!(
            ["l21", "l22", "l23", "l24"].contains(&specs[reporter].id.as_str()),
            "reported by one of r2's children"
        );
        assert!(
            status(&nodes, "l21")
                .findings
                .iter()
                .any(|f| f.kind == "false-summary" && f.subject == "r2")
        );
        let after = status(&nodes, "g").merged_epoch.unwrap_or(0);
        until("two more global merges", || {
            status(&nodes, "g")
                .merged_epoch
                .is_some_and(|e| e > after + 1)
        })
        .await;
        let g = status(&nodes, "g");
        let b = g.baseline.clone().unwrap();
        assert!(
            (b[0] - 0.5).abs() < 0.25 && (b[1] + 0.5).abs() < 0.25,
            "without the proven liar the baseline is honest: {b:?}"
        );
        assert_eq!(g.flagged.iter().collect::<Vec<_>>(), vec!["r2"], "{g:?}");
        // The quarantine is kept in g's state: restarted, g leaves r2 out from the start.
        let mut nodes = nodes;
        let (_, task) = nodes.remove(idx("g"));
        task.abort();
        let _ = task.await;
        let again = start(
            &server.url,
            &m,
            &specs[idx("g")],
            Arc::clone(&sinks[idx("g")]),
            &state,
            "r2",
        );
        assert!(again.0.lock().unwrap().proven_false.contains("r2"));
        nodes.insert(idx("g"), again);
        for (_, t) in nodes {
            t.abort();
        }
        let _ = std::fs::remove_dir_all(&state);
    }
}

/// Attestation before join, with real swtpm processes and a real nats-server.
#[cfg(feature = "tpm")]
mod attestation {
    use super::*;
    use std::sync::{Arc, Mutex};
    use toolcap_cluster::AttestationRef;
    use toolcap_cluster::attestation::{
        AttestationRecord, sha256, spawn_swtpm, swtpm_attestation_key,
    };
    use toolcap_cluster::node_loop::{
        EvidenceSink, NodeLoop, NodeLoopConfig, StatsSource, StatusHandle,
    };
    use toolcap_crypto::{Canonical, Signature};
    use toolcap_fleet::{Evidence, FleetConfig, NodeId, Signed};

    /// A swtpm process on two free loopback ports, killed on drop.
    struct Swtpm {
        child: Child,
        dir: PathBuf,
        port: u16,
    }

    impl Drop for Swtpm {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    impl Swtpm {
        fn tcti(&self) -> String {
            format!("swtpm:host=127.0.0.1,port={}", self.port)
        }
    }

    fn free_port_pair() -> u16 {
        loop {
            let a = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = a.local_addr().unwrap().port();
            if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
                return port;
            }
        }
    }

    /// Starts swtpm, or returns None (skipping loudly) when it is not installed outside CI.
    fn swtpm(name: &str) -> Option<Swtpm> {
        if Command::new("swtpm")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("swtpm is not installed; scripts/install-test-deps installs it");
            }
            eprintln!("SKIPPED: swtpm is not installed (run scripts/install-test-deps)");
            return None;
        }
        let dir =
            std::env::temp_dir().join(format!("toolcap-cl-swtpm-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port_pair();
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--flags", "not-need-init,startup-clear"])
            .arg("--tpmstate")
            .arg(format!("dir={}", dir.display()))
            .arg("--server")
            .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
            .arg("--ctrl")
            .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(10), "swtpm did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Swtpm { child, dir, port })
    }

    struct Rows;
    impl StatsSource for Rows {
        fn rows(&self) -> Vec<Vec<f64>> {
            vec![vec![0.1, 0.2], vec![0.3, 0.4]]
        }
    }

    /// Evidence and attestation decisions, as an audit log would keep them.
    #[derive(Default)]
    struct Audit(Mutex<Vec<(AttestationRecord, NodeId, Signature)>>);
    impl EvidenceSink for Audit {
        fn record(&self, _: &Signed<Evidence>) -> Result<u64, ClusterError> {
            Ok(u64::MAX)
        }
        fn record_attestation(
            &self,
            r: &AttestationRecord,
            signer: NodeId,
            sig: &Signature,
        ) -> Result<u64, ClusterError> {
            let mut v = self.0.lock().unwrap();
            v.push((r.clone(), signer, *sig));
            Ok(v.len() as u64 - 1)
        }
    }

    const BINARY: &[u8] = b"the toolcap node binary";
    const EVIL_BINARY: &[u8] = b"a patched toolcap node binary";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_a_child_whose_quote_matches_the_membership_joins() {
        let Some(server) = nats_server() else { return };
        // l1 honest; l2 runs another configuration; l3 another binary; l4 has no TPM at all.
        let (Some(t1), Some(t2), Some(t3)) = (swtpm("l1"), swtpm("l2"), swtpm("l3")) else {
            return;
        };
        let config = |id: &str| format!("node = {id:?}\n").into_bytes();
        let authority = SigningKey::generate_os().unwrap();
        let ids = ["g", "r1", "l1", "l2", "l3", "l4"];
        let identities: Vec<SigningKey> = ids
            .iter()
            .map(|_| SigningKey::generate_os().unwrap())
            .collect();
        let links: Vec<[u8; 32]> = ids
            .iter()
            .map(|_| *LinkKeys::generate().unwrap().secret())
            .collect();
        let tpm_of = |id: &str| match id {
            "l1" => Some(&t1),
            "l2" => Some(&t2),
            "l3" => Some(&t3),
            _ => None,
        };
        let members: Vec<Member> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let (level, parent) = match *id {
                    "g" => (Level::Global, None),
                    "r1" => (Level::Regional, Some("g")),
                    _ => (Level::Local, Some("r1")),
                };
                let link = LinkKeys::from_secret(&links[i]).unwrap();
                let mut m = Member::new(
                    id,
                    level,
                    parent,
                    identities[i].verifying_key(),
                    link.public(),
                );
                if level == Level::Local {
                    // l4's key is l1's: it cannot quote with it.
                    let key = swtpm_attestation_key(&tpm_of(id).unwrap_or(&t1).tcti()).unwrap();
                    m.attestation = Some(AttestationRef {
                        key,
                        binary: sha256(BINARY),
                        config: sha256(&config(id)),
                    });
                }
                m
            })
            .collect();
        let membership = SignedMembership::sign(
            Membership {
                cluster: "att".into(),
                version: 1,
                members,
            },
            &authority,
        )
        .verify(&authority.verifying_key())
        .unwrap();

        let audit = Arc::new(Audit::default());
        let mut statuses: Vec<(String, StatusHandle)> = Vec::new();
        let mut tasks = Vec::new();
        for (i, id) in ids.iter().enumerate().skip(1) {
            let attester = tpm_of(id).map(|t| {
                let (binary, config) = match *id {
                    "l2" => (BINARY.to_vec(), b"node = \"l2\"\ndebug = true\n".to_vec()),
                    "l3" => (EVIL_BINARY.to_vec(), config(id)),
                    _ => (BINARY.to_vec(), config(id)),
                };
                spawn_swtpm(&t.tcti(), sha256(&binary), sha256(&config)).unwrap()
            });
            let cfg = NodeLoopConfig {
                me: (*id).to_owned(),
                identity: SigningKey::from_seed(&identities[i].to_seed()),
                link: LinkKeys::from_secret(&links[i]).unwrap(),
                membership: membership.clone(),
                epoch: Duration::from_millis(300),
                fleet: FleetConfig::new(2, -10.0, 10.0).unwrap(),
                byzantine_shift: 0.0,
                require_attestation: *id == "r1",
                attester,
            };
            let node = NodeLoop::new(cfg).unwrap();
            statuses.push(((*id).to_owned(), node.status()));
            let url = server.url.clone();
            let sink = Arc::clone(&audit);
            tasks.push(tokio::spawn(async move {
                let net = NatsTransport::connect(&url, "att").await.unwrap();
                node.run(net, Arc::new(Rows), sink, std::future::pending())
                    .await
                    .unwrap();
            }));
        }
        let r1 = || {
            statuses
                .iter()
                .find(|(n, _)| n == "r1")
                .unwrap()
                .1
                .lock()
                .unwrap()
                .clone()
        };
        let t = Instant::now();
        loop {
            let s = r1();
            let decided = ["l1", "l2", "l3"]
                .iter()
                .all(|c| s.attestation[*c].state != "pending");
            if decided && s.children_last_epoch.contains_key("l1") && s.refused_unattested > 0 {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(20), "timed out: {s:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let s = r1();
        assert!(s.require_attestation);
        let l1 = &s.attestation["l1"];
        assert_eq!(l1.state, "admitted", "{s:?}");
        assert_eq!(
            l1.root_of_trust,
            Some("software (swtpm): not hardware-backed")
        );
        let l2 = &s.attestation["l2"];
        assert_eq!(l2.state, "refused");
        assert!(l2.reason.as_deref().unwrap().contains("config"), "{l2:?}");
        let l3 = &s.attestation["l3"];
        assert_eq!(l3.state, "refused");
        assert!(l3.reason.as_deref().unwrap().contains("binary"), "{l3:?}");
        assert_eq!(s.attestation["l4"].state, "pending", "no TPM, no quote");
        // Only the admitted child's summaries count; the others' frames are refused.
        let children: Vec<&String> = s.children_last_epoch.keys().collect();
        assert_eq!(children, vec!["l1"], "{s:?}");

        // Every decision is signed by r1 and names its subject and outcome.
        let r1_key = identities[1].verifying_key();
        let records = audit.0.lock().unwrap().clone();
        for (r, signer, sig) in &records {
            assert_eq!(signer.0, 1);
            r1_key
                .verify(AttestationRecord::TAG, &r.to_canonical(), sig)
                .unwrap();
            assert_eq!(r.verifier, "r1");
            assert_eq!(r.admitted, r.subject == "l1", "{r:?}");
        }
        let subjects: BTreeSet<&str> = records.iter().map(|(r, _, _)| r.subject.as_str()).collect();
        assert_eq!(subjects, BTreeSet::from(["l1", "l2", "l3"]));
        for t in tasks {
            t.abort();
        }
    }

    use std::collections::BTreeSet;
}
