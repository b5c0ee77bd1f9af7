//! `toolcap eval masquerade`: the Schonlau et al. masquerade benchmark ("SEA").
//!
//! `DIR` holds `User1` ... `UserN`, each 15,000 command names, one per line: 5,000 training
//! commands, then 100 test blocks of 100. Every selected user is run through
//! [`toolcap_behavior::sea::evaluate`] (population = the other selected users' training parts,
//! never their test blocks) and the calibrated block scores are written as CSV
//! `user,block,score` (higher is more anomalous). Labels, when given, are read only afterwards,
//! for the report: the ROC curve over one global threshold, its AUC and the hit rate at each
//! published false-alarm rate. Malformed input exits 2 with the file and line named.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use toolcap_behavior::sea::{self, BLOCKS, COMMANDS, PUBLISHED};
use toolcap_behavior::{Config, Event, Roc, RocPoint, Weights};

#[derive(Debug, Args)]
pub(crate) struct MasqueradeArgs {
    /// Directory holding `User1` ... `UserN` (Schonlau format: 15,000 command names each).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Label file: 100 rows (blocks) by one column per user (1 = masquerade), for the report only.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Users to evaluate, e.g. `1-25` or `1,3,5-7` (default: every `UserN` in DIR).
    #[arg(long, value_name = "LIST")]
    users: Option<String>,
    /// Where to write the CSV `user,block,score`.
    #[arg(long, value_name = "FILE")]
    scores_out: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// Draw the ROC curve with the published points as SVG (needs --labels).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Detectors to combine, comma-separated from bayes, markov, novelty, caps (ablation).
    #[arg(long, value_name = "LIST", hide = true)]
    detectors: Option<String>,
    /// Do not learn from test blocks judged clean (ablation).
    #[arg(long, hide = true)]
    no_update: bool,
}

/// A bad input, reported with exit code 2.
struct BadInput(String);

pub(crate) fn run(args: MasqueradeArgs) -> anyhow::Result<ExitCode> {
    match run_inner(&args) {
        Ok(code) => Ok(code),
        Err(Failure::Input(BadInput(msg))) => super::usage_error(msg),
        Err(Failure::Internal(err)) => Err(err),
    }
}

enum Failure {
    Input(BadInput),
    Internal(anyhow::Error),
}

impl From<BadInput> for Failure {
    fn from(b: BadInput) -> Failure {
        Failure::Input(b)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Internal(e)
    }
}

fn run_inner(args: &MasqueradeArgs) -> Result<ExitCode, Failure> {
    let mut cfg = Config::default();
    if let Some(list) = &args.detectors {
        cfg.weights = parse_detectors(list)?;
    }
    if args.no_update {
        cfg.learn_below = f32::NEG_INFINITY;
    }
    if args.plot.is_some() && args.labels.is_none() {
        return Err(BadInput("--plot needs --labels".into()).into());
    }
    let present = users_present(&args.data)?;
    let users = match &args.users {
        Some(list) => {
            let wanted = parse_user_list(list)?;
            if let Some(u) = wanted.iter().find(|u| !present.contains(u)) {
                return Err(BadInput(format!("{}: no file User{u}", args.data.display())).into());
            }
            wanted
        }
        None => present,
    };
    if users.len() < 2 {
        return Err(BadInput(format!(
            "{}: need at least two users (the others form the population)",
            args.data.display()
        ))
        .into());
    }
    let mut streams = Vec::with_capacity(users.len());
    for u in &users {
        streams.push(read_user(&args.data.join(format!("User{u}")))?);
    }
    let labels = match &args.labels {
        Some(path) => Some(read_labels(path, &users)?),
        None => None,
    };

    let started = Instant::now();
    let scores =
        sea::evaluate(&streams, &cfg).map_err(|e| anyhow::anyhow!("evaluation failed: {e}"))?;
    let elapsed = started.elapsed();

    let mut csv = String::from("user,block,score\n");
    for (u, row) in users.iter().zip(&scores) {
        for (b, s) in row.iter().enumerate() {
            let _ = writeln!(csv, "{u},{},{s:.6}", b + 1);
        }
    }
    std::fs::write(&args.scores_out, csv)
        .with_context(|| format!("cannot write {}", args.scores_out.display()))?;

    let Some(labels) = labels else {
        if args.json {
            let r = Report {
                users: users.clone(),
                blocks: users.len() * BLOCKS,
                seconds: elapsed.as_secs_f64(),
                roc: None,
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&r).map_err(anyhow::Error::from)?
            );
        } else {
            println!(
                "scored {} blocks of {} users in {:.2} s; wrote {}",
                users.len() * BLOCKS,
                users.len(),
                elapsed.as_secs_f64(),
                args.scores_out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    };

    let flat_scores: Vec<f64> = scores.iter().flatten().map(|s| f64::from(*s)).collect();
    let flat_labels: Vec<bool> = labels.iter().flatten().copied().collect();
    let roc = Roc::new(&flat_scores, &flat_labels)
        .map_err(|e| BadInput(format!("{}: {e}", path_of(args))))?;
    let (positives, negatives) = roc.counts();
    let at: Vec<AtPublished> = PUBLISHED
        .iter()
        .map(|p| {
            let pt = roc.at_false_alarm(p.false_alarm / 100.0);
            AtPublished {
                method: p.method,
                false_alarm_pct: p.false_alarm,
                published_hit_pct: p.hit,
                hit_pct: pt.hit * 100.0,
                actual_false_alarm_pct: pt.false_alarm * 100.0,
                threshold: pt.threshold,
                above: pt.hit * 100.0 > p.hit,
            }
        })
        .collect();
    let summary = RocSummary {
        auc: roc.auc(),
        positives,
        negatives,
        above_all_published: at.iter().all(|a| a.above),
        at_published: at,
        curve: summary_curve(roc.points()),
    };
    if let Some(plot) = &args.plot {
        std::fs::write(plot, svg(&roc, users.len()))
            .with_context(|| format!("cannot write {}", plot.display()))?;
    }
    if args.json {
        let r = Report {
            users: users.clone(),
            blocks: users.len() * BLOCKS,
            seconds: elapsed.as_secs_f64(),
            roc: Some(summary),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&r).map_err(anyhow::Error::from)?
        );
    } else {
        println!(
            "users {}; {} blocks ({positives} masquerade, {negatives} clean); scored in {:.2} s",
            users.len(),
            users.len() * BLOCKS,
            elapsed.as_secs_f64()
        );
        println!("AUC {:.4}", summary.auc);
        println!(
            "{:<56} {:>7} {:>9} {:>9}",
            "published method", "FA %", "pub hit %", "hit %"
        );
        for a in &summary.at_published {
            println!(
                "{:<56} {:>7.1} {:>9.1} {:>9.1} {}",
                a.method,
                a.false_alarm_pct,
                a.published_hit_pct,
                a.hit_pct,
                if a.above { "above" } else { "BELOW" }
            );
        }
        println!("ROC (false alarm %, hit %):");
        for p in &summary.curve {
            println!("  {:>6.2} {:>6.1}", p.false_alarm * 100.0, p.hit * 100.0);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn path_of(args: &MasqueradeArgs) -> String {
    args.labels
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[derive(Serialize)]
struct Report {
    users: Vec<u32>,
    blocks: usize,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    roc: Option<RocSummary>,
}

#[derive(Serialize)]
struct RocSummary {
    auc: f64,
    positives: usize,
    negatives: usize,
    above_all_published: bool,
    at_published: Vec<AtPublished>,
    curve: Vec<CurvePoint>,
}

#[derive(Serialize)]
struct AtPublished {
    method: &'static str,
    false_alarm_pct: f64,
    published_hit_pct: f64,
    hit_pct: f64,
    actual_false_alarm_pct: f64,
    threshold: f64,
    above: bool,
}

#[derive(Serialize)]
struct CurvePoint {
    false_alarm: f64,
    hit: f64,
    threshold: f64,
}

/// The curve at false-alarm rates 0, 0.5, 1, 1.5, ... 10, 15, 20, 30, 50, 100 %.
fn summary_curve(points: &[RocPoint]) -> Vec<CurvePoint> {
    let mut grid: Vec<f64> = (0..=20).map(|i| f64::from(i) * 0.005).collect();
    grid.extend([0.15, 0.2, 0.3, 0.5, 1.0]);
    grid.iter()
        .map(|fa| {
            let best = points
                .iter()
                .filter(|p| p.false_alarm <= fa + 1e-12)
                .fold(points[0], |b, p| if p.hit >= b.hit { *p } else { b });
            CurvePoint {
                false_alarm: *fa,
                hit: best.hit,
                threshold: best.threshold,
            }
        })
        .collect()
}

fn parse_detectors(list: &str) -> Result<Weights, BadInput> {
    let mut w = Weights {
        bayes: 0.0,
        markov: 0.0,
        novelty: 0.0,
        caps: 0.0,
    };
    for d in list.split(',').map(str::trim) {
        match d {
            "bayes" => w.bayes = 1.0,
            "markov" => w.markov = 1.0,
            "novelty" => w.novelty = 1.0,
            "caps" => w.caps = 1.0,
            other => return Err(BadInput(format!("--detectors: unknown detector {other:?}"))),
        }
    }
    Ok(w)
}

/// Parses `1-25` or `1,3,5-7` into sorted, distinct user numbers.
fn parse_user_list(list: &str) -> Result<Vec<u32>, BadInput> {
    let bad = |part: &str| {
        BadInput(format!(
            "--users: {part:?} is not a user number or range like 1-25"
        ))
    };
    let mut out = Vec::new();
    for part in list.split(',').map(str::trim) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (
                a.trim().parse::<u32>().map_err(|_| bad(part))?,
                b.trim().parse::<u32>().map_err(|_| bad(part))?,
            ),
            None => {
                let n = part.parse::<u32>().map_err(|_| bad(part))?;
                (n, n)
            }
        };
        if lo == 0 || hi < lo || hi - lo > 100_000 {
            return Err(bad(part));
        }
        out.extend(lo..=hi);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn users_present(dir: &Path) -> Result<Vec<u32>, BadInput> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| BadInput(format!("{}: cannot read directory: {e}", dir.display())))?;
    let mut users: Vec<u32> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("User"))
                .and_then(|n| n.parse::<u32>().ok())
        })
        .filter(|n| *n > 0)
        .collect();
    users.sort_unstable();
    if users.is_empty() {
        return Err(BadInput(format!(
            "{}: no files named User1 ... UserN",
            dir.display()
        )));
    }
    Ok(users)
}

fn read_user(path: &Path) -> Result<Vec<Event>, BadInput> {
    let bytes = std::fs::read(path)
        .map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        BadInput(format!("{} line {line}: not UTF-8", path.display()))
    })?;
    let mut events = Vec::with_capacity(COMMANDS);
    for (i, line) in text.lines().enumerate() {
        let name = line.trim();
        if name.is_empty() {
            return Err(BadInput(format!(
                "{} line {}: empty command name",
                path.display(),
                i + 1
            )));
        }
        if name.split_whitespace().nth(1).is_some() {
            return Err(BadInput(format!(
                "{} line {}: more than one command name",
                path.display(),
                i + 1
            )));
        }
        if events.len() == COMMANDS {
            return Err(BadInput(format!(
                "{} line {}: more than {COMMANDS} commands",
                path.display(),
                i + 1
            )));
        }
        events.push(Event::command(name));
    }
    if events.len() < COMMANDS {
        return Err(BadInput(format!(
            "{} line {}: file ends after {} commands, need {COMMANDS} (5,000 training + 100 blocks of 100)",
            path.display(),
            events.len() + 1,
            events.len()
        )));
    }
    Ok(events)
}

/// Reads the label matrix and returns, per selected user, the 100 block labels.
fn read_labels(path: &Path, users: &[u32]) -> Result<Vec<Vec<bool>>, BadInput> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))?;
    let mut rows: Vec<Vec<bool>> = Vec::with_capacity(BLOCKS);
    let mut width = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |msg: String| BadInput(format!("{} line {}: {msg}", path.display(), i + 1));
        let mut row = Vec::new();
        for (j, cell) in line.split_whitespace().enumerate() {
            row.push(match cell {
                "0" => false,
                "1" => true,
                other => return Err(at(format!("column {}: {other:?} is not 0 or 1", j + 1))),
            });
        }
        match width {
            None => width = Some(row.len()),
            Some(w) if w != row.len() => {
                return Err(at(format!("{} columns, earlier rows have {w}", row.len())));
            }
            Some(_) => {}
        }
        if rows.len() == BLOCKS {
            return Err(at(format!("more than {BLOCKS} rows (one per test block)")));
        }
        rows.push(row);
    }
    if rows.len() < BLOCKS {
        return Err(BadInput(format!(
            "{} line {}: {} rows, need {BLOCKS} (one per test block)",
            path.display(),
            rows.len() + 1,
            rows.len()
        )));
    }
    let width = width.unwrap_or(0);
    if let Some(u) = users.iter().find(|u| **u as usize > width) {
        return Err(BadInput(format!(
            "{}: {width} columns, no labels for user {u}",
            path.display()
        )));
    }
    Ok(users
        .iter()
        .map(|u| rows.iter().map(|r| r[*u as usize - 1]).collect())
        .collect())
}

/// The ROC curve as SVG, over false-alarm rates 0-20 % where every published point lies.
fn svg(roc: &Roc, users: usize) -> String {
    const W: f64 = 640.0;
    const H: f64 = 480.0;
    const L: f64 = 60.0;
    const R: f64 = 200.0;
    const T: f64 = 40.0;
    const B: f64 = 50.0;
    const XMAX: f64 = 0.20;
    let x = |fa: f64| L + (fa.min(XMAX) / XMAX) * (W - L - R);
    let y = |hit: f64| H - B - hit * (H - T - B);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="14">SEA masquerade ROC, users 1-{users} (AUC {:.3})</text>"#,
        L,
        roc.auc()
    );
    for i in 0..=4 {
        let fa = f64::from(i) * 0.05;
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#ddd"/><text x="{0:.1}" y="{3:.1}" text-anchor="middle">{4}%</text>"##,
            x(fa),
            y(0.0),
            y(1.0),
            y(0.0) + 18.0,
            i * 5
        );
    }
    for i in 0..=5 {
        let hit = f64::from(i) * 0.2;
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{2:.1}" y2="{1:.1}" stroke="#ddd"/><text x="{3:.1}" y="{4:.1}" text-anchor="end">{5}%</text>"##,
            x(0.0),
            y(hit),
            x(XMAX),
            x(0.0) - 6.0,
            y(hit) + 4.0,
            i * 20
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">false-alarm rate</text>"#,
        (x(0.0) + x(XMAX)) / 2.0,
        H - 10.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">hit rate</text>"#,
        (y(0.0) + y(1.0)) / 2.0,
        (y(0.0) + y(1.0)) / 2.0
    );
    let mut path = String::new();
    let mut prev: Option<RocPoint> = None;
    for p in roc.points() {
        if p.false_alarm > XMAX {
            // Step to the border along the last segment, then stop.
            if let Some(q) = prev {
                let _ = write!(path, " L{:.1},{:.1}", x(XMAX), y(q.hit));
            }
            break;
        }
        // A ROC curve with one global threshold is a staircase: hits rise, then false alarms.
        match prev {
            None => {
                let _ = write!(path, "M{:.1},{:.1}", x(p.false_alarm), y(p.hit));
            }
            Some(_) => {
                let _ = write!(path, " L{:.1},{:.1}", x(p.false_alarm), y(p.hit));
            }
        }
        prev = Some(*p);
    }
    let _ = writeln!(
        s,
        r##"<path d="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>"##
    );
    for (i, p) in PUBLISHED.iter().enumerate() {
        let (px, py) = (x(p.false_alarm / 100.0), y(p.hit / 100.0));
        let _ = writeln!(
            s,
            r##"<circle cx="{px:.1}" cy="{py:.1}" r="4" fill="#d0342c"/><text x="{:.1}" y="{:.1}" font-size="10">{}</text>"##,
            px + 6.0,
            py + 4.0,
            i + 1
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10">{}. {} ({:.1}% at {:.1}%)</text>"#,
            W - R + 8.0,
            T + 14.0 * i as f64 + 20.0,
            i + 1,
            short(p.method),
            p.hit,
            p.false_alarm
        );
    }
    let _ = writeln!(s, "</svg>");
    s
}

fn short(method: &str) -> String {
    method
        .split(" (")
        .next()
        .unwrap_or(method)
        .replace('&', "&amp;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_lists() {
        assert_eq!(parse_user_list("1-3").ok(), Some(vec![1, 2, 3]));
        assert_eq!(parse_user_list("1,3,5-7,3").ok(), Some(vec![1, 3, 5, 6, 7]));
        assert!(parse_user_list("0").is_err());
        assert!(parse_user_list("5-3").is_err());
        assert!(parse_user_list("a").is_err());
        assert!(parse_user_list("").is_err());
    }
}
