//! Behaviour fingerprints (SimHash) and a banded LSH index over them.
//!
//! SimHash (Charikar, "Similarity estimation techniques from rounding algorithms", STOC 2002):
//! each feature gets a pseudo-random ±1 vector of 64 signs; a fingerprint bit is the sign of the
//! weighted sum of the features' signs in that position. The Hamming distance between two
//! fingerprints estimates the angle between the feature vectors. The sign vectors come from
//! ChaCha20 keyed with a secret drawn from a caller-supplied CSPRNG (the feature id selects the
//! stream), so an agent cannot choose behaviour that lands next to, or away from, a target.
//! The index splits fingerprints into bands (Indyk-Motwani LSH; Leskovec, Rajaraman, Ullman,
//! "Mining of Massive Datasets", 3.4): only agents sharing a band are ever compared.

use std::collections::HashMap;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, Rng, SeedableRng};

use crate::event::Event;
use crate::monitor::AgentId;
use crate::profile::CAP_BITS;

/// A sparse, non-negative or signed feature vector: `(feature, weight)` sorted by feature.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features(Vec<(u64, f32)>);

/// Feature ids of capability bits live above every command id.
const CAP_FEATURE: u64 = 1 << 32;

impl Features {
    /// Relative frequencies of commands and capability flags in `events` (each group sums to 1).
    pub fn from_events(events: &[Event]) -> Features {
        let mut m: HashMap<u64, f32> = HashMap::new();
        let mut caps = 0.0f32;
        for e in events {
            *m.entry(u64::from(e.command.raw())).or_default() += 1.0;
            let mut bits = e.caps.bits() & ((1 << CAP_BITS) - 1);
            while bits != 0 {
                *m.entry(CAP_FEATURE | u64::from(bits.trailing_zeros()))
                    .or_default() += 1.0;
                caps += 1.0;
                bits &= bits - 1;
            }
        }
        let n = events.len().max(1) as f32;
        let mut v: Vec<(u64, f32)> = m
            .into_iter()
            .map(|(k, c)| {
                (
                    k,
                    if k >= CAP_FEATURE {
                        c / caps.max(1.0)
                    } else {
                        c / n
                    },
                )
            })
            .collect();
        v.sort_by_key(|(k, _)| *k);
        Features(v)
    }

    /// From explicit pairs (duplicates are summed).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u64, f32)>) -> Features {
        let mut v: Vec<(u64, f32)> = pairs.into_iter().filter(|(_, w)| w.is_finite()).collect();
        v.sort_by_key(|(k, _)| *k);
        let mut out: Vec<(u64, f32)> = Vec::with_capacity(v.len());
        for (k, w) in v {
            match out.last_mut() {
                Some((lk, lw)) if *lk == k => *lw += w,
                _ => out.push((k, w)),
            }
        }
        Features(out)
    }

    /// `after - self`: how behaviour shifted.
    pub fn shift_to(&self, after: &Features) -> Features {
        Features::from_pairs(
            self.0
                .iter()
                .map(|(k, w)| (*k, -w))
                .chain(after.0.iter().copied()),
        )
    }

    /// Sum of absolute weights.
    pub fn l1(&self) -> f32 {
        self.0.iter().map(|(_, w)| w.abs()).sum()
    }

    /// The pairs.
    pub fn pairs(&self) -> &[(u64, f32)] {
        &self.0
    }

    fn weight(&self, k: u64) -> f32 {
        self.0
            .binary_search_by_key(&k, |(f, _)| *f)
            .map_or(0.0, |i| self.0[i].1)
    }
}

/// A 64-bit SimHash fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Differing bits.
    pub fn distance(self, other: Fingerprint) -> u32 {
        (self.0 ^ other.0).count_ones()
    }
}

/// Computes fingerprints with a secret projection.
pub struct SimHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for SimHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimHasher { key: <secret> }")
    }
}

impl SimHasher {
    /// A hasher whose projection key is drawn from `rng`.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> SimHasher {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        SimHasher { key }
    }

    /// The 64 signs of feature `k` (bit set = +1).
    fn signs(&self, k: u64) -> u64 {
        let mut rng = ChaCha20Rng::from_seed(self.key);
        rng.set_stream(k);
        rng.next_u64()
    }

    /// The fingerprint of a feature vector.
    pub fn fingerprint(&self, f: &Features) -> Fingerprint {
        let mut acc = [0.0f32; 64];
        for (k, w) in &f.0 {
            let s = self.signs(*k);
            for (i, a) in acc.iter_mut().enumerate() {
                if s >> i & 1 == 1 {
                    *a += w;
                } else {
                    *a -= w;
                }
            }
        }
        Fingerprint(
            acc.iter()
                .enumerate()
                .fold(0u64, |fp, (i, a)| if *a > 0.0 { fp | 1 << i } else { fp }),
        )
    }
}

/// Agents' fingerprints indexed by bands.
#[derive(Clone, Debug)]
pub struct LshIndex {
    bands: u32,
    bits: u32,
    fingerprints: Vec<(AgentId, Fingerprint)>,
    buckets: HashMap<(u32, u64), Vec<u32>>,
}

/// Agents found similar, with the work it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbours {
    /// `(agent, distance)`, nearest first.
    pub agents: Vec<(AgentId, u32)>,
    /// Fingerprint comparisons made.
    pub comparisons: u64,
}

/// Groups of mutually similar agents, with the work it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Groups {
    /// Each group's members, sorted; groups sorted by size, largest first.
    pub groups: Vec<Vec<AgentId>>,
    /// Fingerprint comparisons made (all pairs would be `n (n - 1) / 2`).
    pub comparisons: u64,
}

/// Members of one band bucket compared with each newcomer when grouping: bounds the work on a
/// bucket of near-identical agents to linear instead of quadratic.
const GROUP_FANOUT: usize = 8;

impl LshIndex {
    /// An index with `bands` bands (1..=64; each band has `64 / bands` bits). More bands find
    /// more distant neighbours and cost more comparisons.
    pub fn new(bands: u32) -> LshIndex {
        let bands = bands.clamp(1, 64);
        LshIndex {
            bands,
            bits: 64 / bands,
            fingerprints: Vec::new(),
            buckets: HashMap::new(),
        }
    }

    fn band(&self, fp: Fingerprint, b: u32) -> u64 {
        let mask = if self.bits == 64 {
            u64::MAX
        } else {
            (1u64 << self.bits) - 1
        };
        fp.0 >> (b * self.bits) & mask
    }

    /// Adds an agent.
    pub fn insert(&mut self, agent: AgentId, fp: Fingerprint) {
        let i = self.fingerprints.len() as u32;
        self.fingerprints.push((agent, fp));
        for b in 0..self.bands {
            self.buckets
                .entry((b, self.band(fp, b)))
                .or_default()
                .push(i);
        }
    }

    /// Agents indexed.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Up to `k` agents within `max_distance` of `fp`, from those sharing a band with it.
    pub fn nearest(&self, fp: Fingerprint, k: usize, max_distance: u32) -> Neighbours {
        let mut seen: Vec<u32> = Vec::new();
        for b in 0..self.bands {
            if let Some(v) = self.buckets.get(&(b, self.band(fp, b))) {
                seen.extend_from_slice(v);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let comparisons = seen.len() as u64;
        let mut agents: Vec<(AgentId, u32)> = seen
            .into_iter()
            .filter_map(|i| self.fingerprints.get(i as usize))
            .map(|(a, f)| (*a, f.distance(fp)))
            .filter(|(_, d)| *d <= max_distance)
            .collect();
        agents.sort_by_key(|(a, d)| (*d, *a));
        agents.truncate(k);
        Neighbours {
            agents,
            comparisons,
        }
    }

    /// Groups of at least `min_size` agents linked by chains of fingerprints within
    /// `max_distance`, found through shared bands only.
    pub fn groups(&self, max_distance: u32, min_size: usize) -> Groups {
        let n = self.fingerprints.len();
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn root(p: &mut [u32], mut i: u32) -> u32 {
            while p[i as usize] != i {
                p[i as usize] = p[p[i as usize] as usize];
                i = p[i as usize];
            }
            i
        }
        let mut comparisons = 0u64;
        let mut keys: Vec<&(u32, u64)> = self.buckets.keys().collect();
        keys.sort_unstable();
        for key in keys {
            let Some(members) = self.buckets.get(key) else {
                continue;
            };
            for (j, &m) in members.iter().enumerate() {
                for &o in &members[j.saturating_sub(GROUP_FANOUT)..j] {
                    comparisons += 1;
                    let (fm, fo) = (
                        self.fingerprints[m as usize].1,
                        self.fingerprints[o as usize].1,
                    );
                    if fm.distance(fo) <= max_distance {
                        let (a, b) = (root(&mut parent, m), root(&mut parent, o));
                        if a != b {
                            parent[a.max(b) as usize] = a.min(b);
                        }
                    }
                }
            }
        }
        let mut by_root: HashMap<u32, Vec<AgentId>> = HashMap::new();
        for i in 0..n as u32 {
            let r = root(&mut parent, i);
            by_root
                .entry(r)
                .or_default()
                .push(self.fingerprints[i as usize].0);
        }
        let mut groups: Vec<Vec<AgentId>> = by_root
            .into_values()
            .filter(|g| g.len() >= min_size.max(2))
            .collect();
        for g in &mut groups {
            g.sort_unstable();
        }
        groups.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        Groups {
            groups,
            comparisons,
        }
    }
}

/// Agents whose behaviour shifted (L1 shift at least `min_shift`) in similar directions: the
/// shifts are fingerprinted and grouped through an [`LshIndex`] of `bands` bands.
pub fn shifted_together(
    hasher: &SimHasher,
    agents: &[(AgentId, Features, Features)],
    min_shift: f32,
    bands: u32,
    max_distance: u32,
    min_size: usize,
) -> Groups {
    let mut index = LshIndex::new(bands);
    for (id, before, after) in agents {
        let shift = before.shift_to(after);
        if shift.l1() >= min_shift {
            index.insert(*id, hasher.fingerprint(&shift));
        }
    }
    index.groups(max_distance, min_size)
}

/// Pearson correlations between the members' feature vectors (over the union of their features),
/// as a row-major `n x n` matrix, and the mean off-diagonal correlation.
pub fn correlation(members: &[&Features]) -> (Vec<f64>, f64) {
    let mut keys: Vec<u64> = members
        .iter()
        .flat_map(|f| f.0.iter().map(|(k, _)| *k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let dense: Vec<Vec<f64>> = members
        .iter()
        .map(|f| keys.iter().map(|k| f64::from(f.weight(*k))).collect())
        .collect();
    let n = members.len();
    let mut m = vec![0.0; n * n];
    let (mut sum, mut pairs) = (0.0, 0usize);
    for i in 0..n {
        for j in 0..n {
            let r = if i == j {
                1.0
            } else {
                pearson(&dense[i], &dense[j])
            };
            m[i * n + j] = r;
            if i < j {
                sum += r;
                pairs += 1;
            }
        }
    }
    (m, if pairs == 0 { 1.0 } else { sum / pairs as f64 })
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().max(1) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}
