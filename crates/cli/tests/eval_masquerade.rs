//! `toolcap eval masquerade` end to end: the contract's flags and outputs, label independence of
//! the scores, and clear errors (exit 2, file and line named) on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test helpers unwrap known-good results

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sea");

fn data() -> Option<&'static Path> {
    let dir = Path::new(SEA);
    if dir.join("User1").exists() && dir.join("label.txt").exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "SEA data missing at {SEA}"
    );
    eprintln!("SKIPPED: SEA data missing at {SEA}");
    None
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "toolcap-eval-masquerade-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn toolcap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolcap"))
        .args(["eval", "masquerade"])
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The full run on users 1-25: CSV, report, plot.
mod contract {
    use super::*;

    #[test]
    fn report_csv_and_plot_on_users_1_to_25() {
        let Some(dir) = data() else { return };
        let out = scratch("full");
        let (csv, svg) = (out.join("scores.csv"), out.join("roc.svg"));
        let labels = dir.join("label.txt");
        let o = toolcap(&[
            "--data",
            s(dir),
            "--labels",
            s(&labels),
            "--users",
            "1-25",
            "--scores-out",
            s(&csv),
            "--json",
            "--plot",
            s(&svg),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let roc = &report["roc"];
        assert_eq!(roc["positives"], 125);
        assert_eq!(roc["negatives"], 2375);
        assert_eq!(roc["at_published"].as_array().unwrap().len(), 11);
        assert_eq!(roc["above_all_published"], true, "{roc}");
        assert!(roc["auc"].as_f64().unwrap() > 0.95);
        let text = std::fs::read_to_string(&csv).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("user,block,score"));
        let rows: Vec<(u32, u32, f64)> = lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(rows.len(), 2500);
        assert!(
            rows.iter()
                .enumerate()
                .all(|(i, r)| r.0 == i as u32 / 100 + 1
                    && r.1 == i as u32 % 100 + 1
                    && r.2.is_finite())
        );
        let plot = std::fs::read_to_string(&svg).unwrap();
        assert!(plot.starts_with("<svg") && plot.trim_end().ends_with("</svg>"));
        assert_eq!(plot.matches("<circle").count(), 11);
    }

    #[test]
    fn user_list_selects_users() {
        let Some(dir) = data() else { return };
        let out = scratch("subset");
        let csv = out.join("scores.csv");
        let o = toolcap(&[
            "--data",
            s(dir),
            "--users",
            "1,3,5-7",
            "--scores-out",
            s(&csv),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(&csv).unwrap();
        let mut users: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        users.dedup();
        assert_eq!(users, ["1", "3", "5", "6", "7"]);
    }
}

/// The scores never depend on the labels: identical without labels, with them, and with permuted ones.
mod label_independence {
    use super::*;

    #[test]
    fn scores_are_identical_with_without_and_with_permuted_labels() {
        let Some(dir) = data() else { return };
        let out = scratch("labels");
        let truth = std::fs::read_to_string(dir.join("label.txt")).unwrap();
        // Permute: rows rotated by 37, columns reversed.
        let rows: Vec<Vec<&str>> = truth
            .lines()
            .map(|l| l.split_whitespace().rev().collect())
            .collect();
        let permuted: String = (0..rows.len())
            .map(|i| rows[(i + 37) % rows.len()].join(" ") + "\n")
            .collect();
        assert_ne!(permuted, truth);
        let fake = out.join("permuted.txt");
        std::fs::write(&fake, permuted).unwrap();
        let runs: Vec<String> = [None, Some(dir.join("label.txt")), Some(fake)]
            .iter()
            .enumerate()
            .map(|(i, labels)| {
                let csv = out.join(format!("scores{i}.csv"));
                let mut args = vec![
                    "--data".to_string(),
                    s(dir).into(),
                    "--users".into(),
                    "1-10".into(),
                    "--scores-out".into(),
                    s(&csv).into(),
                ];
                if let Some(l) = labels {
                    args.extend(["--labels".into(), s(l).into()]);
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let o = toolcap(&args);
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                std::fs::read_to_string(&csv).unwrap()
            })
            .collect();
        assert_eq!(runs[0], runs[1]);
        assert_eq!(runs[0], runs[2]);
    }
}

/// Bad input exits 2 and names the file and line.
mod bad_input {
    use super::*;

    fn fails_with(args: &[&str], needle: &str) {
        let o = toolcap(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "stderr: {err}");
        assert!(err.contains(needle), "expected {needle:?} in: {err}");
    }

    /// A data directory with two valid users (copied), for editing.
    fn two_users(name: &str) -> Option<PathBuf> {
        let dir = data()?;
        let d = scratch(name);
        for u in [1, 2] {
            std::fs::copy(dir.join(format!("User{u}")), d.join(format!("User{u}"))).unwrap();
        }
        Some(d)
    }

    #[test]
    fn missing_directory_and_missing_user() {
        let out = scratch("missing");
        let csv = out.join("s.csv");
        fails_with(
            &["--data", s(&out.join("nope")), "--scores-out", s(&csv)],
            "nope",
        );
        let Some(d) = two_users("missing-user") else {
            return;
        };
        fails_with(
            &["--data", s(&d), "--users", "1-3", "--scores-out", s(&csv)],
            "User3",
        );
        fails_with(
            &["--data", s(&d), "--users", "x", "--scores-out", s(&csv)],
            "--users",
        );
    }

    #[test]
    fn short_and_malformed_user_files() {
        let Some(d) = two_users("short") else { return };
        let csv = d.join("s.csv");
        let text = std::fs::read_to_string(d.join("User2")).unwrap();
        let short: String = text
            .lines()
            .take(14_000)
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(d.join("User2"), short).unwrap();
        fails_with(
            &["--data", s(&d), "--scores-out", s(&csv)],
            "User2 line 14001",
        );
        let mut bad: Vec<&str> = text.lines().collect();
        bad[41] = "";
        std::fs::write(d.join("User2"), bad.join("\n")).unwrap();
        fails_with(
            &["--data", s(&d), "--scores-out", s(&csv)],
            "User2 line 42: empty",
        );
    }

    #[test]
    fn malformed_labels() {
        let Some(d) = two_users("labels-bad") else {
            return;
        };
        let csv = d.join("s.csv");
        let labels = d.join("label.txt");
        let mut rows = vec!["0 0"; 100];
        rows[2] = "0 x";
        std::fs::write(&labels, rows.join("\n")).unwrap();
        fails_with(
            &[
                "--data",
                s(&d),
                "--labels",
                s(&labels),
                "--scores-out",
                s(&csv),
            ],
            "label.txt line 3: column 2",
        );
        std::fs::write(&labels, vec!["0 0"; 99].join("\n")).unwrap();
        fails_with(
            &[
                "--data",
                s(&d),
                "--labels",
                s(&labels),
                "--scores-out",
                s(&csv),
            ],
            "99 rows",
        );
        let mut rows = vec!["0 0"; 100];
        rows[9] = "0";
        std::fs::write(&labels, rows.join("\n")).unwrap();
        fails_with(
            &[
                "--data",
                s(&d),
                "--labels",
                s(&labels),
                "--scores-out",
                s(&csv),
            ],
            "label.txt line 10",
        );
        // One column cannot label two users.
        std::fs::write(&labels, vec!["0"; 100].join("\n")).unwrap();
        fails_with(
            &[
                "--data",
                s(&d),
                "--labels",
                s(&labels),
                "--scores-out",
                s(&csv),
            ],
            "no labels for user 2",
        );
    }
}
