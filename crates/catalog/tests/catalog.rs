//! Integration tests of the built-in catalog.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should abort the run

use std::collections::HashSet;

use toolcap_catalog::{Capabilities, Risk, commands, families, family, lookup};
use toolcap_descriptor::{Descriptor, FamilyDescriptor};

/// Size and shape of the catalog.
#[cfg(test)]
mod shape {
    use super::*;

    /// The issue asks for at least 600 commands; keep the floor in one place.
    const MIN_COMMANDS: usize = 600;

    #[test]
    fn enough_unique_sorted_commands() {
        let all = commands();
        let names: HashSet<&str> = all.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), all.len(), "duplicate names");
        assert!(all.len() >= MIN_COMMANDS, "only {} commands", all.len());
        assert!(all.windows(2).all(|w| w[0].name < w[1].name), "not sorted");
    }

    #[test]
    fn every_entry_is_filled_in() {
        for c in commands() {
            assert!(!c.summary.is_empty(), "{} has no summary", c.name);
            assert!(c.alternative.is_none_or(|a| !a.is_empty()), "{}", c.name);
            assert_eq!(lookup(c.name).map(|l| l.name), Some(c.name));
        }
        for f in families() {
            assert!(
                f.subcommands.windows(2).all(|w| w[0].name < w[1].name),
                "{} unsorted",
                f.name
            );
            assert_eq!(family(f.name).map(|g| g.name), Some(f.name));
            for s in f.subcommands {
                assert!(
                    s.risk >= f.floor && s.caps.contains(f.common),
                    "{} {}",
                    f.name,
                    s.name
                );
                assert_eq!(f.subcommand(s.name).map(|t| t.name), Some(s.name));
            }
        }
    }
}

/// Every entry's descriptors survive their wire formats.
#[cfg(test)]
mod round_trip {
    use super::*;

    #[test]
    fn every_v2_descriptor_round_trips() {
        for c in commands() {
            let d = c.descriptor();
            assert_eq!(Descriptor::decode(&d.to_bytes()), Ok(d), "{}", c.name);
            assert_eq!((d.risk, d.caps, d.perf), (c.risk, c.caps, c.perf));
        }
    }

    #[test]
    fn every_v3_family_round_trips() {
        for f in families() {
            let bytes = f.encode_v3();
            assert_eq!(bytes.len(), 16 + 8 * f.subcommands.len());
            let decoded = FamilyDescriptor::decode(&bytes).unwrap();
            assert_eq!(decoded, f.descriptor_v3(), "{}", f.name);
            assert_eq!((decoded.floor(), decoded.common()), (f.floor, f.common));
            for s in f.subcommands {
                let d = decoded.subcommand(s.descriptor().id).unwrap();
                assert_eq!(
                    (d.risk, d.caps, d.perf),
                    (s.risk, s.caps, s.perf),
                    "{} {}",
                    f.name,
                    s.name
                );
            }
        }
    }
}

/// Spot checks of entries the policy engine relies on.
#[cfg(test)]
mod spot {
    use super::*;

    fn risk(name: &str) -> Risk {
        lookup(name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .risk
    }

    fn caps(name: &str) -> Capabilities {
        lookup(name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .caps
    }

    #[test]
    fn well_known_commands() {
        assert_eq!(risk("ls"), Risk::Safe);
        assert!(caps("rm").contains(Capabilities::DESTRUCTIVE));
        assert!(caps("curl").contains(Capabilities::NETWORK_DOWNLOAD));
        assert_eq!(risk("mkfs"), Risk::Critical);
        assert_eq!(risk("shred"), Risk::Critical);
        assert!(caps("vim").contains(Capabilities::SPAWNS_SHELL));
        assert!(caps("less").contains(Capabilities::SPAWNS_SHELL));
        assert_eq!(risk("make"), Risk::Low);
    }

    /// The risk semantics the policy engine maps to its base decision (docs/catalog.md).
    #[test]
    fn risk_semantics() {
        for name in ["ls", "cat", "grep", "less", "man", "ps", "df"] {
            assert_eq!(risk(name), Risk::Safe, "{name}");
        }
        for name in ["mkdir", "cp", "touch", "make", "pytest", "vim", "tar"] {
            assert_eq!(risk(name), Risk::Low, "{name}");
        }
        for name in ["rm", "curl", "wget", "kill", "bash", "python3", "ssh"] {
            assert_eq!(risk(name), Risk::Medium, "{name}");
        }
        for name in [
            "chown", "mount", "iptables", "useradd", "sudo", "crontab", "dd", "nc",
        ] {
            assert_eq!(risk(name), Risk::High, "{name}");
        }
        for name in [
            "mkfs",
            "mkfs.ext4",
            "wipefs",
            "shred",
            "blkdiscard",
            "mkswap",
        ] {
            assert_eq!(risk(name), Risk::Critical, "{name}");
        }
        let sub = |f: &str, s: &str| {
            family(f)
                .and_then(|fam| fam.subcommand(s))
                .unwrap_or_else(|| panic!("{f} {s} missing"))
                .risk
        };
        assert_eq!(sub("git", "status"), Risk::Safe);
        assert_eq!(sub("git", "add"), Risk::Low);
        assert_eq!(sub("git", "commit"), Risk::Low);
        assert_eq!(sub("git", "push"), Risk::Medium);
        assert_eq!(sub("cargo", "build"), Risk::Low);
        assert_eq!(sub("npm", "install"), Risk::Medium);
        assert_eq!(sub("systemctl", "status"), Risk::Safe);
        assert_eq!(sub("systemctl", "stop"), Risk::High);
        assert_eq!(sub("kubectl", "get"), Risk::Safe);
        assert_eq!(sub("kubectl", "delete"), Risk::High);
        assert_eq!(sub("docker", "system prune"), Risk::High);
        assert_eq!(sub("terraform", "plan"), Risk::Low);
        assert_eq!(sub("terraform", "destroy"), Risk::Critical);
        assert_eq!(sub("apt", "install"), Risk::Medium);
        assert_eq!(sub("aws", "s3 rm"), Risk::High);
    }

    /// Editors, pagers and interpreters can start a shell through documented features.
    #[test]
    fn shell_escapes_are_flagged() {
        for name in [
            "vim", "vi", "nvim", "emacs", "nano", "ed", "less", "more", "man", "python3", "perl",
            "awk", "find", "gdb", "git",
        ] {
            assert!(caps(name).contains(Capabilities::SPAWNS_SHELL), "{name}");
        }
        assert!(caps("sudo").contains(Capabilities::PRIVILEGE_ESCALATION));
        assert!(caps("crontab").contains(Capabilities::PERSISTENCE));
        assert!(caps("nc").contains(Capabilities::EXECUTES_CODE));
        assert!(caps("scp").contains(Capabilities::NETWORK_UPLOAD));
    }

    #[test]
    fn families_of_the_issue_exist() {
        for name in [
            "git",
            "docker",
            "podman",
            "kubectl",
            "helm",
            "terraform",
            "npm",
            "cargo",
            "pip",
            "apt",
            "systemctl",
            "aws",
            "gh",
            "gcloud",
            "az",
            "yarn",
            "pnpm",
            "go",
            "brew",
            "dnf",
        ] {
            let f = family(name).unwrap_or_else(|| panic!("family {name} missing"));
            assert!(
                f.subcommands.len() >= 10,
                "{name} has only {} subcommands",
                f.subcommands.len()
            );
        }
        assert!(commands().iter().filter(|c| c.family.is_some()).count() >= 20);
    }

    #[test]
    fn paths_and_versions() {
        assert_eq!(lookup("/usr/bin/rm").map(|c| c.name), Some("rm"));
        assert_eq!(
            lookup("python3.12").map(|c| c.name),
            lookup("python3").map(|c| c.name)
        );
        assert!(lookup("python3.12").is_some());
        // A version suffix is only accepted for entries marked as versioned.
        assert_eq!(lookup("ls2"), None);
        assert_eq!(lookup("rm-1"), None);
        assert_eq!(lookup(""), None);
        assert_eq!(lookup("no-such-command"), None);
    }

    #[test]
    fn families_resolve_subcommands() {
        let git = family("git").unwrap();
        assert_eq!(git.subcommand("status").map(|s| s.risk), Some(Risk::Safe));
        assert_eq!(git.subcommand("push").map(|s| s.risk), Some(Risk::Medium));
        assert_eq!(
            git.resolve(&["push", "origin"]).map(|(s, n)| (s.name, n)),
            Some(("push", 1))
        );
        assert!(git.subcommand("frobnicate").is_none());
        assert!(family("ls").is_none());
        let docker = family("docker").unwrap();
        assert_eq!(
            docker
                .resolve(&["compose", "up", "web"])
                .map(|(s, n)| (s.name, n)),
            Some(("compose up", 2))
        );
        assert_eq!(docker.resolve(&["compose"]), None);
        let gcloud = family("gcloud").unwrap();
        let (s, n) = gcloud
            .resolve(&["compute", "instances", "delete", "vm-1"])
            .unwrap();
        assert_eq!(
            (s.name, n, s.risk),
            ("compute instances delete", 3, Risk::High)
        );
        assert_eq!(family("pip3").map(|f| f.name), Some("pip"));
    }
}

/// Lookups on arbitrary input never panic, and never invent an entry.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn lookup_never_panics(name in "\\PC{0,24}") {
            if let Some(c) = lookup(&name) {
                let base = name.rsplit('/').next().unwrap_or(&name);
                prop_assert!(base.starts_with(c.name));
            }
            if let Some(f) = family(&name) {
                let _ = f.resolve(&[name.as_str(), "x", "y", "z"]);
            }
        }

        #[test]
        fn resolve_never_panics(words in proptest::collection::vec("[a-z -]{0,12}", 0..5)) {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            for f in families() {
                if let Some((s, n)) = f.resolve(&words) {
                    prop_assert!(n >= 1 && n <= words.len());
                    prop_assert_eq!(s.name, words[..n].join(" "));
                }
            }
        }
    }
}
