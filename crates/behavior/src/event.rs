//! Events: what an agent did, as the detectors see it.

use toolcap_descriptor::Capabilities;

/// A command name reduced to a 32-bit identifier (FNV-1a, 32 bit), so profiles never store strings.
///
/// The value 0 is reserved for "no command" (the empty slot of a table, the predecessor of the first
/// event); a name that hashes to 0 is mapped to 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(u32);

impl CommandId {
    /// The "no command" marker.
    pub const NONE: CommandId = CommandId(0);

    /// The identifier of a command name.
    pub fn of(name: &str) -> CommandId {
        // FNV-1a, 32 bit (Fowler, Noll, Vo; draft-eastlake-fnv): offset basis and prime below.
        let mut h: u32 = 0x811c_9dc5;
        for b in name.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        CommandId(if h == 0 { 1 } else { h })
    }

    /// An identifier from its raw value (0 is [`CommandId::NONE`]).
    pub const fn from_raw(raw: u32) -> CommandId {
        CommandId(raw)
    }

    /// The raw value.
    pub const fn raw(self) -> u32 {
        self.0
    }
}

/// One observed action of an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The command (program or tool) name.
    pub command: CommandId,
    /// Capability flags of the action as judged by the command engine (empty when unknown).
    pub caps: Capabilities,
    /// Milliseconds since an epoch chosen by the caller, if known. Detectors do not read the wall
    /// clock; the monitor uses this only to stamp alerts.
    pub at_ms: Option<u64>,
}

impl Event {
    /// An event with only a command name.
    pub fn command(name: &str) -> Event {
        Event {
            command: CommandId::of(name),
            caps: Capabilities::NONE,
            at_ms: None,
        }
    }

    /// An event with a command name and its capability flags.
    pub fn with_caps(name: &str, caps: Capabilities) -> Event {
        Event {
            command: CommandId::of(name),
            caps,
            at_ms: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_answers() {
        // Test vectors of FNV-1a 32 (draft-eastlake-fnv, section 8 / the reference test suite).
        assert_eq!(CommandId::of("a").raw(), 0xe40c_292c);
        assert_eq!(CommandId::of("foobar").raw(), 0xbf9c_f968);
        assert_ne!(CommandId::of("").raw(), 0);
    }
}
