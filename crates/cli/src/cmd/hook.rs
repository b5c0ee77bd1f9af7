//! `toolcap hook`: answer agent hooks on standard input, and install the hook into Claude Code.
//!
//! Exit codes of `toolcap hook claude-code` and `toolcap hook copilot` follow the hosts'
//! contract, not the rest of the CLI: 0 with the decision on stdout (or nothing, when toolcap has
//! no opinion on the tool), 2 with a one-line reason on stderr when the input cannot be judged
//! (the host treats 2 as a block). A panic is caught and also gives 2: the hook fails closed.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use toolcap_hook::settings::{self, Change};
use toolcap_hook::{Error, MAX_INPUT_BYTES};
use toolcap_policy::Engine;

#[derive(Debug, Subcommand)]
pub(crate) enum HookCommand {
    /// Answer one Claude Code PreToolUse hook call (JSON on stdin, decision on stdout).
    ClaudeCode(RunArgs),
    /// Answer one GitHub Copilot preToolUse hook call (JSON on stdin, decision on stdout).
    Copilot(RunArgs),
    /// Add the toolcap hook to Claude Code's settings.json (idempotent; keeps a backup).
    Install(InstallArgs),
    /// Remove the toolcap hook from Claude Code's settings.json (keeps a backup).
    Uninstall(InstallArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A policy file (TOML) applied as the project layer; may be given more than once.
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// The host whose settings to change.
    #[arg(value_enum, default_value_t = Host::ClaudeCode)]
    host: Host,
    /// `project`: ./.claude/settings.json; `user`: ~/.claude/settings.json.
    #[arg(long, value_enum, default_value_t = Scope::Project)]
    scope: Scope,
    /// Policy files the installed hook applies (install only; stored by absolute path).
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Host {
    ClaudeCode,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scope {
    Project,
    User,
}

pub(crate) fn run(cmd: HookCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        HookCommand::ClaudeCode(args) => Ok(answer(&args, |e, b| {
            toolcap_hook::claude_code::respond(e, b).map(|o| o.map(|o| serde_json::to_string(&o)))
        })),
        HookCommand::Copilot(args) => Ok(answer(&args, |e, b| {
            toolcap_hook::copilot::respond(e, b).map(|o| o.map(|o| serde_json::to_string(&o)))
        })),
        HookCommand::Install(args) => install(&args),
        HookCommand::Uninstall(args) => uninstall(&args),
    }
}

type Answer = Result<Option<serde_json::Result<String>>, Error>;

/// Reads stdin, answers, prints. Every failure path ends in exit code 2 with one line on stderr.
fn answer(
    args: &RunArgs,
    respond: impl FnOnce(&Engine, &[u8]) -> Answer + std::panic::UnwindSafe,
) -> ExitCode {
    let block = |msg: &dyn std::fmt::Display| {
        eprintln!("toolcap: blocked: {msg}");
        ExitCode::from(2)
    };
    let mut input = Vec::new();
    // One byte over the limit is enough to know the input is too long.
    let limit = u64::try_from(MAX_INPUT_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    if let Err(e) = io::stdin().lock().take(limit).read_to_end(&mut input) {
        return block(&format_args!("cannot read the hook input: {e}"));
    }
    // The default panic message would go to stderr on its own line; keep the one-line contract.
    std::panic::set_hook(Box::new(|_| {}));
    // A policy that does not load blocks too: the user asked for rules that cannot be applied.
    // The project layer is the one of the agent's working directory, as the payload names it.
    let project = project_dir(&input);
    let engine = match super::policy_engine(&args.policy, project.as_deref()) {
        Ok(engine) => engine,
        Err(e) => return block(&format_args!("{e:#}")),
    };
    let outcome = std::panic::catch_unwind(move || respond(&engine, &input));
    match outcome {
        Err(_) => block(&"internal error while judging the call"),
        Ok(Err(e)) => block(&e),
        Ok(Ok(None)) => ExitCode::SUCCESS,
        Ok(Ok(Some(Err(e)))) => block(&format_args!("cannot encode the answer: {e}")),
        Ok(Ok(Some(Ok(json)))) => {
            let mut out = io::stdout().lock();
            match writeln!(out, "{json}").and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => block(&format_args!("cannot write the answer: {e}")),
            }
        }
    }
}

/// The `cwd` of a hook payload (both hosts name it so), when it is an absolute path. Read
/// leniently: a payload that does not parse is refused later by the adapter itself.
fn project_dir(input: &[u8]) -> Option<PathBuf> {
    #[derive(serde::Deserialize)]
    struct Cwd {
        cwd: Option<PathBuf>,
    }
    serde_json::from_slice::<Cwd>(input)
        .ok()
        .and_then(|c| c.cwd)
        .filter(|p| p.is_absolute())
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn settings_path(scope: Scope) -> anyhow::Result<PathBuf> {
    let dir = match scope {
        Scope::Project => std::env::current_dir().context("cannot read the working directory")?,
        Scope::User => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .context("HOME is not set")?,
    };
    Ok(dir.join(".claude").join("settings.json"))
}

/// The hook's command line: this binary by absolute path, so the host finds it without PATH,
/// and the policy files by absolute path, so the hook works from any directory.
fn hook_command(policies: &[PathBuf]) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot locate the toolcap binary")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let exe = exe
        .to_str()
        .context("the toolcap binary's path is not UTF-8")?;
    let mut command = format!("{} hook claude-code", shell_quote(exe));
    for p in policies {
        let abs = p
            .canonicalize()
            .with_context(|| format!("policy file {}", p.display()))?;
        super::policy_file(&abs, toolcap_policy::Layer::Project)?;
        let abs = abs
            .to_str()
            .context("the policy file's path is not UTF-8")?;
        command.push_str(" --policy ");
        command.push_str(&shell_quote(abs));
    }
    Ok(command)
}

/// The settings document, `{}` when the file does not exist or is empty.
fn read_settings(path: &Path) -> anyhow::Result<Option<serde_json::Value>> {
    match fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(Some(serde_json::json!({}))),
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON; left unchanged", path.display()))
            .map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes `doc` to `path` through a temporary file and a rename, after copying the previous
/// file (if any) to `settings.json.bak`.
fn write_settings(path: &Path, doc: &serde_json::Value, existed: bool) -> anyhow::Result<()> {
    let dir = path.parent().context("settings path has no directory")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if existed {
        let backup = path.with_extension("json.bak");
        fs::copy(path, &backup).with_context(|| {
            format!("cannot back up {} to {}", path.display(), backup.display())
        })?;
        println!("backup: {}", backup.display());
    }
    let mut text = serde_json::to_string_pretty(doc).context("cannot encode the settings")?;
    text.push('\n');
    let tmp = path.with_extension("json.toolcap-tmp");
    fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

fn install(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let Host::ClaudeCode = args.host;
    let path = settings_path(args.scope)?;
    let command = hook_command(&args.policy)?;
    let existing = read_settings(&path)?;
    let existed = existing.is_some();
    let mut doc = existing.unwrap_or_else(|| serde_json::json!({}));
    match settings::install(&mut doc, &command).with_context(|| path.display().to_string())? {
        Change::Unchanged => {
            println!("toolcap hook already installed in {}", path.display());
        }
        _ => {
            write_settings(&path, &doc, existed)?;
            println!(
                "installed the toolcap PreToolUse hook in {}\n  command: {command}\n\
                 Claude Code now asks toolcap before every tool call; \
                 `toolcap hook uninstall` removes it.",
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn uninstall(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let Host::ClaudeCode = args.host;
    let path = settings_path(args.scope)?;
    let Some(mut doc) = read_settings(&path)? else {
        println!("no {}: nothing to uninstall", path.display());
        return Ok(ExitCode::SUCCESS);
    };
    match settings::uninstall(&mut doc).with_context(|| path.display().to_string())? {
        Change::Removed(n) => {
            write_settings(&path, &doc, true)?;
            println!(
                "removed {n} toolcap hook entry(ies) from {}",
                path.display()
            );
        }
        _ => println!(
            "no toolcap hook in {}: nothing to uninstall",
            path.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}
