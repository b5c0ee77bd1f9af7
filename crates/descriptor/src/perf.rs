//! The coarse performance profile: typical run time, memory and output size, log-encoded.

use core::fmt;

/// A power-of-two magnitude: the value is about `2^exponent` units.
///
/// The exponent is 0..=63 (six bits on the wire; the top two bits of its byte are reserved). A
/// measured value is rounded *up* to the next power of two, so the encoded magnitude is an upper
/// estimate of the typical value within a factor of two.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Magnitude(u8);

impl Magnitude {
    /// The largest exponent.
    pub const MAX_EXPONENT: u8 = 63;

    /// The magnitude `2^exponent`, or `None` when the exponent is above 63.
    pub const fn new(exponent: u8) -> Option<Magnitude> {
        if exponent <= Magnitude::MAX_EXPONENT {
            Some(Magnitude(exponent))
        } else {
            None
        }
    }

    /// The smallest magnitude at least `value` (`0` and `1` give exponent 0).
    pub const fn at_least(value: u64) -> Magnitude {
        if value <= 1 {
            return Magnitude(0);
        }
        let e = 64 - (value - 1).leading_zeros();
        // Values above 2^63 saturate: the field is six bits wide.
        if e > Magnitude::MAX_EXPONENT as u32 {
            Magnitude(Magnitude::MAX_EXPONENT)
        } else {
            Magnitude(e as u8)
        }
    }

    /// The exponent.
    pub const fn exponent(self) -> u8 {
        self.0
    }

    /// The value `2^exponent` in the field's unit.
    pub const fn value(self) -> u64 {
        1u64 << self.0
    }
}

impl fmt::Debug for Magnitude {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "2^{}", self.0)
    }
}

/// The typical cost of one run of a command.
///
/// Coarse by design: it lets a scheduler or a policy tell `ls` from `cargo build` from
/// `docker pull`, not benchmark them.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug)]
pub struct Perf {
    /// Typical wall-clock time, in microseconds.
    pub time: Magnitude,
    /// Typical peak resident memory, in bytes.
    pub memory: Magnitude,
    /// Typical size of standard output, in bytes.
    pub output: Magnitude,
}

impl Perf {
    /// A profile from typical values: time in microseconds, memory and output in bytes, each
    /// rounded up to a power of two.
    pub const fn typical(time_us: u64, memory_bytes: u64, output_bytes: u64) -> Perf {
        Perf {
            time: Magnitude::at_least(time_us),
            memory: Magnitude::at_least(memory_bytes),
            output: Magnitude::at_least(output_bytes),
        }
    }

    /// A profile from exponents, or `None` when one is above 63.
    pub const fn from_exponents(time: u8, memory: u8, output: u8) -> Option<Perf> {
        match (
            Magnitude::new(time),
            Magnitude::new(memory),
            Magnitude::new(output),
        ) {
            (Some(time), Some(memory), Some(output)) => Some(Perf {
                time,
                memory,
                output,
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Perf {
    /// `time ~1ms, memory ~4MiB, output ~4KiB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "time ~{}, memory ~{}, output ~{}",
            DurationDisplay(self.time.value()),
            SizeDisplay(self.memory.value()),
            SizeDisplay(self.output.value())
        )
    }
}

/// A duration in microseconds, shown in the largest unit that divides into it at least once.
struct DurationDisplay(u64);

impl fmt::Display for DurationDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us >= 3_600_000_000 {
            write!(f, "{}h", us / 3_600_000_000)
        } else if us >= 60_000_000 {
            write!(f, "{}min", us / 60_000_000)
        } else if us >= 1_000_000 {
            write!(f, "{}s", us / 1_000_000)
        } else if us >= 1_000 {
            write!(f, "{}ms", us / 1_000)
        } else {
            write!(f, "{us}us")
        }
    }
}

/// A byte count in binary units.
struct SizeDisplay(u64);

impl fmt::Display for SizeDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut v = self.0;
        let mut unit = 0;
        while v >= 1024 && unit + 1 < UNITS.len() {
            v /= 1024;
            unit += 1;
        }
        write!(f, "{v}{}", UNITS[unit])
    }
}

/// A duration with a unit: `250us`, `10ms`, `2s`, `5min`, `1h` (a bare number is microseconds),
/// as microseconds. `None` when malformed or above `u64::MAX` microseconds.
pub fn parse_duration_us(s: &str) -> Option<u64> {
    let (num, unit) = split_unit(s)?;
    let mul: u64 = match unit {
        "" | "us" | "µs" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        _ => return None,
    };
    num.checked_mul(mul)
}

/// A size with a binary unit: `512`, `512B`, `4K`/`4KiB`, `64M`/`64MiB`, `2G`/`2GiB`, `1T`, as
/// bytes. `None` when malformed or too large.
pub fn parse_size_bytes(s: &str) -> Option<u64> {
    let (num, unit) = split_unit(s)?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        "t" | "tib" | "tb" => 40,
        _ => return None,
    };
    num.checked_mul(1u64 << shift)
}

/// Splits `"64MiB"` into `(64, "MiB")`.
fn split_unit(s: &str) -> Option<(u64, &str)> {
    let s = s.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (num, unit) = s.split_at(digits);
    Some((num.parse().ok()?, unit.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitude_rounds_up() {
        assert_eq!(Magnitude::at_least(0).exponent(), 0);
        assert_eq!(Magnitude::at_least(1).exponent(), 0);
        assert_eq!(Magnitude::at_least(2).exponent(), 1);
        assert_eq!(Magnitude::at_least(3).exponent(), 2);
        assert_eq!(Magnitude::at_least(1024).exponent(), 10);
        assert_eq!(Magnitude::at_least(1025).exponent(), 11);
        assert_eq!(Magnitude::at_least(u64::MAX).exponent(), 63);
        assert_eq!(Magnitude::at_least(1 << 63).exponent(), 63);
        assert_eq!(Magnitude::new(64), None);
    }

    #[test]
    fn units_parse() {
        assert_eq!(parse_duration_us("10ms"), Some(10_000));
        assert_eq!(parse_duration_us("2s"), Some(2_000_000));
        assert_eq!(parse_duration_us("7"), Some(7));
        assert_eq!(parse_duration_us("5min"), Some(300_000_000));
        assert_eq!(parse_duration_us("ms"), None);
        assert_eq!(parse_duration_us("3 fortnights"), None);
        assert_eq!(parse_size_bytes("4KiB"), Some(4096));
        assert_eq!(parse_size_bytes("64M"), Some(64 << 20));
        assert_eq!(parse_size_bytes("99999999999999T"), None);
        assert_eq!(
            Perf::typical(1000, 4 << 20, 4096).to_string(),
            "time ~1ms, memory ~4MiB, output ~4KiB"
        );
    }
}
