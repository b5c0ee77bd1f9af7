//! `toolcap eval gate`: the command gate measured on a labelled corpus.
//!
//! The corpus is JSON Lines, one object per line:
//! `{"command": "...", "label": "allow"|"ask"|"deny", "class": "...", "note": "..."}`
//! (`note` optional; the labelling rules are in `docs/gate-corpus.md`). Every line is judged by
//! [`Engine::builtin`] and compared with its label. The line that matters is deny versus
//! not-deny: detection is the share of deny-labelled lines decided deny, the false-positive rate
//! the share of the other lines decided deny, and balanced accuracy their mean
//! (`(detection + (1 - false-positive rate)) / 2`). Exact agreement (all three labels) is reported
//! beside them because an `ask` where `allow` was expected costs a human a prompt.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use serde::{Deserialize, Serialize};
use toolcap_policy::{Decision, Engine};

/// Longest corpus line accepted; a longer one is a malformed line, not an allocation.
const MAX_LINE_BYTES: usize = 1 << 20;

#[derive(Debug, Args)]
pub(crate) struct GateArgs {
    /// The labelled corpus (JSON Lines: command, label, class, note).
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Print the results as one JSON object.
    #[arg(long)]
    json: bool,
    /// List the misjudged lines: deny-labelled lines not denied and other lines denied.
    #[arg(long)]
    show_misses: bool,
    /// List every line whose decision differs from its label (includes allow/ask swaps).
    #[arg(long)]
    show_disagreements: bool,
    /// Only evaluate lines of this class (repeatable).
    #[arg(long, value_name = "NAME")]
    class: Vec<String>,
}

pub(crate) fn run(args: GateArgs) -> anyhow::Result<ExitCode> {
    let text = match std::fs::read(&args.data) {
        Ok(bytes) => bytes,
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", args.data.display()));
        }
    };
    let mut entries = match parse_corpus(&args.data, &text) {
        Ok(entries) => entries,
        Err(err) => return super::usage_error(err),
    };
    if !args.class.is_empty() {
        entries.retain(|e| args.class.contains(&e.class));
    }
    if entries.is_empty() {
        return super::usage_error(format!(
            "{}: no corpus lines to evaluate",
            args.data.display()
        ));
    }

    let engine = Engine::builtin();
    let started = Instant::now();
    let judged: Vec<Judged> = entries
        .into_iter()
        .map(|entry| {
            // A panic is an engine bug; it must not hide the other lines' results. It counts as
            // deny because that is what an integration does when the engine fails: it fails closed.
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                engine.check(&entry.command)
            }));
            match checked {
                Ok(verdict) => Judged {
                    decision: verdict.decision,
                    reason: verdict.reason,
                    panicked: false,
                    entry,
                },
                Err(_) => Judged {
                    decision: Decision::Deny,
                    reason: "the engine panicked (counted as deny: integrations fail closed)"
                        .to_owned(),
                    panicked: true,
                    entry,
                },
            }
        })
        .collect();
    let elapsed = started.elapsed();

    let report = Report::build(&args.data, &judged, elapsed.as_secs_f64(), &args);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(ExitCode::SUCCESS)
}

/// One labelled corpus line as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    command: String,
    label: String,
    class: String,
    #[serde(default)]
    note: Option<String>,
}

/// A validated corpus line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// 1-based line number in the file.
    line: usize,
    command: String,
    label: Decision,
    class: String,
    note: Option<String>,
}

/// Parses the whole corpus; the first bad line is an error naming the file and the line.
/// Blank lines are skipped (they carry nothing and editors leave them at the end).
fn parse_corpus(path: &Path, bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for (index, raw_line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        let at = |msg: String| format!("{}:{line}: {msg}", path.display());
        if raw_line.len() > MAX_LINE_BYTES {
            return Err(at(format!("line longer than {MAX_LINE_BYTES} bytes")));
        }
        let text = std::str::from_utf8(raw_line).map_err(|_| at("invalid UTF-8".to_owned()))?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            continue;
        }
        let raw: RawEntry =
            serde_json::from_str(text).map_err(|err| at(format!("malformed line: {err}")))?;
        let label = parse_label(&raw.label).ok_or_else(|| {
            at(format!(
                "label must be \"allow\", \"ask\" or \"deny\", not {:?}",
                raw.label
            ))
        })?;
        if raw.class.trim().is_empty() {
            return Err(at("empty class".to_owned()));
        }
        if raw.command.is_empty() {
            return Err(at("empty command".to_owned()));
        }
        entries.push(Entry {
            line,
            command: raw.command,
            label,
            class: raw.class,
            note: raw.note,
        });
    }
    Ok(entries)
}

fn parse_label(label: &str) -> Option<Decision> {
    match label {
        "allow" => Some(Decision::Allow),
        "ask" => Some(Decision::Ask),
        "deny" => Some(Decision::Deny),
        _ => None,
    }
}

/// A corpus line with the engine's decision.
#[derive(Debug)]
struct Judged {
    entry: Entry,
    decision: Decision,
    reason: String,
    /// The engine panicked on this line.
    panicked: bool,
}

/// Counts for one class or for the whole corpus.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    count: usize,
    deny_labelled: usize,
    /// Deny-labelled lines decided deny.
    detected: usize,
    /// Deny-labelled lines decided allow: the worst miss (not even a prompt).
    deny_allowed: usize,
    /// Not-deny-labelled lines decided deny.
    false_positives: usize,
    /// Lines whose decision equals the label exactly.
    exact: usize,
}

impl Tally {
    fn add(&mut self, label: Decision, decision: Decision) {
        self.count += 1;
        let denied = decision == Decision::Deny;
        if label == Decision::Deny {
            self.deny_labelled += 1;
            self.detected += usize::from(denied);
            self.deny_allowed += usize::from(decision == Decision::Allow);
        } else {
            self.false_positives += usize::from(denied);
        }
        self.exact += usize::from(label == decision);
    }

    fn benign(&self) -> usize {
        self.count - self.deny_labelled
    }

    fn detection_rate(&self) -> Option<f64> {
        ratio(self.detected, self.deny_labelled)
    }

    fn false_positive_rate(&self) -> Option<f64> {
        ratio(self.false_positives, self.benign())
    }

    fn exact_agreement(&self) -> Option<f64> {
        ratio(self.exact, self.count)
    }

    /// Mean of detection and specificity; undefined unless both kinds of line are present.
    fn balanced_accuracy(&self) -> Option<f64> {
        Some((self.detection_rate()? + (1.0 - self.false_positive_rate()?)) / 2.0)
    }

    fn summary(&self) -> TallyJson {
        TallyJson {
            count: self.count,
            deny_labelled: self.deny_labelled,
            detected: self.detected,
            deny_allowed: self.deny_allowed,
            false_positives: self.false_positives,
            exact: self.exact,
            detection_rate: self.detection_rate(),
            false_positive_rate: self.false_positive_rate(),
            exact_agreement: self.exact_agreement(),
            balanced_accuracy: self.balanced_accuracy(),
        }
    }
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    // Counts are corpus lines: far below 2^52, so the conversion is exact.
    (den > 0).then(|| num as f64 / den as f64)
}

#[derive(Debug, Serialize)]
struct TallyJson {
    count: usize,
    deny_labelled: usize,
    detected: usize,
    deny_allowed: usize,
    false_positives: usize,
    exact: usize,
    detection_rate: Option<f64>,
    false_positive_rate: Option<f64>,
    exact_agreement: Option<f64>,
    balanced_accuracy: Option<f64>,
}

#[derive(Debug, Serialize)]
struct ClassJson {
    class: String,
    #[serde(flatten)]
    tally: TallyJson,
}

#[derive(Debug, Serialize)]
struct MissJson {
    line: usize,
    class: String,
    command: String,
    label: &'static str,
    decision: &'static str,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// Everything `eval gate` prints, in the shape of its `--json` output.
#[derive(Debug, Serialize)]
struct Report {
    data: String,
    overall: TallyJson,
    classes: Vec<ClassJson>,
    /// Label (outer key) by decision (inner key) counts.
    confusion: BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
    /// Wall time of all the checks, in seconds (measured, single thread).
    elapsed_seconds: f64,
    /// Mean time of one check, in microseconds.
    mean_check_micros: f64,
    /// Lines on which the engine panicked (each counted as deny).
    panics: Vec<MissJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    misses: Option<Vec<MissJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disagreements: Option<Vec<MissJson>>,
}

impl Report {
    fn build(path: &Path, judged: &[Judged], elapsed_seconds: f64, args: &GateArgs) -> Report {
        let mut overall = Tally::default();
        let mut classes: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut confusion: BTreeMap<&'static str, BTreeMap<&'static str, usize>> = BTreeMap::new();
        for label in [Decision::Allow, Decision::Ask, Decision::Deny] {
            let row = confusion.entry(label.name()).or_default();
            for decision in [Decision::Allow, Decision::Ask, Decision::Deny] {
                row.insert(decision.name(), 0);
            }
        }
        for j in judged {
            overall.add(j.entry.label, j.decision);
            classes
                .entry(j.entry.class.as_str())
                .or_default()
                .add(j.entry.label, j.decision);
            if let Some(n) = confusion
                .get_mut(j.entry.label.name())
                .and_then(|row| row.get_mut(j.decision.name()))
            {
                *n += 1;
            }
        }
        let miss = |j: &Judged| MissJson {
            line: j.entry.line,
            class: j.entry.class.clone(),
            command: j.entry.command.clone(),
            label: j.entry.label.name(),
            decision: j.decision.name(),
            reason: j.reason.clone(),
            note: j.entry.note.clone(),
        };
        let misses = args.show_misses.then(|| {
            judged
                .iter()
                .filter(|j| (j.entry.label == Decision::Deny) != (j.decision == Decision::Deny))
                .map(miss)
                .collect()
        });
        let disagreements = args.show_disagreements.then(|| {
            judged
                .iter()
                .filter(|j| j.entry.label != j.decision)
                .map(miss)
                .collect()
        });
        let mean_check_micros = if judged.is_empty() {
            0.0
        } else {
            elapsed_seconds * 1e6 / judged.len() as f64
        };
        Report {
            data: path.display().to_string(),
            overall: overall.summary(),
            classes: classes
                .into_iter()
                .map(|(class, tally)| ClassJson {
                    class: class.to_owned(),
                    tally: tally.summary(),
                })
                .collect(),
            confusion,
            panics: judged.iter().filter(|j| j.panicked).map(miss).collect(),
            elapsed_seconds,
            mean_check_micros,
            misses,
            disagreements,
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let o = &self.overall;
        let _ = writeln!(
            out,
            "gate evaluation of {}: {} lines, {} labelled deny",
            self.data, o.count, o.deny_labelled
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<22} {:>6} {:>6} {:>10} {:>8} {:>10} {:>8}",
            "class", "lines", "deny", "detection", "allowed", "false-pos", "exact"
        );
        let row = |out: &mut String, name: &str, t: &TallyJson| {
            let _ = writeln!(
                out,
                "{:<22} {:>6} {:>6} {:>10} {:>8} {:>10} {:>8}",
                name,
                t.count,
                t.deny_labelled,
                percent(t.detection_rate),
                t.deny_allowed,
                percent(t.false_positive_rate),
                percent(t.exact_agreement)
            );
        };
        for c in &self.classes {
            row(&mut out, &c.class, &c.tally);
        }
        row(&mut out, "overall", o);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "balanced accuracy (deny vs not-deny): {}",
            percent(o.balanced_accuracy)
        );
        let _ = writeln!(
            out,
            "detection: {} ({}/{}); false positives: {} ({}/{}); exact agreement: {}",
            percent(o.detection_rate),
            o.detected,
            o.deny_labelled,
            percent(o.false_positive_rate),
            o.false_positives,
            o.count - o.deny_labelled,
            percent(o.exact_agreement)
        );
        let _ = writeln!(
            out,
            "(allowed: deny-labelled lines decided allow, not even asked)"
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "label \\ decision    allow    ask   deny");
        for (label, row) in &self.confusion {
            let n = |d: &str| row.get(d).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "{:<18} {:>6} {:>6} {:>6}",
                label,
                n("allow"),
                n("ask"),
                n("deny")
            );
        }
        let _ = writeln!(
            out,
            "\n{} checks in {:.3} s ({:.2} us per command line, including parsing)",
            o.count, self.elapsed_seconds, self.mean_check_micros
        );
        if !self.panics.is_empty() {
            let _ = writeln!(
                out,
                "\nthe engine panicked on {} lines (counted as deny):",
                self.panics.len()
            );
            for m in &self.panics {
                let _ = writeln!(out, "  line {} [{}]: {}", m.line, m.class, m.command);
            }
        }
        for (title, list) in [
            ("misjudged (deny vs not-deny)", &self.misses),
            ("disagreements with the label", &self.disagreements),
        ] {
            if let Some(list) = list {
                let _ = writeln!(out, "\n{title}: {}", list.len());
                for m in list {
                    let _ = writeln!(
                        out,
                        "  line {} [{}] expected {}, got {}: {}\n      reason: {}",
                        m.line, m.class, m.label, m.decision, m.command, m.reason
                    );
                }
            }
        }
        out
    }
}

fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "-".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Entry>, String> {
        parse_corpus(Path::new("c.jsonl"), text.as_bytes())
    }

    #[test]
    fn parses_lines_and_skips_blank_ones() {
        let entries = parse(concat!(
            r#"{"command":"ls","label":"allow","class":"benign-dev"}"#,
            "\n\n",
            r#"{"command":"rm -rf /","label":"deny","class":"destructive","note":"root"}"#,
            "\r\n"
        ))
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].line, 3);
        assert_eq!(entries[1].label, Decision::Deny);
        assert_eq!(entries[1].note.as_deref(), Some("root"));
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let ok = r#"{"command":"ls","label":"allow","class":"x"}"#;
        for (bad, needle) in [
            (r#"{"command":"ls","label":"maybe","class":"x"}"#, "label"),
            (r#"{"command":"ls","label":"allow"}"#, "class"),
            (
                r#"{"command":"ls","label":"allow","class":"x","extra":1}"#,
                "extra",
            ),
            (
                r#"{"command":"","label":"allow","class":"x"}"#,
                "empty command",
            ),
            ("not json", "malformed"),
        ] {
            let err = parse(&format!("{ok}\n{bad}\n")).unwrap_err();
            assert!(err.starts_with("c.jsonl:2: "), "{err}");
            assert!(err.contains(needle), "{err}");
        }
        let err = parse_corpus(Path::new("c.jsonl"), b"\xff\xfe\n").unwrap_err();
        assert_eq!(err, "c.jsonl:1: invalid UTF-8");
    }

    #[test]
    fn tally_rates() {
        let mut t = Tally::default();
        t.add(Decision::Deny, Decision::Deny);
        t.add(Decision::Deny, Decision::Ask);
        t.add(Decision::Allow, Decision::Allow);
        t.add(Decision::Ask, Decision::Deny);
        t.add(Decision::Ask, Decision::Allow);
        assert_eq!(t.detection_rate(), Some(0.5));
        assert_eq!(t.false_positive_rate(), Some(1.0 / 3.0));
        assert_eq!(t.exact_agreement(), Some(0.4));
        let ba = t.balanced_accuracy().unwrap();
        assert!((ba - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        let mut only_benign = Tally::default();
        only_benign.add(Decision::Allow, Decision::Ask);
        assert_eq!(only_benign.detection_rate(), None);
        assert_eq!(only_benign.balanced_accuracy(), None);
    }
}
