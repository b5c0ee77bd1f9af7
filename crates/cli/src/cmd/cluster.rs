//! `toolcap cluster`: setting up a cluster of nodes.
//!
//! `toolcap cluster init` generates every node's keys, the authority-signed membership list and
//! one configuration file per node (`toolcap serve --config DIR/<id>.toml` runs that node), for
//! a topology of one global node, `--regionals` regional nodes and `--locals` local nodes under
//! each. With `--tpm ID=TCTI` it reads that node's TPM attestation key and pins it in the
//! membership, with the digests of the node binary and of the node's configuration file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use toolcap_cluster::Level;
use toolcap_cluster::setup::{ClusterPlan, NodeSpec, init_cluster};

#[derive(Debug, Subcommand)]
pub(crate) enum ClusterCommand {
    /// Generate keys, the signed membership list and per-node configuration files.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Directory to write into (created). Hand each node only its own key files; keep
    /// `authority.key` offline.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The cluster's name ([A-Za-z0-9_-]{1,64}); it names the broker stream and subjects.
    #[arg(long, value_name = "NAME", default_value = "toolcap")]
    name: String,
    /// Number of regional nodes under the global node `g` (named r1, r2, ...).
    #[arg(long, value_name = "N", default_value_t = 2)]
    regionals: u16,
    /// Number of local nodes under each regional node (l11, l12, ... under r1; with more than
    /// nine regional or local nodes the names take a dash: l1-10).
    #[arg(long, value_name = "M", default_value_t = 4)]
    locals: u16,
    /// The NATS JetStream broker every node connects to.
    #[arg(long, value_name = "URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// Epoch length in milliseconds (100 to 3600000).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    epoch_ms: u64,
    /// First listen port: node k (in the order g, r1, its locals, r2, ...) listens on
    /// 127.0.0.1:PORT+k. Without it every node listens on 127.0.0.1:0 (a free port, printed at
    /// start).
    #[arg(long, value_name = "PORT")]
    listen_base: Option<u16>,
    /// A node's TPM, as `ID=TCTI` (for swtpm: `l11=swtpm:host=127.0.0.1,port=2321`); may be
    /// given more than once. The TPM must be running: its attestation key is read and pinned.
    #[arg(long, value_name = "ID=TCTI")]
    tpm: Vec<String>,
    /// Aggregators admit a child only after its TPM quote verifies (every regional and local
    /// node then needs --tpm).
    #[arg(long)]
    require_attestation: bool,
    /// The node binary whose digest attested nodes must quote [default: this executable].
    #[arg(long, value_name = "FILE")]
    binary: Option<PathBuf>,
}

pub(crate) fn run(cmd: ClusterCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ClusterCommand::Init(args) => init(args),
    }
}

fn node_name(r: u16, l: u16, wide: bool) -> String {
    if wide {
        format!("l{r}-{l}")
    } else {
        format!("l{r}{l}")
    }
}

#[cfg(feature = "tpm")]
fn attestation_key(tcti: &str) -> Result<Vec<u8>, toolcap_cluster::ClusterError> {
    toolcap_cluster::attestation::swtpm_attestation_key(tcti)
}

#[cfg(not(feature = "tpm"))]
fn attestation_key(_tcti: &str) -> Result<Vec<u8>, toolcap_cluster::ClusterError> {
    Err(toolcap_cluster::ClusterError::Membership(
        "--tpm: this build has no TPM support (build with the `tpm` feature)".into(),
    ))
}

fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    if args.regionals == 0 || args.locals == 0 {
        return super::usage_error("--regionals and --locals must be at least 1");
    }
    if !(100..=3_600_000).contains(&args.epoch_ms) {
        return super::usage_error("--epoch-ms must be in 100..=3600000");
    }
    let wide = args.regionals > 9 || args.locals > 9;
    let mut shape: Vec<(String, Level, Option<String>)> = vec![("g".into(), Level::Global, None)];
    for r in 1..=args.regionals {
        shape.push((format!("r{r}"), Level::Regional, Some("g".into())));
        for l in 1..=args.locals {
            shape.push((node_name(r, l, wide), Level::Local, Some(format!("r{r}"))));
        }
    }
    let mut tpms: Vec<(String, String)> = Vec::new();
    for t in &args.tpm {
        let Some((id, tcti)) = t.split_once('=') else {
            return super::usage_error(format_args!("--tpm {t:?}: expected ID=TCTI"));
        };
        if !shape.iter().any(|(n, _, _)| n == id) {
            return super::usage_error(format_args!("--tpm {t:?}: no node {id:?} in the topology"));
        }
        if tpms.iter().any(|(n, _)| n == id) {
            return super::usage_error(format_args!("--tpm: node {id:?} given twice"));
        }
        tpms.push((id.to_owned(), tcti.to_owned()));
    }
    let mut nodes = Vec::new();
    for (k, (id, level, parent)) in shape.into_iter().enumerate() {
        let port = match args.listen_base {
            None => 0,
            Some(base) => match u16::try_from(k).ok().and_then(|k| base.checked_add(k)) {
                Some(p) => p,
                None => return super::usage_error("--listen-base: ports run past 65535"),
            },
        };
        let tpm = tpms.iter().find(|(n, _)| *n == id).map(|(_, t)| t.clone());
        nodes.push(NodeSpec {
            id,
            level,
            parent,
            tpm,
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
        });
    }
    let binary_digest = if tpms.is_empty() {
        None
    } else {
        let path = match &args.binary {
            Some(p) => p.clone(),
            None => std::env::current_exe().context("locating this executable")?,
        };
        Some(
            toolcap_cluster::attestation::sha256_file(&path)
                .with_context(|| format!("hashing {}", path.display()))?,
        )
    };
    let plan = ClusterPlan {
        cluster: args.name.clone(),
        nodes,
        nats_url: args.nats_url,
        epoch_ms: args.epoch_ms,
        require_attestation: args.require_attestation,
        binary_digest,
        attestation_key,
    };
    let membership = match init_cluster(&args.dir, &plan) {
        Ok(m) => m,
        Err(e @ toolcap_cluster::ClusterError::Membership(_)) => {
            return super::usage_error(format_args!("{e}"));
        }
        Err(e) => return Err(e).context("cluster init"),
    };
    let dir = args.dir.display();
    println!(
        "cluster {:?}: {} nodes, membership version {} signed into {dir}/membership.bin",
        membership.cluster,
        membership.members.len(),
        membership.version
    );
    for m in &membership.members {
        let attested = if m.attestation.is_some() {
            " (TPM attestation key pinned)"
        } else {
            ""
        };
        println!(
            "  {:<8} {:<8} toolcap serve --config {dir}/{}.toml{attested}",
            m.id,
            m.level.name(),
            m.id
        );
    }
    if !tpms.is_empty() {
        println!(
            "attestation: quotes from swtpm have a software root of trust (not hardware-backed)"
        );
    }
    println!("keep {dir}/authority.key offline; nodes need only authority.pub");
    Ok(ExitCode::SUCCESS)
}
