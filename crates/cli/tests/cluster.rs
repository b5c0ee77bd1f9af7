//! `toolcap serve` in cluster mode: a real nats-server and eleven node processes on loopback
//! (two regional groups of four local nodes and a global node), agents' events over HTTP, one
//! local node Byzantine, a node killed with SIGKILL and restarted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test code; a failure should abort the run

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use toolcap_cluster::Level;

const BIN: &str = env!("CARGO_BIN_EXE_toolcap");

struct Proc {
    child: Child,
    base: String,
    _stdout: BufReader<ChildStdout>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(config: &Path) -> Proc {
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    Proc {
        child,
        base: format!("http://{addr}"),
        _stdout: stdout,
    }
}

struct Nats {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nats() -> Option<Nats> {
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
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("toolcap-cli-nats-{}-{port}", std::process::id()));
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
    Some(Nats {
        child,
        dir,
        url: format!("nats://127.0.0.1:{port}"),
    })
}

fn get(url: &str) -> Value {
    let mut r = ureq::get(url).call().unwrap();
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(25),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Agent `k` of a node runs ten commands, `k` of which are denied.
fn events(node: &str) -> String {
    let mut v = Vec::new();
    for k in 0..5 {
        for i in 0..10 {
            let command = if i < k { "rm -rf /" } else { "ls -la" };
            v.push(json!({
                "agent_id": format!("{node}-a{k}"),
                "timestamp": format!("2026-12-03T12:00:{i:02}Z"),
                "command": command,
            }));
        }
    }
    Value::Array(v).to_string()
}

#[test]
fn cluster_of_eleven_nodes_flags_the_byzantine_one_keeps_the_baseline_and_survives_sigkill() {
    let Some(nats) = nats() else { return };
    let root = std::env::temp_dir().join(format!("toolcap-cli-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let keys = root.join("keys");
    let out = Command::new(BIN)
        .args(["cluster", "init", "--dir"])
        .arg(&keys)
        .args(["--name", "it", "--regionals", "2", "--locals", "4"])
        .args(["--nats-url", &nats.url, "--epoch-ms", "300"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("11 nodes"), "{text}");
    let mut shape: Vec<(String, Level, Option<String>)> = vec![("g".into(), Level::Global, None)];
    for r in 1..=2 {
        shape.push((format!("r{r}"), Level::Regional, Some("g".into())));
        for l in 1..=4 {
            shape.push((format!("l{r}{l}"), Level::Local, Some(format!("r{r}"))));
        }
    }
    for (id, _, _) in &shape {
        assert!(
            text.contains(&format!("--config {}/{id}.toml", keys.display())),
            "{text}"
        );
    }
    // The simulation switch goes at the end of l13's [cluster] section.
    let l13 = keys.join("l13.toml");
    let mut cfg = std::fs::read_to_string(&l13).unwrap();
    cfg.push_str("byzantine_shift = 4.0\n");
    std::fs::write(&l13, cfg).unwrap();
    let config = |id: &str| -> PathBuf { keys.join(format!("{id}.toml")) };
    let mut procs: Vec<(String, Proc)> = shape
        .iter()
        .map(|(id, _, _)| (id.clone(), spawn(&config(id))))
        .collect();
    let base = |procs: &Vec<(String, Proc)>, id: &str| {
        procs.iter().find(|(n, _)| n == id).unwrap().1.base.clone()
    };

    // Agents stream their events to the local nodes.
    for (id, _, _) in shape.iter().filter(|(_, l, _)| *l == Level::Local) {
        let r = ureq::post(&format!("{}/v1/events", base(&procs, id)))
            .header("content-type", "application/json")
            .send(events(id))
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // From the next epoch on (300 ms, wall-clock aligned) every local node reports all its agents.
    let all_in = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        / 300
        + 1;

    // The Byzantine node is flagged by its regional node, and only it.
    until("r1 to flag l13", || {
        get(&format!("{}/v1/cluster", base(&procs, "r1")))["flagged"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "l13"))
    });
    let r1 = get(&format!("{}/v1/cluster", base(&procs, "r1")));
    assert_eq!(r1["flagged"], json!(["l13"]), "{r1}");
    let r2 = get(&format!("{}/v1/cluster", base(&procs, "r2")));
    assert_eq!(r2["flagged"], json!([]), "{r2}");

    // The global baseline: honest agents deny 0..4 of 10, a mean deny rate of 0.2.
    // Wait for an epoch in which every local node had its agents (earlier epochs may hold only
    // the nodes whose events came first): all honest agents are merged (35 = 7 x 5; l13's are
    // rejected).
    let mut g = Value::Null;
    until("a global baseline over every agent", || {
        g = get(&format!("{}/v1/cluster", base(&procs, "g")));
        g["merged_epoch"].as_u64().is_some_and(|e| e > all_in)
    });
    assert_eq!(g["baseline_count"], 35, "{g}");
    let b0 = g["baseline"][0].as_f64().unwrap();
    assert!(
        (b0 - 0.2).abs() < 0.1,
        "global deny-rate baseline {b0} despite a shift of 4: {g}"
    );

    // The evidence is in r1's audit log, under a signed checkpoint.
    let cp = get(&format!("{}/v1/audit/checkpoint", base(&procs, "r1")));
    assert!(cp.is_object(), "{cp}");
    let idx = r1["findings"][0]["audit_index"].as_u64().unwrap();
    let proof = ureq::get(&format!(
        "{}/v1/audit/inclusion?index={idx}",
        base(&procs, "r1")
    ))
    .call()
    .unwrap();
    assert_eq!(proof.status(), 200);

    // r1 sends its signed evidence up: the global node records it in its own audit log.
    let mut g = Value::Null;
    until("g to hear of l13 from r1", || {
        g = get(&format!("{}/v1/cluster", base(&procs, "g")));
        g["flagged_below"].as_array().is_some_and(|f| !f.is_empty())
    });
    assert_eq!(g["flagged_below"], json!(["l13"]), "{g}");
    let reported = &g["reported_findings"][0];
    assert_eq!(reported["reporter"], "r1", "{g}");
    let idx = reported["audit_index"].as_u64().unwrap();
    let proof = ureq::get(&format!(
        "{}/v1/audit/inclusion?index={idx}",
        base(&procs, "g")
    ))
    .call()
    .unwrap();
    assert_eq!(proof.status(), 200);
    // Quorum certificates: the regional nodes' summaries arrive certified by their children,
    // so g's epochs are final, and r1 and r2 certify g's own output.
    until("a final, certified global epoch", || {
        g = get(&format!("{}/v1/cluster", base(&procs, "g")));
        g["final_epoch"].is_u64() && g["certified_epoch"].is_u64()
    });
    assert_eq!(g["certificate_refused"], 0, "{g}");
    // Every frame carried a clock entry; the global node's vector knows every local node.
    for l in ["l11", "l14", "l21", "l24"] {
        let i = shape.iter().position(|(id, _, _)| id == l).unwrap();
        assert!(g["clock"][i].as_u64().is_some_and(|c| c > 0), "{l}: {g}");
    }

    // SIGKILL a local node after its events were acknowledged, and a regional node mid-run.
    let before = get(&format!("{}/v1/cluster", base(&procs, "g")))["children_last_epoch"]["r2"]
        .as_u64()
        .unwrap();
    let l21_before =
        get(&format!("{}/v1/cluster", base(&procs, "r2")))["children_last_epoch"]["l21"]
            .as_u64()
            .unwrap();
    for id in ["l21", "r2"] {
        let i = procs.iter().position(|(n, _)| n == id).unwrap();
        let (_, mut p) = procs.remove(i);
        Command::new("kill")
            .args(["-KILL", &p.child.id().to_string()])
            .status()
            .unwrap();
        p.child.wait().unwrap();
        drop(p);
        procs.push((id.to_owned(), spawn(&config(id))));
    }
    // Nothing acknowledged is lost: every event of l21's agents is there after the restart.
    for k in 0..5 {
        let a = get(&format!("{}/v1/agents/l21-a{k}", base(&procs, "l21")));
        assert_eq!(a["events"], 10, "{a}");
        assert_eq!(a["denied"], k, "{a}");
    }
    // It rejoins: the restarted regional node's summaries reach the global node again.
    until("r2 to report to g again", || {
        get(&format!("{}/v1/cluster", base(&procs, "g")))["children_last_epoch"]["r2"]
            .as_u64()
            .is_some_and(|e| e > before + 1)
    });
    // The restarted local node knows its agents from its journal and reports them again,
    // without any new event.
    until("l21 to report to r2 again", || {
        get(&format!("{}/v1/cluster", base(&procs, "r2")))["children_last_epoch"]["l21"]
            .as_u64()
            .is_some_and(|e| e > l21_before + 1)
    });
    let g = get(&format!("{}/v1/cluster", base(&procs, "g")));
    assert_eq!(g["refused"], 0, "{g}");
    // r2 resumed its clock from its data directory: nothing it sent after the restart was
    // refused as a replay or a fork.
    assert_eq!(g["clock_refused"], json!({}), "{g}");
    drop(procs);
    // Every node's audit log verifies (checkpoints, roots, consistency), including the two that
    // were killed.
    for (id, _, _) in &shape {
        let dir = keys.join("data").join(id).join("audit");
        let out = Command::new(BIN)
            .args(["audit", "verify", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{id}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn cluster_init_help_documents_its_flags() {
    let out = Command::new(BIN)
        .args(["cluster", "init", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--dir",
        "--name",
        "--regionals",
        "--locals",
        "--nats-url",
        "--epoch-ms",
        "--listen-base",
        "--tpm",
        "--require-attestation",
        "--binary",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    // Bad input is a usage error, not a panic.
    let dir = std::env::temp_dir().join(format!("toolcap-cli-init-bad-{}", std::process::id()));
    for bad in [
        vec!["--regionals", "0"],
        vec!["--tpm", "nobody=swtpm:port=1"],
        vec!["--tpm", "l11"],
        vec!["--require-attestation"],
        vec!["--name", "no spaces"],
    ] {
        let out = Command::new(BIN)
            .args(["cluster", "init", "--dir"])
            .arg(&dir)
            .args(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A swtpm process on two free loopback ports, killed on drop.
#[cfg(feature = "tpm")]
struct Swtpm {
    child: Child,
    dir: PathBuf,
    port: u16,
}

#[cfg(feature = "tpm")]
impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts swtpm, or returns None (skipping loudly) when it is not installed outside CI.
#[cfg(feature = "tpm")]
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
    let dir = std::env::temp_dir().join(format!("toolcap-cli-swtpm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = loop {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            break port;
        }
    };
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

/// `toolcap cluster init --require-attestation --tpm ...` and four `toolcap serve` processes
/// with swtpm: the node whose configuration is what the membership pins joins, the node whose
/// configuration was changed after init is refused, visibly in `GET /v1/cluster` and in the
/// aggregator's audit log.
#[cfg(feature = "tpm")]
#[test]
fn cluster_refuses_a_node_with_a_changed_config_and_admits_the_honest_one() {
    let Some(nats) = nats() else { return };
    let (Some(t_r1), Some(t_l11), Some(t_l12)) = (swtpm("r1"), swtpm("l11"), swtpm("l12")) else {
        return;
    };
    let root = std::env::temp_dir().join(format!("toolcap-cli-attest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let tcti = |t: &Swtpm| format!("swtpm:host=127.0.0.1,port={}", t.port);
    let out = Command::new(BIN)
        .args(["cluster", "init", "--dir"])
        .arg(&root)
        .args(["--name", "att", "--regionals", "1", "--locals", "2"])
        .args([
            "--nats-url",
            &nats.url,
            "--epoch-ms",
            "300",
            "--require-attestation",
        ])
        .arg("--tpm")
        .arg(format!("r1={}", tcti(&t_r1)))
        .arg("--tpm")
        .arg(format!("l11={}", tcti(&t_l11)))
        .arg("--tpm")
        .arg(format!("l12={}", tcti(&t_l12)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("software root of trust"), "{text}");

    // l12's configuration changes after the authority signed its digest.
    let l12 = root.join("l12.toml");
    let mut cfg = std::fs::read_to_string(&l12).unwrap();
    cfg.push_str("clip_hi = 1000.0\n");
    std::fs::write(&l12, cfg).unwrap();

    let procs: Vec<(&str, Proc)> = ["g", "r1", "l11", "l12"]
        .into_iter()
        .map(|id| (id, spawn(&root.join(format!("{id}.toml")))))
        .collect();
    let base = |id: &str| procs.iter().find(|(n, _)| *n == id).unwrap().1.base.clone();
    for id in ["l11", "l12"] {
        let r = ureq::post(&format!("{}/v1/events", base(id)))
            .header("content-type", "application/json")
            .send(events(id))
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    until("r1 to decide on both children and g on r1", || {
        let r1 = get(&format!("{}/v1/cluster", base("r1")));
        let g = get(&format!("{}/v1/cluster", base("g")));
        r1["attestation"]["l11"]["state"] == "admitted"
            && r1["attestation"]["l12"]["state"] == "refused"
            && r1["children_last_epoch"]["l11"].is_u64()
            && g["attestation"]["r1"]["state"] == "admitted"
            && g["children_last_epoch"]["r1"].is_u64()
    });
    let r1 = get(&format!("{}/v1/cluster", base("r1")));
    assert_eq!(r1["require_attestation"], true);
    assert_eq!(
        r1["attestation"]["l11"]["root_of_trust"], "software (swtpm): not hardware-backed",
        "{r1}"
    );
    assert_eq!(r1["attester"], "software (swtpm): not hardware-backed");
    let reason = r1["attestation"]["l12"]["reason"].as_str().unwrap();
    assert!(reason.contains("config"), "{reason}");
    assert!(
        r1["children_last_epoch"].get("l12").is_none(),
        "the refused node's summaries are not merged: {r1}"
    );
    let l12 = get(&format!("{}/v1/cluster", base("l12")));
    assert!(
        l12["quotes_sent"].as_u64().unwrap() > 0,
        "l12 did answer: {l12}"
    );

    // The refusal is a leaf of r1's audit log, with an inclusion proof under its checkpoint.
    let idx = r1["attestation"]["l12"]["audit_index"].as_u64().unwrap();
    let proof = ureq::get(&format!("{}/v1/audit/inclusion?index={idx}", base("r1")))
        .call()
        .unwrap();
    assert_eq!(proof.status(), 200);
    drop(procs);
    let _ = std::fs::remove_dir_all(&root);
}
