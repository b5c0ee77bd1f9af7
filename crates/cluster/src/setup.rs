//! Setting a cluster up: generating every node's keys and the signed membership list
//! ([`init`]), the `[cluster]` configuration section of a node ([`ClusterConfig`]), and loading
//! a node's protocol configuration from it ([`ClusterConfig::load`]).
//!
//! Files written by [`init`] into one directory (hand each node only its own key files):
//! - `authority.key` / `authority.pub`: the cluster authority's Ed25519 key pair (keep the
//!   secret offline; nodes need only the public key);
//! - `membership.bin`: the authority's 64-byte signature followed by the list's canonical bytes;
//! - `<id>.identity.key`: the node's Ed25519 identity key (toolcap key file format);
//! - `<id>.link.key`: the node's 32-byte X25519 link secret (mode 0600).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toolcap_crypto::{Signature, SigningKey, keyfile};
use toolcap_fleet::FleetConfig;

use crate::node_loop::NodeLoopConfig;
use crate::{ClusterError, Level, LinkKeys, Member, Membership, SignedMembership};

fn io(path: &Path, e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Membership(format!("{}: {e}", path.display()))
}

fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), ClusterError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| io(path, e))?;
    f.write_all(bytes).map_err(|e| io(path, e))?;
    f.sync_all().map_err(|e| io(path, e))
}

/// Generates keys for every node of `shape` (id, level, parent) and the authority-signed
/// membership list, written into `dir` (created). Returns the membership.
pub fn init(
    dir: &Path,
    cluster: &str,
    shape: &[(&str, Level, Option<&str>)],
) -> Result<Membership, ClusterError> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let authority = SigningKey::generate_os()?;
    let mut members = Vec::new();
    for (id, level, parent) in shape {
        let identity = SigningKey::generate_os()?;
        let link = LinkKeys::generate()?;
        members.push(Member::new(
            id,
            *level,
            *parent,
            identity.verifying_key(),
            link.public(),
        ));
        keyfile::write_signing_key(&dir.join(format!("{id}.identity.key")), &identity)?;
        write_secret(&dir.join(format!("{id}.link.key")), &*link.secret())?;
    }
    let membership = Membership {
        cluster: cluster.to_owned(),
        version: 1,
        members,
    };
    membership.validate()?;
    let signed = SignedMembership::sign(membership.clone(), &authority);
    let mut bytes = signed.signature.to_bytes().to_vec();
    bytes.extend_from_slice(&signed.bytes);
    let path = dir.join("membership.bin");
    std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
    keyfile::write_signing_key(&dir.join("authority.key"), &authority)?;
    keyfile::write_verifying_key(&dir.join("authority.pub"), &authority.verifying_key())?;
    Ok(membership)
}

/// Reads `membership.bin` and verifies it against the authority's public key.
pub fn read_membership(path: &Path, authority: &Path) -> Result<Membership, ClusterError> {
    let authority = keyfile::read_verifying_key(authority)?;
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    if bytes.len() < 64 {
        return Err(ClusterError::Membership(format!(
            "{}: too short",
            path.display()
        )));
    }
    let signed = SignedMembership {
        signature: Signature::from_slice(&bytes[..64])?,
        bytes: bytes[64..].to_vec(),
    };
    signed.verify(&authority)
}

fn default_epoch_ms() -> u64 {
    1000
}
fn default_lo() -> f64 {
    -10.0
}
fn default_hi() -> f64 {
    10.0
}

/// The `[cluster]` section of a node's configuration.
///
/// ```toml
/// [cluster]
/// nats_url = "nats://127.0.0.1:4222"
/// node = "l11"
/// membership = "keys/membership.bin"
/// authority_key = "keys/authority.pub"
/// identity_key = "keys/l11.identity.key"
/// link_key = "keys/l11.link.key"
/// epoch_ms = 1000
/// ```
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// The broker.
    pub nats_url: String,
    /// This node's id in the membership.
    pub node: String,
    /// The signed membership file.
    pub membership: PathBuf,
    /// The cluster authority's public key file.
    pub authority_key: PathBuf,
    /// This node's identity key file.
    pub identity_key: PathBuf,
    /// This node's link key file.
    pub link_key: PathBuf,
    /// Epoch length in milliseconds (100 to 3 600 000).
    #[serde(default = "default_epoch_ms")]
    pub epoch_ms: u64,
    /// Lower edge of the clipping box on every coordinate.
    #[serde(default = "default_lo")]
    pub clip_lo: f64,
    /// Upper edge of the clipping box on every coordinate.
    #[serde(default = "default_hi")]
    pub clip_hi: f64,
    /// Require a valid attestation quote before a peer joins.
    #[serde(default)]
    pub require_attestation: bool,
    /// SIMULATION SWITCH for tests and demos: a local node shifts the mean it reports by this
    /// much (poisoned but validly signed summaries). Zero, the default, is an honest node.
    #[serde(default)]
    pub byzantine_shift: f64,
}

/// The dimension of the per-agent statistics the node reports.
pub const STAT_DIM: usize = 2;

impl ClusterConfig {
    /// Reads and checks the files: the membership must verify under the authority's key, and
    /// this node's keys must be the ones it lists.
    pub fn load(&self) -> Result<NodeLoopConfig, ClusterError> {
        if !(100..=3_600_000).contains(&self.epoch_ms) {
            return Err(ClusterError::Membership(
                "epoch_ms must be in 100..=3600000".into(),
            ));
        }
        if self.require_attestation {
            // Fail closed: quotes are not yet exchanged over the cluster link, so no peer could
            // ever satisfy the requirement.
            return Err(ClusterError::Membership(
                "require_attestation: peer quotes are not exchanged by this version".into(),
            ));
        }
        let membership = read_membership(&self.membership, &self.authority_key)?;
        let identity = keyfile::read_signing_key(&self.identity_key)?;
        let secret = std::fs::read(&self.link_key).map_err(|e| io(&self.link_key, e))?;
        let secret: [u8; 32] = secret
            .try_into()
            .map_err(|_| io(&self.link_key, "not a 32-byte link key"))?;
        let link = LinkKeys::from_secret(&secret)?;
        let fleet = FleetConfig::new(STAT_DIM, self.clip_lo, self.clip_hi)
            .map_err(|e| ClusterError::Membership(format!("fleet: {e}")))?;
        Ok(NodeLoopConfig {
            me: self.node.clone(),
            identity,
            link,
            membership,
            epoch: Duration::from_millis(self.epoch_ms),
            fleet,
            byzantine_shift: self.byzantine_shift,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_loop::NodeLoop;

    #[test]
    fn init_writes_files_a_node_loads_and_tampering_is_refused() {
        let dir = std::env::temp_dir().join(format!("toolcap-setup-{}", std::process::id()));
        let shape = [
            ("g", Level::Global, None),
            ("r1", Level::Regional, Some("g")),
            ("l1", Level::Local, Some("r1")),
        ];
        let m = init(&dir, "t", &shape).unwrap();
        let cfg: ClusterConfig = toml::from_str(&format!(
            "nats_url = \"nats://127.0.0.1:4222\"\nnode = \"l1\"\nmembership = \"{d}/membership.bin\"\n\
             authority_key = \"{d}/authority.pub\"\nidentity_key = \"{d}/l1.identity.key\"\n\
             link_key = \"{d}/l1.link.key\"\n",
            d = dir.display()
        ))
        .unwrap();
        let loaded = cfg.load().unwrap();
        assert_eq!(loaded.membership, m);
        assert!(NodeLoop::new(loaded).is_ok());

        let wrong = ClusterConfig {
            identity_key: dir.join("r1.identity.key"),
            ..cfg.clone()
        };
        assert!(
            NodeLoop::new(wrong.load().unwrap()).is_err(),
            "r1's key is not l1's"
        );
        let attest = ClusterConfig {
            require_attestation: true,
            ..cfg.clone()
        };
        assert!(attest.load().is_err(), "fails closed");

        let path = dir.join("membership.bin");
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert!(cfg.load().is_err(), "tampered membership");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
