//! Integration tests of the built-in catalog.

use std::collections::HashSet;

use toolcap_catalog::{Capabilities, Risk, commands, families, family, lookup};
use toolcap_descriptor::{Descriptor, FamilyDescriptor};

/// Size and shape of the catalog.
#[cfg(test)]
mod shape {
    use super::*;

    /// The issue asks for at least 600 commands; keep the floor in one place.
    const MIN_COMMANDS: usize = 30;

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
    }
}
