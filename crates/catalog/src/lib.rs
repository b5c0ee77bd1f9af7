//! The built-in catalog of command descriptors for toolcap, compiled into the binary.
//!
//! Each [`Command`] (looked up by the basename an argv starts with: `rm`, `git`, `python3`) has
//! a [`Risk`], its [`Capabilities`], a coarse [`Perf`] profile, a one-line summary and, where one
//! exists, a safer alternative. Tool families (`git`, `docker`, `kubectl`, ...) also have a
//! [`Family`] with an entry per [`Subcommand`] (`git push`, `docker compose up`); a family's
//! floor and common flags are derived from its subcommands, and the whole family encodes as one
//! v3 descriptor.
//!
//! The data lives in `data/commands.txt`, a readable line format; `build.rs` validates it and
//! turns it into sorted static tables, so a lookup is a binary search and nothing is parsed at
//! start-up. How each entry's risk and flags are decided is in `docs/catalog.md`.
//!
//! # Example
//!
//! ```
//! use toolcap_catalog::{Capabilities, Risk, lookup};
//!
//! let rm = lookup("/usr/bin/rm").unwrap();
//! assert!(rm.caps.contains(Capabilities::DESTRUCTIVE));
//! let push = lookup("git").and_then(|git| git.family).and_then(|f| f.subcommand("push")).unwrap();
//! assert_eq!(push.risk, Risk::Medium);
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

pub use toolcap_descriptor::{Capabilities, Perf, Risk};
use toolcap_descriptor::{Descriptor, FamilyDescriptor, SubcommandDescriptor};

/// A command of the catalog.
#[derive(Debug, PartialEq, Eq)]
pub struct Command {
    /// The basename it is invoked by.
    pub name: &'static str,
    /// Its risk when run with no arguments the rules know about.
    pub risk: Risk,
    /// What it can do through its documented features.
    pub caps: Capabilities,
    /// Its typical cost.
    pub perf: Perf,
    /// One line on what it does.
    pub summary: &'static str,
    /// A safer way to get the same job done, where one exists.
    pub alternative: Option<&'static str>,
    /// Its subcommands, when it is a tool family.
    pub family: Option<&'static Family>,
}

impl Command {
    /// Its v2 descriptor.
    pub const fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.name, self.risk, self.caps, self.perf)
    }
}

/// A tool family: a command whose first argument selects what it does.
#[derive(Debug, PartialEq, Eq)]
pub struct Family {
    /// The family's command name.
    pub name: &'static str,
    /// The lowest risk of any subcommand.
    pub floor: Risk,
    /// The flags every subcommand has.
    pub common: Capabilities,
    /// The subcommands, sorted by name. A name may be up to three words (`compose up`, `s3 rm`,
    /// `compute instances delete`).
    pub subcommands: &'static [Subcommand],
}

impl Family {
    /// The subcommand with exactly this name (`"push"`, `"compose up"`).
    pub fn subcommand(&self, name: &str) -> Option<&'static Subcommand> {
        let subs = self.subcommands;
        subs.binary_search_by(|s| s.name.cmp(name))
            .ok()
            .and_then(|i| subs.get(i))
    }

    /// The subcommand named by the first words of `words` (the arguments after the family's
    /// command, options already removed): the longest entry wins, so `compose up` beats
    /// `compose`, and `compute instances delete` beats `compute`. Returns it with the number of
    /// words it used.
    pub fn resolve(&self, words: &[&str]) -> Option<(&'static Subcommand, usize)> {
        let subs = self.subcommands;
        (1..=words.len().min(MAX_SUBCOMMAND_WORDS))
            .rev()
            .find_map(|k| {
                let prefix = words.get(..k)?;
                let i = subs.binary_search_by(|s| cmp_joined(s.name, prefix)).ok()?;
                subs.get(i).map(|s| (s, k))
            })
    }

    /// Its v3 descriptor.
    pub fn descriptor_v3(&self) -> FamilyDescriptor {
        let subs = self.subcommands.iter().map(Subcommand::descriptor);
        #[allow(clippy::expect_used)]
        // reason: build.rs builds every family with this same constructor and fails the build if it errs
        FamilyDescriptor::new(self.name, self.floor, self.common, subs)
            .expect("catalog families are validated by build.rs")
    }

    /// Its v3 encoding: the 16-byte parent, then an 8-byte delta per subcommand.
    pub fn encode_v3(&self) -> Vec<u8> {
        self.descriptor_v3().to_bytes()
    }
}

/// Compares `name` with `words` joined by single spaces, without allocating (byte order, as
/// `str`'s `Ord`), so that [`Family::resolve`] can binary-search on the engine's hot path.
fn cmp_joined(name: &str, words: &[&str]) -> core::cmp::Ordering {
    use core::cmp::Ordering;
    // Segment by segment with slice comparisons (memcmp), not byte by byte.
    let mut rest = name.as_bytes();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            let Some((&b, r)) = rest.split_first() else {
                return Ordering::Less;
            };
            match b.cmp(&b' ') {
                Ordering::Equal => rest = r,
                o => return o,
            }
        }
        let w = w.as_bytes();
        let n = rest.len().min(w.len());
        let (head, tail) = rest.split_at(n);
        match cmp_bytes(head, w.get(..n).unwrap_or_default()) {
            Ordering::Equal => {}
            o => return o,
        }
        if n < w.len() {
            return Ordering::Less;
        }
        rest = tail;
    }
    if rest.is_empty() {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

/// Byte-wise order (as `str`'s `Ord`) by a plain loop: command names are a few bytes long, and
/// a loop beats a call into `memcmp` for each probe of a binary search.
#[inline]
fn cmp_bytes(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// The most words a subcommand name has.
pub const MAX_SUBCOMMAND_WORDS: usize = 3;

/// A subcommand of a [`Family`].
#[derive(Debug, PartialEq, Eq)]
pub struct Subcommand {
    /// Its name after the family's command (`"push"`, `"compose up"`).
    pub name: &'static str,
    /// Its risk when run with no arguments the rules know about.
    pub risk: Risk,
    /// Everything it can do, including the family's common flags.
    pub caps: Capabilities,
    /// Its typical cost.
    pub perf: Perf,
    /// One line on what it does.
    pub summary: &'static str,
    /// A safer way to get the same job done, where one exists.
    pub alternative: Option<&'static str>,
}

impl Subcommand {
    /// Its entry in the family's v3 descriptor.
    pub const fn descriptor(&self) -> SubcommandDescriptor {
        SubcommandDescriptor::new(self.name, self.risk, self.caps, self.perf)
    }
}

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// The command invoked as `name`.
///
/// `name` may be a path (`/usr/bin/rm`: only the basename counts). For interpreters and
/// compilers marked as versioned in the data, a version suffix is accepted (`python3.12`,
/// `gcc-13`, `pip3`). Anything else that is not in the catalog is `None`: callers treat an
/// unknown command as needing a look, never as safe.
pub fn lookup(name: &str) -> Option<&'static Command> {
    lookup_indexed(name).map(|(_, c, _)| c)
}

/// As [`lookup`], with the entry's position in [`commands`] and whether `name` (its basename)
/// is the entry's own name (`false` when a version suffix was dropped: `python3.12`), so that a
/// caller can keep per-entry facts in a table indexed like [`commands`].
pub fn lookup_indexed(name: &str) -> Option<(usize, &'static Command, bool)> {
    let base = name.rsplit('/').next().unwrap_or(name);
    if let Some((i, c)) = exact(base) {
        return Some((i, c, true));
    }
    let trimmed = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    let suffix = &base[trimmed.len()..];
    let versioned = VERSIONED.binary_search(&trimmed).is_ok();
    if versioned && suffix.bytes().any(|b| b.is_ascii_digit()) {
        exact(trimmed).map(|(i, c)| (i, c, false))
    } else {
        None
    }
}

fn exact(name: &str) -> Option<(usize, &'static Command)> {
    let b = usize::from(*name.as_bytes().first()?);
    let lo = usize::from(*BY_FIRST.get(b)?);
    let hi = usize::from(*BY_FIRST.get(b + 1)?);
    let bucket = COMMANDS.get(lo..hi)?;
    let i = bucket
        .binary_search_by(|c| cmp_bytes(c.name.as_bytes(), name.as_bytes()))
        .ok()?;
    bucket.get(i).map(|c| (lo + i, c))
}

/// Every command, sorted by name.
pub fn commands() -> &'static [Command] {
    &COMMANDS
}

/// The family whose command is `name` (a basename, as for [`lookup`]).
pub fn family(name: &str) -> Option<&'static Family> {
    lookup(name).and_then(|c| c.family)
}

/// Every family, sorted by name.
pub fn families() -> &'static [&'static Family] {
    &FAMILIES
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The allocation-free comparison orders exactly as comparing with the joined string.
    #[test]
    fn cmp_joined_matches_the_joined_string() {
        let names = [
            "",
            "a",
            "ab",
            "a b",
            "a bc",
            "a b c",
            "ab c",
            "compose",
            "compose up",
            "b",
        ];
        let words: &[&[&str]] = &[
            &[],
            &["a"],
            &["ab"],
            &["a", "b"],
            &["a", "bc"],
            &["a", "b", "c"],
            &["a", ""],
            &["", "a"],
            &["compose", "up"],
            &["compose"],
            &["b"],
        ];
        for n in names {
            for w in words {
                assert_eq!(cmp_joined(n, w), n.cmp(w.join(" ").as_str()), "{n:?} {w:?}");
            }
        }
    }

    #[test]
    fn every_command_is_found_by_its_name() {
        for (i, c) in commands().iter().enumerate() {
            assert_eq!(lookup(c.name).map(|x| x.name), Some(c.name));
            assert_eq!(
                lookup_indexed(c.name).map(|(at, _, own)| (at, own)),
                Some((i, true))
            );
        }
        assert!(lookup("").is_none());
        assert!(lookup("\u{ff}zz").is_none());
    }
}
