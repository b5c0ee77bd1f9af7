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
fn eleven_nodes_flag_the_byzantine_one_keep_the_baseline_and_survive_sigkill() {
    let Some(nats) = nats() else { return };
    let root = std::env::temp_dir().join(format!("toolcap-cli-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let keys = root.join("keys");
    let mut shape: Vec<(String, Level, Option<String>)> = vec![("g".into(), Level::Global, None)];
    for r in 1..=2 {
        shape.push((format!("r{r}"), Level::Regional, Some("g".into())));
        for l in 1..=4 {
            shape.push((format!("l{r}{l}"), Level::Local, Some(format!("r{r}"))));
        }
    }
    let borrowed: Vec<(&str, Level, Option<&str>)> = shape
        .iter()
        .map(|(id, l, p)| (id.as_str(), *l, p.as_deref()))
        .collect();
    toolcap_cluster::setup::init(&keys, "it", &borrowed).unwrap();

    let config = |id: &str| -> PathBuf {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("node.toml");
        let shift = if id == "l13" {
            "byzantine_shift = 4.0\n"
        } else {
            ""
        };
        let k = keys.display();
        std::fs::write(
            &path,
            format!(
                "listen = \"127.0.0.1:0\"\ndata_dir = {data:?}\n[cluster]\nnats_url = {url:?}\n\
                 node = {id:?}\nmembership = \"{k}/membership.bin\"\nauthority_key = \"{k}/authority.pub\"\n\
                 identity_key = \"{k}/{id}.identity.key\"\nlink_key = \"{k}/{id}.link.key\"\n\
                 epoch_ms = 300\n{shift}",
                data = dir.join("data").display().to_string(),
                url = nats.url,
            ),
        )
        .unwrap();
        path
    };
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
    until("a global baseline from both regions", || {
        let g = get(&format!("{}/v1/cluster", base(&procs, "g")));
        g["baseline"].is_array() && g["children_last_epoch"].as_object().unwrap().len() == 2
    });
    let g = get(&format!("{}/v1/cluster", base(&procs, "g")));
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

    // SIGKILL a local node after its events were acknowledged, and a regional node mid-run.
    let before = get(&format!("{}/v1/cluster", base(&procs, "g")))["children_last_epoch"]["r2"]
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
    let g = get(&format!("{}/v1/cluster", base(&procs, "g")));
    assert_eq!(g["refused"], 0, "{g}");
    drop(procs);
    let _ = std::fs::remove_dir_all(&root);
}
