//! `toolcap descriptor encode|decode` run as a process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test code; a failure is the point

use std::process::{Command, Output};

fn toolcap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolcap"))
        .args(args)
        .output()
        .expect("run toolcap")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// The `cat` golden vector of `crates/descriptor/testdata/v2-safe-cat.vec`.
const CAT_HEX: &str = "54435002010106745c07000040000e170e00000000006ed1";

// Encoding: flags, risk and perf on the command line give the frozen bytes.
mod encode {
    use super::*;

    #[test]
    fn matches_the_golden_vector() {
        let o = toolcap(&[
            "descriptor",
            "encode",
            "--name",
            "cat",
            "--risk",
            "SAFE",
            "--flags",
            "file-read",
            "--time",
            "10ms",
            "--memory",
            "8MiB",
            "--output",
            "16KiB",
        ]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        assert_eq!(stdout(&o).trim(), CAT_HEX);
    }

    #[test]
    fn catalog_entries_and_families() {
        let o = toolcap(&["descriptor", "encode", "--catalog", "rm"]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(stdout(&o).trim().len(), 48);
        let o = toolcap(&["descriptor", "encode", "--family", "git"]);
        assert_eq!(o.status.code(), Some(0));
        let hex = stdout(&o).trim().to_owned();
        assert!(hex.starts_with("54435003"), "{hex}");
        assert!(hex.len() > 32 + 16 * 10);
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        for args in [
            &["descriptor", "encode", "--name", "x", "--risk", "SEVERE"][..],
            &[
                "descriptor",
                "encode",
                "--name",
                "x",
                "--risk",
                "LOW",
                "--flags",
                "teleport",
            ],
            &[
                "descriptor",
                "encode",
                "--name",
                "x",
                "--risk",
                "LOW",
                "--time",
                "soon",
            ],
            &[
                "descriptor",
                "encode",
                "--name",
                "x",
                "--risk",
                "LOW",
                "--memory",
                "-5",
            ],
            &["descriptor", "encode", "--name", "", "--risk", "LOW"],
            &["descriptor", "encode", "--risk", "LOW"],
            &["descriptor", "encode", "--catalog", "no-such-command"],
            &["descriptor", "encode", "--family", "ls"],
        ] {
            let o = toolcap(args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
            assert!(!o.stderr.is_empty(), "{args:?}");
            assert!(o.stdout.is_empty(), "{args:?}");
        }
    }
}

// Decoding: the human and JSON forms of v2 and v3, and typed errors for malformed input.
mod decode {
    use super::*;

    #[test]
    fn v2_human() {
        let o = toolcap(&["descriptor", "decode", CAT_HEX]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let out = stdout(&o);
        assert!(out.contains("v2"), "{out}");
        assert!(out.contains("SAFE"), "{out}");
        assert!(out.contains("file-read"), "{out}");
        assert!(out.contains("\"cat\""), "{out}");
    }

    #[test]
    fn v2_json() {
        let o = toolcap(&[
            "descriptor",
            "decode",
            "--json",
            &format!("0x{}", CAT_HEX.to_uppercase()),
        ]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["format"], "v2");
        assert_eq!(v["risk"], "SAFE");
        assert_eq!(v["hash"], "0x06745c07");
        assert_eq!(v["name"], "cat");
        assert_eq!(v["capabilities"], serde_json::json!(["file-read"]));
        assert_eq!(v["perf"]["time_us"], 16384);
        assert_eq!(v["perf"]["memory_bytes"], 8 << 20);
    }

    #[test]
    fn v3_round_trip_through_the_cli() {
        let hex = stdout(&toolcap(&["descriptor", "encode", "--family", "kubectl"]))
            .trim()
            .to_owned();
        let o = toolcap(&["descriptor", "decode", "--json", &hex]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["format"], "v3");
        assert_eq!(v["name"], "kubectl");
        let subs = v["subcommands"].as_array().unwrap();
        let delete = subs.iter().find(|s| s["name"] == "delete").unwrap();
        assert_eq!(delete["risk"], "HIGH");
        assert!(
            delete["capabilities"]
                .as_array()
                .unwrap()
                .contains(&"destructive".into())
        );
        let human = stdout(&toolcap(&["descriptor", "decode", &hex]));
        assert!(human.contains("v3") && human.contains("delete"), "{human}");
    }

    #[test]
    fn malformed_input_is_a_usage_error_naming_the_problem() {
        let mut bad_crc = CAT_HEX.to_owned();
        bad_crc.replace_range(46..48, "00");
        let trailing = format!("{CAT_HEX}00");
        let cases: [(&str, &str); 6] = [
            ("zz", "hex"),
            ("abc", "odd"),
            ("", "empty"),
            (&bad_crc, "crc"),
            (&trailing, "trailing"),
            ("5443500201", "too short"),
        ];
        for (input, needle) in cases {
            let o = toolcap(&["descriptor", "decode", input]);
            assert_eq!(o.status.code(), Some(2), "{input}: {o:?}");
            let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
            assert!(err.contains(needle), "{input}: {err}");
        }
    }
}
