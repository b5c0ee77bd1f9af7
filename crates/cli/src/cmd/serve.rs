//! `toolcap serve`: the persistent decision server (HTTP API, Claude Code HTTP hook, MCP over
//! streamable HTTP).
//!
//! Prints `listening on ADDR:PORT` on stdout once the port is bound (tests and scripts read
//! it), serves until SIGINT or SIGTERM, then drains the requests in flight and exits 0.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use toolcap_server::{AppState, Config, Server};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// TOML configuration file (`listen`, `data_dir`, `max_body_bytes`, `request_timeout_ms`,
    /// and an optional `[cluster]` section: see docs/cluster.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address and port to listen on, overriding the configuration [default: 127.0.0.1:7878].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// A policy file (TOML) applied as the project layer; may be given more than once.
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (mut config, cluster) = match &args.config {
        None => (Config::default(), None),
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => return super::usage_error(format_args!("{}: {e}", path.display())),
            };
            match toolcap_cluster::runtime::split_config(&text) {
                Ok(c) => c,
                Err(e) => return super::usage_error(format_args!("{}: {e}", path.display())),
            }
        }
    };
    let engine = match super::policy_engine(&args.policy, None) {
        Ok(engine) => std::sync::Arc::new(engine),
        Err(e) => return super::usage_error(format_args!("{e:#}")),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let Some(cluster) = cluster {
        // Cluster mode: the same routes plus `GET /v1/cluster`, and the protocol loop.
        runtime
            .block_on(toolcap_cluster::runtime::serve(
                &config,
                &cluster,
                engine,
                |addr| {
                    println!("listening on {addr}");
                    let _ = std::io::stdout().flush();
                },
                toolcap_server::shutdown_signal(),
            ))
            .map_err(|e| anyhow::anyhow!(e))?;
        eprintln!("toolcap serve: shut down");
        return Ok(ExitCode::SUCCESS);
    }
    runtime.block_on(async {
        let server = Server::bind(&config, AppState::with_engine(&config, engine)).await?;
        println!("listening on {}", server.local_addr());
        std::io::stdout()
            .flush()
            .context("cannot write to stdout")?;
        server.run(toolcap_server::shutdown_signal()).await?;
        eprintln!("toolcap serve: shut down");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
