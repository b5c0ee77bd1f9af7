//! The shape of the hierarchy: local nodes over agents, regional levels, one global node.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::record::NodeId;

/// A complete `fanout`-ary hierarchy over `agents` agents. Level 0 holds the local nodes (each
/// summarising up to `fanout` agents); each higher level groups up to `fanout` nodes of the
/// level below; the top level has exactly one node, the global one. Node ids are dense, level
/// by level, so a membership list can be a vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    agents: u64,
    fanout: u64,
    /// Node count per level, level 0 first.
    sizes: Vec<u64>,
    /// First node id of each level.
    offsets: Vec<u64>,
}

impl Topology {
    /// The hierarchy for `agents` agents with fan-in `fanout` (at least 2). There are always
    /// at least two levels, so even a lone local node has a certified parent.
    pub fn new(agents: u64, fanout: u64) -> Result<Self> {
        if agents == 0 {
            return Err(Error::Config("at least one agent"));
        }
        if fanout < 2 {
            return Err(Error::Config("fan-in must be at least 2"));
        }
        let mut sizes = vec![agents.div_ceil(fanout)];
        while let Some(&last) = sizes.last() {
            if last == 1 && sizes.len() >= 2 {
                break;
            }
            sizes.push(last.div_ceil(fanout));
        }
        let mut offsets = Vec::with_capacity(sizes.len());
        let mut acc = 0u64;
        for s in &sizes {
            offsets.push(acc);
            acc += s;
        }
        Ok(Topology {
            agents,
            fanout,
            sizes,
            offsets,
        })
    }
    /// Agents in the fleet.
    pub fn agents(&self) -> u64 {
        self.agents
    }
    /// The fan-in.
    pub fn fanout(&self) -> u64 {
        self.fanout
    }
    /// Number of levels (local, regional levels, global).
    pub fn levels(&self) -> usize {
        self.sizes.len()
    }
    /// The top level's index (where the global node is).
    pub fn top(&self) -> u8 {
        (self.sizes.len() - 1) as u8
    }
    /// Nodes at `level`.
    pub fn size(&self, level: u8) -> u64 {
        self.sizes.get(usize::from(level)).copied().unwrap_or(0)
    }
    /// Total nodes.
    pub fn nodes(&self) -> u64 {
        self.sizes.iter().sum()
    }
    /// The id of the `index`-th node of `level`.
    pub fn id(&self, level: u8, index: u64) -> NodeId {
        NodeId(self.offsets.get(usize::from(level)).copied().unwrap_or(0) + index)
    }
    /// The global node.
    pub fn root(&self) -> NodeId {
        self.id(self.top(), 0)
    }
    /// `(level, index)` of a node id.
    pub fn locate(&self, node: NodeId) -> Option<(u8, u64)> {
        for (l, (&o, &s)) in self.offsets.iter().zip(&self.sizes).enumerate() {
            if node.0 >= o && node.0 < o + s {
                return Some((l as u8, node.0 - o));
            }
        }
        None
    }
    /// Indices (within level `level - 1`, or agent indices for level 0) of the children of
    /// the `index`-th node of `level`.
    pub fn children(&self, level: u8, index: u64) -> Range<u64> {
        let below = if level == 0 {
            self.agents
        } else {
            self.size(level - 1)
        };
        let start = (index * self.fanout).min(below);
        start..((index + 1) * self.fanout).min(below)
    }
    /// Ids of the children (the committee) of the `index`-th node of `level >= 1`.
    pub fn committee(&self, level: u8, index: u64) -> Vec<NodeId> {
        if level == 0 {
            return Vec::new();
        }
        self.children(level, index)
            .map(|i| self.id(level - 1, i))
            .collect()
    }
    /// The parent `(level + 1, index)` of the `index`-th node of `level`, none for the root.
    pub fn parent(&self, level: u8, index: u64) -> Option<(u8, u64)> {
        (level < self.top()).then(|| (level + 1, index / self.fanout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn million_agents_fan_in_64() {
        let t = Topology::new(1_000_000, 64).unwrap();
        assert_eq!(
            (0..t.levels() as u8).map(|l| t.size(l)).collect::<Vec<_>>(),
            vec![15625, 245, 4, 1]
        );
        assert_eq!(t.children(0, 15624), 999_936..1_000_000);
        assert_eq!(t.children(1, 244), 15616..15625);
        assert_eq!(t.root(), NodeId(15625 + 245 + 4));
        assert_eq!(t.locate(t.id(1, 3)), Some((1, 3)));
        assert_eq!(t.parent(2, 3), Some((3, 0)));
        assert_eq!(t.parent(3, 0), None);
    }

    #[test]
    fn small_fleets_still_have_a_root() {
        let t = Topology::new(10, 64).unwrap();
        assert_eq!(t.levels(), 2);
        assert_eq!(t.committee(1, 0), vec![NodeId(0)]);
        assert!(Topology::new(0, 64).is_err());
        assert!(Topology::new(10, 1).is_err());
    }
}
