//! Capability flags: what a command can do, as a typed bitset.

use core::fmt;
use core::str::FromStr;

/// A set of capability flags.
///
/// Each flag has a fixed bit (frozen: it is part of the wire format) and a kebab-case name used in
/// JSON, policy files and the CLI. Bits not named here are reserved; decoders reject them.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capabilities(u32);

macro_rules! flags {
    ($( $(#[$doc:meta])* $konst:ident = $bit:expr, $name:literal; )*) => {
        impl Capabilities {
            $( $(#[$doc])* pub const $konst: Capabilities = Capabilities(1 << $bit); )*

            /// Every named flag with its name, in bit order.
            pub const NAMED: &'static [(Capabilities, &'static str)] = &[ $( (Capabilities::$konst, $name), )* ];
        }
    };
}

flags! {
    /// Deletes or overwrites data irreversibly.
    DESTRUCTIVE = 0, "destructive";
    /// Creates, changes or removes files.
    FILE_MODIFICATION = 1, "file-modification";
    /// Changes system configuration, services, devices, mounts, users or kernel state.
    SYSTEM_MODIFICATION = 2, "system-modification";
    /// Talks to the network.
    NETWORK_ACCESS = 3, "network-access";
    /// Sends local data out.
    NETWORK_UPLOAD = 4, "network-upload";
    /// Fetches remote data.
    NETWORK_DOWNLOAD = 5, "network-download";
    /// Starts an interactive or scripted shell.
    SPAWNS_SHELL = 6, "spawns-shell";
    /// Runs code given to it (interpreters, `eval`, build scripts).
    EXECUTES_CODE = 7, "executes-code";
    /// Reads secrets: private keys, credentials, password databases, `.env` files.
    READS_SENSITIVE = 8, "reads-sensitive";
    /// Writes places that grant access or persist: `authorized_keys`, sudoers, rc files, cron.
    WRITES_SENSITIVE = 9, "writes-sensitive";
    /// Gains privileges (`sudo`, setuid, capabilities).
    PRIVILEGE_ESCALATION = 10, "privilege-escalation";
    /// Needs root to do its job.
    REQUIRES_ROOT = 11, "requires-root";
    /// Signals, stops or reprioritises other processes.
    PROCESS_CONTROL = 12, "process-control";
    /// Installs, removes or upgrades software packages.
    PACKAGE_MANAGEMENT = 13, "package-management";
    /// Reads file contents (not necessarily sensitive ones).
    FILE_READ = 14, "file-read";
    /// Survives a restart or logout: services, cron, shell start-up files.
    PERSISTENCE = 15, "persistence";
}

impl Capabilities {
    /// The empty set.
    pub const NONE: Capabilities = Capabilities(0);

    /// Every bit that has a name.
    pub const ALL_NAMED: Capabilities = {
        let mut bits = 0u32;
        let mut i = 0;
        while i < Capabilities::NAMED.len() {
            bits |= Capabilities::NAMED[i].0.0;
            i += 1;
        }
        Capabilities(bits)
    };

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The set with exactly these bits, or `None` when a reserved bit is set.
    pub const fn from_bits(bits: u32) -> Option<Capabilities> {
        if bits & !Capabilities::ALL_NAMED.0 == 0 {
            Some(Capabilities(bits))
        } else {
            None
        }
    }

    /// The set with these bits, reserved ones dropped.
    pub const fn from_bits_truncate(bits: u32) -> Capabilities {
        Capabilities(bits & Capabilities::ALL_NAMED.0)
    }

    /// True when no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every flag of `other` is set in `self`.
    pub const fn contains(self, other: Capabilities) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when `self` and `other` share a flag.
    pub const fn intersects(self, other: Capabilities) -> bool {
        self.0 & other.0 != 0
    }

    /// The union.
    #[must_use]
    pub const fn union(self, other: Capabilities) -> Capabilities {
        Capabilities(self.0 | other.0)
    }

    /// The flags of `self` that are not in `other`.
    #[must_use]
    pub const fn difference(self, other: Capabilities) -> Capabilities {
        Capabilities(self.0 & !other.0)
    }

    /// The number of flags set.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The names of the flags set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Capabilities::NAMED
            .iter()
            .filter(move |(c, _)| self.contains(*c))
            .map(|(_, n)| *n)
    }

    /// The flag with this kebab-case name (`network-download`); `_` is accepted for `-`.
    pub fn flag_named(name: &str) -> Option<Capabilities> {
        Capabilities::NAMED
            .iter()
            .find(|(_, n)| {
                n.len() == name.len()
                    && n.bytes()
                        .zip(name.bytes())
                        .all(|(a, b)| a == b.to_ascii_lowercase() || (a == b'-' && b == b'_'))
            })
            .map(|(c, _)| *c)
    }
}

impl core::ops::BitOr for Capabilities {
    type Output = Capabilities;
    fn bitor(self, rhs: Capabilities) -> Capabilities {
        self.union(rhs)
    }
}

impl core::ops::BitOrAssign for Capabilities {
    fn bitor_assign(&mut self, rhs: Capabilities) {
        self.0 |= rhs.0;
    }
}

impl core::ops::BitAnd for Capabilities {
    type Output = Capabilities;
    fn bitand(self, rhs: Capabilities) -> Capabilities {
        Capabilities(self.0 & rhs.0)
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl fmt::Display for Capabilities {
    /// Comma-separated names, as `FromStr` reads them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(n)?;
        }
        Ok(())
    }
}

/// A capability name that is not one of the named flags.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability flag {0:?}")]
pub struct UnknownCapability(pub String);

impl FromStr for Capabilities {
    type Err = UnknownCapability;

    /// Comma-separated flag names; whitespace around names is ignored; the empty string is the
    /// empty set.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut caps = Capabilities::NONE;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            caps |=
                Capabilities::flag_named(part).ok_or_else(|| UnknownCapability(part.to_owned()))?;
        }
        Ok(caps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut all = Capabilities::NONE;
        for (c, n) in Capabilities::NAMED {
            assert_eq!(c.len(), 1);
            assert!(!all.intersects(*c), "bit reused by {n}");
            all |= *c;
            assert_eq!(Capabilities::flag_named(n), Some(*c));
        }
        assert_eq!(all, Capabilities::ALL_NAMED);
        let s = all.to_string();
        assert_eq!(s.parse::<Capabilities>(), Ok(all));
        assert_eq!(
            "network_download".parse::<Capabilities>(),
            Ok(Capabilities::NETWORK_DOWNLOAD)
        );
        assert!("teleport".parse::<Capabilities>().is_err());
        assert_eq!(Capabilities::from_bits(1 << 31), None);
    }
}
