//! Risk levels.

use core::fmt;
use core::str::FromStr;

/// How much harm a command can do, from `Safe` to `Critical`.
///
/// The order is meaningful: `Risk::Safe < Risk::Critical`, and the strictest part of a command
/// line is the `max` of its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Risk {
    /// Reads or prints only; no side effects worth asking about.
    Safe = 0,
    /// Local, easily reversed side effects.
    Low = 1,
    /// Changes files or state in ways that need a look.
    Medium = 2,
    /// Hard to reverse, touches the system, the network or secrets.
    High = 3,
    /// Irreversible damage or compromise: wiping disks, exfiltration, remote shells.
    Critical = 4,
}

impl Risk {
    /// Every level, from least to most risky.
    pub const ALL: [Risk; 5] = [
        Risk::Safe,
        Risk::Low,
        Risk::Medium,
        Risk::High,
        Risk::Critical,
    ];

    /// The upper-case name used in JSON and on the command line (`"SAFE"` .. `"CRITICAL"`).
    pub const fn name(self) -> &'static str {
        match self {
            Risk::Safe => "SAFE",
            Risk::Low => "LOW",
            Risk::Medium => "MEDIUM",
            Risk::High => "HIGH",
            Risk::Critical => "CRITICAL",
        }
    }

    /// The level with this ordinal (0 = `Safe` .. 4 = `Critical`), if any.
    pub const fn from_ordinal(n: u8) -> Option<Risk> {
        match n {
            0 => Some(Risk::Safe),
            1 => Some(Risk::Low),
            2 => Some(Risk::Medium),
            3 => Some(Risk::High),
            4 => Some(Risk::Critical),
            _ => None,
        }
    }

    /// This level's ordinal (0 = `Safe` .. 4 = `Critical`).
    pub const fn ordinal(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A risk name that is not one of the five levels.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown risk level {0:?} (expected SAFE, LOW, MEDIUM, HIGH or CRITICAL)")]
pub struct UnknownRisk(pub String);

impl FromStr for Risk {
    type Err = UnknownRisk;

    /// Case-insensitive: `safe`, `SAFE` and `Safe` all parse.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Risk::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownRisk(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names_round_trip() {
        for (i, r) in Risk::ALL.into_iter().enumerate() {
            assert_eq!(r.ordinal() as usize, i);
            assert_eq!(Risk::from_ordinal(r.ordinal()), Some(r));
            assert_eq!(r.name().parse::<Risk>(), Ok(r));
            assert_eq!(r.name().to_lowercase().parse::<Risk>(), Ok(r));
        }
        assert!(Risk::Safe < Risk::Critical);
        assert_eq!(Risk::from_ordinal(5), None);
        assert!("severe".parse::<Risk>().is_err());
    }
}
