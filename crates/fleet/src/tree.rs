//! The signed tree of one epoch, and its verification from the leaves up.

use crate::error::{Error, Result};
use crate::node::{FleetConfig, aggregate};
use crate::quorum::Certificate;
use crate::record::{Membership, Signed, Summary, verify_all};
use crate::topology::Topology;

/// One node's place in an epoch's tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// What the node itself signed and published.
    pub proposal: Signed<Summary>,
    /// The summary that counts: for local nodes the proposal; for aggregators the summary the
    /// certificate names (the proposal when the node was honest, otherwise the committee's
    /// recomputation).
    pub accepted: Summary,
    /// The committee's quorum certificate over `accepted` (none for local nodes).
    pub certificate: Option<Certificate>,
}

/// Every position of one epoch, level by level, in node order.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochTree {
    /// The epoch.
    pub epoch: u64,
    /// `levels[l][i]` is the `i`-th node of level `l`.
    pub levels: Vec<Vec<Position>>,
}

impl EpochTree {
    /// The global summary (the accepted summary at the top), if the tree has one.
    pub fn global(&self) -> Option<&Summary> {
        self.levels
            .last()
            .and_then(|l| l.first())
            .map(|p| &p.accepted)
    }
}

/// Verifies a signed epoch tree from the leaves up and returns its global summary.
///
/// Checked, for every position: the fields name this epoch, level and node; the node's own
/// signature over its proposal (batch verification per level); for local nodes that the
/// accepted summary is the proposal; for aggregators the committee's certificate (a quorum of
/// distinct members, every endorsement signature), that it names the accepted summary's hash,
/// that the children count and the Merkle root of the children's accepted summaries match, and
/// that the robust merge of those children (with the published quarantine list) reproduces the
/// output bit for bit. Any change to any field anywhere is therefore found.
pub fn verify(
    tree: &EpochTree,
    topo: &Topology,
    members: &Membership,
    cfg: &FleetConfig,
) -> Result<Summary> {
    if tree.levels.len() != topo.levels() {
        return Err(Error::Tampered {
            level: 0,
            node: topo.root(),
            what: "number of levels",
        });
    }
    for (l, positions) in tree.levels.iter().enumerate() {
        let level = l as u8;
        if positions.len() as u64 != topo.size(level) {
            return Err(Error::Tampered {
                level,
                node: topo.id(level, 0),
                what: "number of nodes",
            });
        }
        let proposals: Vec<&Signed<Summary>> = positions.iter().map(|p| &p.proposal).collect();
        if let Some(&bad) = verify_all(&proposals, members).first() {
            return Err(Error::Tampered {
                level,
                node: topo.id(level, bad as u64),
                what: "node signature",
            });
        }
        for (i, p) in positions.iter().enumerate() {
            let node = topo.id(level, i as u64);
            let fail = |what| Error::Tampered { level, node, what };
            let s = &p.accepted;
            if p.proposal.signer != node || p.proposal.record.node != node {
                return Err(fail("proposal signer"));
            }
            if s.epoch != tree.epoch || s.level != level || s.node != node {
                return Err(fail("epoch, level or node field"));
            }
            if s.clip != cfg.clip {
                return Err(fail("clipping box"));
            }
            if level == 0 {
                if p.certificate.is_some() || *s != p.proposal.record {
                    return Err(fail("local summary differs from its signed proposal"));
                }
                continue;
            }
            let committee = topo.committee(level, i as u64);
            let cert = p.certificate.as_ref().ok_or(fail("missing certificate"))?;
            if cert.epoch != tree.epoch || cert.level != level || cert.node != node {
                return Err(fail("certificate fields"));
            }
            if cert.output != s.hash() {
                return Err(fail("certificate names another summary"));
            }
            cert.verify(&committee, cfg.threshold, members)
                .map_err(|_| fail("certificate"))?;
            let below = &tree.levels[l - 1];
            let range = topo.children(level, i as u64);
            let children: Vec<&Summary> = below
                .get(range.start as usize..range.end as usize)
                .ok_or(fail("children missing"))?
                .iter()
                .map(|c| &c.accepted)
                .collect();
            if s.quarantined.iter().any(|q| !committee.contains(q)) {
                return Err(fail("quarantine names a non-child"));
            }
            let again = aggregate(cfg, tree.epoch, level, node, &children, &s.quarantined)
                .map_err(|_| fail("output cannot be recomputed"))?;
            if again.summary.children_root != s.children_root {
                return Err(fail("children root"));
            }
            if again.summary.children != s.children {
                return Err(fail("children count"));
            }
            if again.summary != *s {
                return Err(fail("output differs from the recomputation"));
            }
        }
    }
    tree.global().cloned().ok_or(Error::Tampered {
        level: topo.top(),
        node: topo.root(),
        what: "no global summary",
    })
}
