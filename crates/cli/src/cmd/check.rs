//! `toolcap check`: judge a command line (allow 0, ask 10, deny 20).
//!
//! Forms (a contract: outside checks call them exactly so):
//! - `toolcap check [--json] [--policy FILE] 'COMMAND LINE'`
//! - `toolcap check --stdin` (the command line may span lines)
//! - `toolcap check --batch FILE --json`: FILE is JSON Lines, each line a JSON string or an object
//!   with a `command` field; one JSON object per input line, in order; a malformed line yields
//!   `{"line": N, "error": "..."}` and the rest continue. Exit 0 when every line was read.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use toolcap_policy::{Decision, Engine, Verdict};

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Print the verdict as one JSON object (`decision`, `risk`, `capabilities`, `reason`,
    /// `alternative`, `commands`).
    #[arg(long)]
    json: bool,
    /// A policy file (TOML) applied as the project layer; may be given more than once (later
    /// files are more specific).
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
    /// Read the command line from standard input.
    #[arg(long, conflicts_with_all = ["batch", "command"])]
    stdin: bool,
    /// Judge every line of a JSON Lines file (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "command")]
    batch: Option<PathBuf>,
    /// The whole command line, as it would be passed to `bash -c`.
    #[arg(value_name = "COMMAND LINE")]
    command: Option<String>,
}

pub(crate) fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let engine = match super::policy_engine(&args.policy, None) {
        Ok(e) => e,
        Err(err) => {
            eprintln!("toolcap: error: {err:#}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(path) = &args.batch {
        return batch(&engine, path);
    }
    let verdict = if args.stdin {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        // One trailing newline is the end of the input, not part of the command line.
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        engine.check_bytes(&buf)
    } else {
        match &args.command {
            Some(c) => engine.check(c),
            None => {
                eprintln!("toolcap: error: give a command line, --stdin or --batch FILE");
                return Ok(ExitCode::from(2));
            }
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &verdict)?;
        writeln!(out)?;
    } else {
        human(&mut out, &verdict)?;
    }
    out.flush()?;
    Ok(ExitCode::from(match verdict.decision {
        Decision::Allow => 0,
        Decision::Ask => 10,
        Decision::Deny => 20,
    }))
}

fn batch(engine: &Engine, path: &PathBuf) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ))
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (i, line) in reader.split(b'\n').enumerate() {
        let n = i + 1;
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        match command_of(&line) {
            Ok(cmd) => serde_json::to_writer(&mut out, &engine.check(&cmd))?,
            Err(msg) => {
                serde_json::to_writer(&mut out, &serde_json::json!({ "line": n, "error": msg }))?
            }
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The command line of one JSON Lines record.
fn command_of(line: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(line).map_err(|_| "line is not valid utf-8".to_owned())?;
    let text = text.strip_suffix('\r').unwrap_or(text);
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(serde_json::Value::Object(o)) => match o.get("command") {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            _ => Err("object has no string field `command`".to_owned()),
        },
        Ok(_) => Err("expected a JSON string or an object with `command`".to_owned()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

fn human(out: &mut impl Write, v: &Verdict) -> std::io::Result<()> {
    writeln!(
        out,
        "{} ({}): {}",
        v.decision.name().to_uppercase(),
        v.risk.name(),
        v.reason
    )?;
    if let Some(alt) = &v.alternative {
        writeln!(out, "  safer: {alt}")?;
    }
    if !v.commands.is_empty() {
        writeln!(
            out,
            "  {:<6} {:<9} {:<40} rules / capabilities",
            "part", "decision", "command"
        )?;
        for (i, c) in v.commands.iter().enumerate() {
            let mut argv = c.argv.join(" ");
            if argv.chars().count() > 40 {
                argv = argv.chars().take(37).collect::<String>() + "...";
            }
            writeln!(
                out,
                "  {:<6} {:<9} {:<40} {} [{}]",
                i + 1,
                c.decision.name(),
                argv,
                c.rules.join(","),
                c.capabilities
            )?;
        }
    }
    Ok(())
}
