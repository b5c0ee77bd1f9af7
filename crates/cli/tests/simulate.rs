//! `toolcap simulate fleet`: the command-line contract (flags, JSON fields, exit codes).

#![allow(clippy::unwrap_used)] // reason: test helpers outside #[test] functions

use std::process::{Command, Output};

use serde_json::Value;

fn toolcap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolcap"))
        .args(args)
        .output()
        .unwrap()
}

const FIELDS: [&str; 14] = [
    "agents",
    "byzantine_fraction",
    "attack",
    "epochs",
    "finalized_epochs",
    "degraded_epochs",
    "global_bias_sigma",
    "silent_poisoned_epochs",
    "detected",
    "detection_epoch",
    "flagged_nodes",
    "false_flags",
    "epoch_ms_p50",
    "peak_rss_bytes",
];

fn report(args: &[&str]) -> Value {
    let out = toolcap(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The JSON report has every field of the contract (later issues add fields, never remove).
#[test]
fn json_report_has_the_contract_fields() {
    let v = report(&[
        "simulate",
        "fleet",
        "--agents",
        "3000",
        "--fanout",
        "64",
        "--dim",
        "8",
        "--byzantine",
        "0.25",
        "--attack",
        "tree-poisoning",
        "--epochs",
        "3",
        "--seed",
        "5",
        "--json",
    ]);
    let obj = v.as_object().unwrap();
    for f in FIELDS {
        assert!(obj.contains_key(f), "missing {f}: {v}");
    }
    assert_eq!(v["agents"], 3000);
    assert_eq!(v["attack"], "tree-poisoning");
    assert_eq!(v["finalized_epochs"], 3);
    assert_eq!(v["silent_poisoned_epochs"], 0);
    assert_eq!(v["detected"], true);
    assert_eq!(v["false_flags"], 0);
    assert!(v["global_bias_sigma"].as_f64().unwrap() <= 0.1);
    assert!(v["peak_rss_bytes"].as_u64().unwrap() > 0);
    assert!(v["epoch_ms_p50"].as_f64().unwrap() > 0.0);
}

/// Beyond a quarter of every committee: degraded and alarmed, never silently poisoned.
#[test]
fn beyond_the_bound_is_never_silent() {
    let v = report(&[
        "simulate",
        "fleet",
        "--agents",
        "4096",
        "--byzantine",
        "0.26",
        "--attack",
        "sub-threshold",
        "--epochs",
        "4",
        "--json",
    ]);
    assert_eq!(v["silent_poisoned_epochs"], 0);
    assert_eq!(v["detected"], true);
    assert!(v["degraded_epochs"].as_u64().unwrap() >= 1, "{v}");
}

/// An unknown attack is a usage error naming the known ones.
#[test]
fn unknown_attack_is_exit_2() {
    let out = toolcap(&[
        "simulate",
        "fleet",
        "--agents",
        "100",
        "--byzantine",
        "0.1",
        "--attack",
        "nope",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in ["none", "tree-poisoning", "sub-threshold"] {
        assert!(err.contains(name), "{err}");
    }
    let bad = toolcap(&[
        "simulate",
        "fleet",
        "--agents",
        "100",
        "--byzantine",
        "2",
        "--attack",
        "none",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}
