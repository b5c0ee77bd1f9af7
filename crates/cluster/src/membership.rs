//! The signed membership list.

use toolcap_crypto::{Canonical, Decoder, Encoder, Signature, SigningKey, VerifyingKey};

use crate::ClusterError;

/// A node's level in the aggregation hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// Aggregates agents.
    Local,
    /// Aggregates local nodes.
    Regional,
    /// Aggregates regional nodes; the root.
    Global,
}

impl Level {
    fn code(self) -> u8 {
        match self {
            Level::Local => 0,
            Level::Regional => 1,
            Level::Global => 2,
        }
    }
    fn from_code(c: u8) -> Option<Level> {
        match c {
            0 => Some(Level::Local),
            1 => Some(Level::Regional),
            2 => Some(Level::Global),
            _ => None,
        }
    }
    /// The lowercase name used in subjects and configs.
    pub fn name(self) -> &'static str {
        match self {
            Level::Local => "local",
            Level::Regional => "regional",
            Level::Global => "global",
        }
    }
}

/// One node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The node's id: `[A-Za-z0-9_-]{1,64}` (it appears in broker subjects).
    pub id: String,
    /// Its level.
    pub level: Level,
    /// The node it reports to (none for the global node).
    pub parent: Option<String>,
    /// Its Ed25519 identity key: it signs the node's summaries, evidence and clock entries.
    pub identity: VerifyingKey,
    /// Its X25519 static link key (Noise).
    pub link_key: [u8; 32],
    /// What its attestation must show, when its parent requires attestation.
    pub attestation: Option<AttestationRef>,
}

/// The authority's reference for a node's attestation: the TPM attestation key it pins and the
/// measurements a quote must prove (SHA-256 of the node binary into PCR 16, of its configuration
/// file into PCR 23).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationRef {
    /// The TPM attestation key, SEC1-encoded P-256 (`0x04 || x || y`).
    pub key: Vec<u8>,
    /// SHA-256 of the node binary.
    pub binary: [u8; 32],
    /// SHA-256 of the node's configuration file.
    pub config: [u8; 32],
}

impl AttestationRef {
    /// The measurement log a verifier expects, in the order the node extends it.
    pub fn reference_log(&self) -> toolcap_attest::MeasurementLog {
        let mut log = toolcap_attest::MeasurementLog::default();
        log.push(toolcap_attest::Measurement {
            pcr: toolcap_attest::PCR_BINARY,
            label: "binary".to_owned(),
            digest: self.binary,
        });
        log.push(toolcap_attest::Measurement {
            pcr: toolcap_attest::PCR_CONFIG,
            label: "config".to_owned(),
            digest: self.config,
        });
        log
    }
}

impl Member {
    /// A member without an attestation key.
    pub fn new(
        id: &str,
        level: Level,
        parent: Option<&str>,
        identity: VerifyingKey,
        link_key: [u8; 32],
    ) -> Member {
        Member {
            id: id.to_owned(),
            level,
            parent: parent.map(str::to_owned),
            identity,
            link_key,
            attestation: None,
        }
    }
}

/// The list of a cluster's nodes, at a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The cluster's name.
    pub cluster: String,
    /// Increases with every change; a node never goes back to an older list.
    pub version: u64,
    /// The nodes.
    pub members: Vec<Member>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Membership {
    /// The member with this id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// The members whose parent is `id`.
    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Member> + 'a {
        self.members
            .iter()
            .filter(move |m| m.parent.as_deref() == Some(id))
    }

    /// Checks the list's own consistency: valid unique ids, parents that exist one level up,
    /// exactly one global node, distinct keys.
    pub fn validate(&self) -> Result<(), ClusterError> {
        let bad = |m: String| Err(ClusterError::Membership(m));
        if !valid_id(&self.cluster) {
            return bad(format!(
                "cluster name {:?} is not [A-Za-z0-9_-]{{1,64}}",
                self.cluster
            ));
        }
        let mut globals = 0;
        for (i, m) in self.members.iter().enumerate() {
            if !valid_id(&m.id) {
                return bad(format!("node id {:?} is not [A-Za-z0-9_-]{{1,64}}", m.id));
            }
            if let Some(other) = self.members[..i]
                .iter()
                .find(|o| o.id == m.id || o.identity == m.identity || o.link_key == m.link_key)
            {
                return bad(format!(
                    "nodes {:?} and {:?} share an id or a key",
                    other.id, m.id
                ));
            }
            match (m.level, &m.parent) {
                (Level::Global, None) => globals += 1,
                (Level::Global, Some(_)) => {
                    return bad(format!("global node {:?} has a parent", m.id));
                }
                (_, None) => return bad(format!("node {:?} has no parent", m.id)),
                (level, Some(p)) => {
                    let want = if level == Level::Local {
                        Level::Regional
                    } else {
                        Level::Global
                    };
                    match self.member(p) {
                        Some(parent) if parent.level == want => {}
                        Some(_) => {
                            return bad(format!("parent {p:?} of {:?} is not one level up", m.id));
                        }
                        None => return bad(format!("parent {p:?} of {:?} is not a member", m.id)),
                    }
                }
            }
        }
        if globals != 1 {
            return bad(format!("{globals} global nodes (exactly one expected)"));
        }
        Ok(())
    }
}

impl Canonical for Membership {
    const TAG: &'static [u8] = b"toolcap/cluster/membership/v1";
    // Version 2: a member's attestation reference is a key and two measurements.
    const VERSION: u16 = 2;

    fn encode_body(&self, enc: &mut Encoder) {
        enc.str(&self.cluster)
            .u64(self.version)
            .seq(self.members.len());
        for m in &self.members {
            enc.str(&m.id).u8(m.level.code());
            match &m.parent {
                Some(p) => enc.bool(true).str(p),
                None => enc.bool(false),
            };
            enc.array(&m.identity.to_bytes()).array(&m.link_key);
            match &m.attestation {
                Some(a) => enc
                    .bool(true)
                    .bytes(&a.key)
                    .array(&a.binary)
                    .array(&a.config),
                None => enc.bool(false),
            };
        }
    }

    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        let cluster = dec.str()?.to_owned();
        let version = dec.u64()?;
        let n = dec.seq()?;
        let mut members = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let id = dec.str()?.to_owned();
            let level = Level::from_code(dec.u8()?)
                .ok_or(toolcap_crypto::Error::InvalidField("membership level"))?;
            let parent = if dec.bool()? {
                Some(dec.str()?.to_owned())
            } else {
                None
            };
            let identity = VerifyingKey::from_bytes(&dec.array()?)?;
            let link_key = dec.array()?;
            let attestation = if dec.bool()? {
                Some(AttestationRef {
                    key: dec.bytes()?.to_vec(),
                    binary: dec.array()?,
                    config: dec.array()?,
                })
            } else {
                None
            };
            members.push(Member {
                id,
                level,
                parent,
                identity,
                link_key,
                attestation,
            });
        }
        Ok(Membership {
            cluster,
            version,
            members,
        })
    }
}

/// A membership list with the cluster authority's signature over its canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedMembership {
    /// The canonical bytes of the list, as signed.
    pub bytes: Vec<u8>,
    /// The authority's signature.
    pub signature: Signature,
}

impl SignedMembership {
    /// Signs `membership` with the cluster authority's key.
    pub fn sign(membership: Membership, authority: &SigningKey) -> SignedMembership {
        let bytes = membership.to_canonical();
        let signature = authority.sign(Membership::TAG, &bytes);
        SignedMembership { bytes, signature }
    }

    /// Verifies the signature (strictly), decodes and validates the list.
    pub fn verify(&self, authority: &VerifyingKey) -> Result<Membership, ClusterError> {
        authority.verify(Membership::TAG, &self.bytes, &self.signature)?;
        let m = Membership::from_canonical(&self.bytes)?;
        m.validate()?;
        Ok(m)
    }
}
