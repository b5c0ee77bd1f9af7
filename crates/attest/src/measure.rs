//! Measurement logs: what was extended into which PCR.

use sha2::{Digest, Sha256};

/// The PCR that holds the node binary's digest. PCR 16 is the debug PCR: resettable at locality 0,
/// so a node can start from a known state on a TPM it shares with nothing else.
pub const PCR_BINARY: u8 = 16;
/// The PCR that holds the node configuration's digest (PCR 23: application-specific, resettable).
pub const PCR_CONFIG: u8 = 23;

/// One extend: `PCR[pcr] = SHA-256(PCR[pcr] || digest)` (TPM 2.0 Part 1, §17.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// The PCR index (0..=23).
    pub pcr: u8,
    /// What was measured, for humans ("binary", "config").
    pub label: String,
    /// SHA-256 of what was measured.
    pub digest: [u8; 32],
}

impl Measurement {
    /// The measurement of `data` into `pcr`.
    pub fn of(pcr: u8, label: &str, data: &[u8]) -> Measurement {
        Measurement {
            pcr,
            label: label.to_owned(),
            digest: Sha256::digest(data).into(),
        }
    }
}

/// An ordered list of measurements, replayable into PCR values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeasurementLog {
    entries: Vec<Measurement>,
}

impl MeasurementLog {
    /// Appends a measurement.
    pub fn push(&mut self, m: Measurement) {
        self.entries.push(m);
    }

    /// The measurements in order.
    pub fn entries(&self) -> &[Measurement] {
        &self.entries
    }

    /// The PCR values the log produces from reset (all-zero) registers, sorted by PCR index.
    pub fn replay(&self) -> Vec<(u8, [u8; 32])> {
        let mut pcrs: Vec<(u8, [u8; 32])> = Vec::new();
        for m in &self.entries {
            let slot = match pcrs.iter_mut().find(|(i, _)| *i == m.pcr) {
                Some(slot) => slot,
                None => {
                    pcrs.push((m.pcr, [0u8; 32]));
                    let last = pcrs.len() - 1;
                    &mut pcrs[last]
                }
            };
            let mut h = Sha256::new();
            h.update(slot.1);
            h.update(m.digest);
            slot.1 = h.finalize().into();
        }
        pcrs.sort_by_key(|(i, _)| *i);
        pcrs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_matches_the_extend_rule() {
        let mut log = MeasurementLog::default();
        log.push(Measurement::of(23, "config", b"c"));
        log.push(Measurement::of(16, "binary", b"b"));
        log.push(Measurement::of(16, "plugin", b"p"));
        let pcrs = log.replay();
        assert_eq!(
            pcrs.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            vec![16, 23]
        );
        let step = |prev: [u8; 32], data: &[u8]| -> [u8; 32] {
            let d: [u8; 32] = Sha256::digest(data).into();
            let mut h = Sha256::new();
            h.update(prev);
            h.update(d);
            h.finalize().into()
        };
        assert_eq!(pcrs[0].1, step(step([0; 32], b"b"), b"p"));
        assert_eq!(pcrs[1].1, step([0; 32], b"c"));
    }
}
