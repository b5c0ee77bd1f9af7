//! `none`: Byzantine nodes are placed but behave exactly as honest ones (the false-alarm run).

use super::{Attack, AttackEntry};

pub(super) const ENTRY: AttackEntry = AttackEntry {
    name: "none",
    about: "no attack: Byzantine nodes behave honestly (measures false alarms)",
    build: || Box::new(NoAttack),
};

#[derive(Debug)]
struct NoAttack;

impl Attack for NoAttack {}
