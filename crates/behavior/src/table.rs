//! Bounded count tables: the only growable state of a profile.

/// Spreads a 32-bit key over the table (Fibonacci hashing, Knuth TAOCP vol. 3, 6.4).
#[inline]
fn spread(key: u32) -> u32 {
    key.wrapping_mul(0x9e37_79b9)
}

/// An open-addressing map from a non-zero `u32` key to an `f32` count, with a hard cap on entries.
///
/// Slots grow in powers of two up to `max_slots`; at most three quarters of the slots are used, so a
/// probe always ends. Once full, new keys are not stored: their mass goes to [`CountTable::dropped`],
/// and they stay "never seen" for scoring, which is the conservative reading.
#[derive(Clone, Debug, Default)]
pub(crate) struct CountTable {
    keys: Vec<u32>,
    counts: Vec<f32>,
    len: u32,
    max_slots: u32,
    dropped: f32,
}

impl CountTable {
    /// An empty table that will never hold more than `max_slots` slots (a power of two, >= 4).
    pub(crate) fn new(max_slots: u32) -> CountTable {
        CountTable {
            max_slots: max_slots.max(4).next_power_of_two(),
            ..CountTable::default()
        }
    }

    /// The count of `key` (0 when absent).
    #[inline]
    pub(crate) fn count(&self, key: u32) -> f32 {
        let n = self.keys.len();
        if n == 0 || key == 0 {
            return 0.0;
        }
        let mask = n - 1;
        let mut i = spread(key) as usize & mask;
        loop {
            let k = self.keys[i];
            if k == key {
                return self.counts[i];
            }
            if k == 0 {
                return 0.0;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `w` to the count of `key`. Returns false when the table is full and the key is new.
    #[inline]
    pub(crate) fn add(&mut self, key: u32, w: f32) -> bool {
        if key == 0 {
            return false;
        }
        if (self.len as usize + 1) * 4 > self.keys.len() * 3 && !self.grow() {
            // Full: only keys already present may still be counted.
            if let Some(i) = self.find(key) {
                self.counts[i] += w;
                return true;
            }
            self.dropped += w;
            return false;
        }
        let mask = self.keys.len() - 1;
        let mut i = spread(key) as usize & mask;
        loop {
            let k = self.keys[i];
            if k == key {
                self.counts[i] += w;
                return true;
            }
            if k == 0 {
                self.keys[i] = key;
                self.counts[i] = w;
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    fn find(&self, key: u32) -> Option<usize> {
        let n = self.keys.len();
        if n == 0 {
            return None;
        }
        let mask = n - 1;
        let mut i = spread(key) as usize & mask;
        loop {
            let k = self.keys[i];
            if k == key {
                return Some(i);
            }
            if k == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the slots if allowed; false when already at `max_slots`.
    fn grow(&mut self) -> bool {
        let old = self.keys.len();
        let new = if old == 0 { 8 } else { old * 2 };
        if new > self.max_slots as usize {
            return false;
        }
        let keys = std::mem::replace(&mut self.keys, vec![0; new]);
        let counts = std::mem::replace(&mut self.counts, vec![0.0; new]);
        self.len = 0;
        for (k, c) in keys.into_iter().zip(counts) {
            if k != 0 {
                self.add(k, c);
            }
        }
        true
    }

    /// Distinct keys stored.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Every (key, count) pair, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.keys
            .iter()
            .zip(&self.counts)
            .filter(|(k, _)| **k != 0)
            .map(|(k, c)| (*k, *c))
    }
}

/// Mixes a transition `(prev, cur)` into one non-zero 32-bit key.
#[inline]
pub(crate) fn pair_key(prev: u32, cur: u32) -> u32 {
    let h = (u64::from(prev) << 32 | u64::from(cur)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let k = (h >> 32) as u32 ^ (h as u32);
    if k == 0 { 1 } else { k }
}

/// Quarter-event units of a [`Sketch`] count.
const QUARTERS: f32 = 4.0;
/// Longest probe sequence: lookups and inserts never look further.
const MAX_PROBE: usize = 16;

/// A fixed-size table of 4-byte entries: a 16-bit fingerprint of the key and a 16-bit count in
/// quarter events (saturating at 16,383.75). The bounded per-agent store of commands and transitions.
///
/// The home slot comes from the key's high bits and the fingerprint from its low 16 bits, so an
/// unseen key matches a stored one with probability about `2^-16` per probe. Probes stop after
/// [`MAX_PROBE`] slots; when all are taken by other keys, the lightest of them is evicted if it
/// holds at most one event (rare keys make room), else the new mass is dropped. Every operation is
/// O(1).
#[derive(Clone, Debug, Default)]
pub(crate) struct Sketch {
    slots: Vec<u32>,
    size: u32,
    len: u32,
    dropped: f32,
}

impl Sketch {
    /// A sketch of `size` slots, allocated on first insert.
    pub(crate) fn new(size: u32) -> Sketch {
        Sketch {
            size: size.max(MAX_PROBE as u32),
            ..Sketch::default()
        }
    }

    #[inline]
    fn split(key: u32) -> (u32, u32) {
        let fp = key & 0xffff;
        (if fp == 0 { 1 } else { fp }, key)
    }

    #[inline]
    fn home(&self, key: u32) -> usize {
        // Multiply-shift range reduction (Lemire 2019, "Fast random integer generation in an interval").
        ((u64::from(key.wrapping_mul(0x9e37_79b9)) * self.slots.len() as u64) >> 32) as usize
    }

    /// The count of `key` in events (0 when absent).
    #[inline]
    pub(crate) fn count(&self, key: u32) -> f32 {
        let n = self.slots.len();
        if n == 0 {
            return 0.0;
        }
        let (fp, key) = Self::split(key);
        let mut i = self.home(key);
        for _ in 0..MAX_PROBE {
            let e = self.slots[i];
            if e == 0 {
                return 0.0;
            }
            if e >> 16 == fp {
                return (e & 0xffff) as f32 / QUARTERS;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        0.0
    }

    /// Adds `w` events to `key`. Returns false when the mass had to be dropped.
    #[inline]
    pub(crate) fn add(&mut self, key: u32, w: f32) -> bool {
        if self.slots.is_empty() {
            self.slots = vec![0; self.size as usize];
        }
        let q = (w * QUARTERS).round().clamp(0.0, 65_535.0) as u32;
        let n = self.slots.len();
        let (fp, key) = Self::split(key);
        let mut i = self.home(key);
        let mut lightest = i;
        for _ in 0..MAX_PROBE {
            let e = self.slots[i];
            if e == 0 {
                self.slots[i] = fp << 16 | q.min(0xffff);
                self.len += 1;
                return true;
            }
            if e >> 16 == fp {
                let c = ((e & 0xffff) + q).min(0xffff);
                self.slots[i] = fp << 16 | c;
                return true;
            }
            if e & 0xffff < self.slots[lightest] & 0xffff {
                lightest = i;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        let old = self.slots[lightest] & 0xffff;
        if old as f32 <= QUARTERS {
            self.dropped += old as f32 / QUARTERS;
            self.slots[lightest] = fp << 16 | q.min(0xffff);
            true
        } else {
            self.dropped += w;
            false
        }
    }

    /// Keys stored.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Mass dropped or evicted.
    pub(crate) fn dropped(&self) -> f32 {
        self.dropped
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 4
    }

    /// Multiplies every count by `f` in [0, 1]; entries that reach zero keep their slot.
    pub(crate) fn scale(&mut self, f: f32) {
        let f = f.clamp(0.0, 1.0);
        for e in &mut self.slots {
            if *e != 0 {
                let c = ((*e & 0xffff) as f32 * f) as u32;
                *e = (*e & 0xffff_0000) | c;
            }
        }
        self.dropped *= f;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_caps() {
        let mut t = CountTable::new(16);
        for k in 1..=12u32 {
            assert!(t.add(k, 1.0));
        }
        // 16 slots at 3/4 load: 12 keys fit, the 13th is dropped.
        assert!(!t.add(13, 2.0));
        assert!(t.add(5, 1.0));
        assert_eq!(t.count(5), 2.0);
        assert_eq!(t.count(13), 0.0);
        assert_eq!(t.dropped, 2.0);
        assert_eq!(t.len(), 12);
    }

    #[test]
    fn sketch_counts_evicts_and_saturates() {
        let mut s = Sketch::new(32);
        assert_eq!(s.count(7), 0.0);
        assert!(s.add(7, 1.0));
        assert!(s.add(7, 0.5));
        assert_eq!(s.count(7), 1.5);
        assert_eq!(s.heap_bytes(), 128);
        // Fill far beyond the size: the table never grows and heavy keys survive.
        for _ in 0..10 {
            s.add(99, 1.0);
        }
        for k in 1000..2000 {
            s.add(k, 1.0);
        }
        assert_eq!(s.heap_bytes(), 128);
        assert_eq!(s.count(99), 10.0);
        assert!(s.dropped() > 900.0);
        s.add(5, 1e9);
        assert_eq!(s.count(5), 16_383.75);
    }

    #[test]
    fn pair_keys_differ_by_order() {
        assert_ne!(pair_key(1, 2), pair_key(2, 1));
        assert_ne!(pair_key(0, 0), 0);
    }
}
