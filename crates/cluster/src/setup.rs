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
//!
//! [`init_cluster`] also writes every node's configuration file (`<id>.toml`) and, for nodes with
//! a TPM, pins its attestation key and the digests of the node binary and of that configuration
//! file in the membership (the reference a verifier checks quotes against).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toolcap_crypto::{Signature, SigningKey, keyfile};
use toolcap_fleet::FleetConfig;

use crate::node_loop::NodeLoopConfig;
use crate::{AttestationRef, ClusterError, Level, LinkKeys, Member, Membership, SignedMembership};

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
    let shape: Vec<(&str, Level, Option<&str>, Option<AttestationRef>)> = shape
        .iter()
        .map(|(id, level, parent)| (*id, *level, *parent, None))
        .collect();
    generate(dir, cluster, &shape)
}

fn generate(
    dir: &Path,
    cluster: &str,
    shape: &[(&str, Level, Option<&str>, Option<AttestationRef>)],
) -> Result<Membership, ClusterError> {
    let authority = SigningKey::generate_os()?;
    let mut members = Vec::new();
    let mut keys = Vec::new();
    for (id, level, parent, attestation) in shape {
        let identity = SigningKey::generate_os()?;
        let link = LinkKeys::generate()?;
        let mut member = Member::new(id, *level, *parent, identity.verifying_key(), link.public());
        member.attestation = attestation.clone();
        members.push(member);
        keys.push((*id, identity, link));
    }
    let membership = Membership {
        cluster: cluster.to_owned(),
        version: 1,
        members,
    };
    // Nothing is written for a list that would not verify.
    membership.validate()?;
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for (id, identity, link) in keys {
        keyfile::write_signing_key(&dir.join(format!("{id}.identity.key")), &identity)?;
        write_secret(&dir.join(format!("{id}.link.key")), &*link.secret())?;
    }
    let signed = SignedMembership::sign(membership.clone(), &authority);
    let mut bytes = signed.signature.to_bytes().to_vec();
    bytes.extend_from_slice(&signed.bytes);
    let path = dir.join("membership.bin");
    std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
    keyfile::write_signing_key(&dir.join("authority.key"), &authority)?;
    keyfile::write_verifying_key(&dir.join("authority.pub"), &authority.verifying_key())?;
    Ok(membership)
}

/// One node of a cluster to set up with [`init_cluster`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    /// Its id.
    pub id: String,
    /// Its level.
    pub level: Level,
    /// Its parent (none for the global node).
    pub parent: Option<String>,
    /// The TCTI of its TPM (`swtpm:host=127.0.0.1,port=2321`): its attestation key is read from
    /// it and pinned in the membership with the binary's and the config's digests.
    pub tpm: Option<String>,
    /// Its listen address.
    pub listen: std::net::SocketAddr,
}

/// A whole cluster to set up with [`init_cluster`].
#[derive(Clone, Debug)]
pub struct ClusterPlan {
    /// The cluster's name.
    pub cluster: String,
    /// Its nodes.
    pub nodes: Vec<NodeSpec>,
    /// The broker every node connects to.
    pub nats_url: String,
    /// Epoch length in milliseconds.
    pub epoch_ms: u64,
    /// Aggregators admit children only after a verified quote (every non-global node then needs
    /// a TPM).
    pub require_attestation: bool,
    /// SHA-256 of the node binary the attested nodes run (the reference for PCR 16).
    pub binary_digest: Option<[u8; 32]>,
    /// Resolves a TPM's attestation key from its TCTI (the `tpm` backend's
    /// `attestation::swtpm_attestation_key`; injectable so the plan logic needs no TPM).
    pub attestation_key: fn(&str) -> Result<Vec<u8>, ClusterError>,
}

/// A TOML basic string (TOML 1.0 §String): quotes, backslashes and control characters escaped.
fn toml_string(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The configuration file of `node` in a cluster set up in `dir` (absolute).
fn node_config(plan: &ClusterPlan, dir: &Path, node: &NodeSpec) -> String {
    let q = |p: PathBuf| toml_string(&p.display().to_string());
    let s = toml_string;
    let mut text = format!(
        "# toolcap node {id} of cluster {cluster} (written by toolcap cluster init)
         listen = {listen}
data_dir = {data}

[cluster]
nats_url = {url}
node = {idq}
         membership = {membership}
authority_key = {authority}
identity_key = {identity}
         link_key = {link}
epoch_ms = {epoch}
",
        id = node.id,
        cluster = plan.cluster,
        listen = s(&node.listen.to_string()),
        data = q(dir.join("data").join(&node.id)),
        url = s(&plan.nats_url),
        idq = s(&node.id),
        membership = q(dir.join("membership.bin")),
        authority = q(dir.join("authority.pub")),
        identity = q(dir.join(format!("{}.identity.key", node.id))),
        link = q(dir.join(format!("{}.link.key", node.id))),
        epoch = plan.epoch_ms,
    );
    if let Some(tpm) = &node.tpm {
        text.push_str(&format!(
            "tpm = {}
",
            s(tpm)
        ));
    }
    if plan.require_attestation && node.level != Level::Local {
        text.push_str(
            "require_attestation = true
",
        );
    }
    text
}

/// Sets a whole cluster up in `dir`: every node's keys, its configuration file `<id>.toml`, and
/// the signed membership, which pins each TPM-equipped node's attestation key and the digests of
/// the node binary and of its configuration file. Returns the membership.
pub fn init_cluster(dir: &Path, plan: &ClusterPlan) -> Result<Membership, ClusterError> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let dir = dir.canonicalize().map_err(|e| io(dir, e))?;
    let mut shape = Vec::new();
    let mut configs = Vec::new();
    for node in &plan.nodes {
        if plan.require_attestation && node.level != Level::Global && node.tpm.is_none() {
            return Err(ClusterError::Membership(format!(
                "require_attestation: node {:?} has no TPM",
                node.id
            )));
        }
        let text = node_config(plan, &dir, node);
        let attestation = match &node.tpm {
            None => None,
            Some(tcti) => {
                let binary = plan.binary_digest.ok_or_else(|| {
                    ClusterError::Membership("attestation needs the node binary's digest".into())
                })?;
                Some(AttestationRef {
                    key: (plan.attestation_key)(tcti)?,
                    binary,
                    config: crate::attestation::sha256(text.as_bytes()),
                })
            }
        };
        shape.push((
            node.id.as_str(),
            node.level,
            node.parent.as_deref(),
            attestation,
        ));
        configs.push((dir.join(format!("{}.toml", node.id)), text));
    }
    let membership = generate(&dir, &plan.cluster, &shape)?;
    for (path, text) in configs {
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    }
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
    /// The TCTI of this node's TPM (`swtpm:host=127.0.0.1,port=2321`): the node measures its
    /// binary and this configuration file into PCRs 16 and 23 at start and answers its parent's
    /// challenges with quotes. Needs the `tpm` build feature.
    #[serde(default)]
    pub tpm: Option<String>,
    /// SHA-256 of the configuration file this section was read from ([`crate::runtime::split_config`]
    /// sets it): what the node measures into PCR 23.
    #[serde(skip)]
    pub config_digest: Option<[u8; 32]>,
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
            require_attestation: self.require_attestation,
            attester: self.attester()?,
        })
    }

    /// This node's attester: none without `tpm`; otherwise a TPM measured with the running
    /// binary and the configuration file (fails closed if either cannot be measured).
    fn attester(&self) -> Result<Option<crate::attestation::AttestHandle>, ClusterError> {
        let Some(tcti) = &self.tpm else {
            return Ok(None);
        };
        let config = self.config_digest.ok_or_else(|| {
            ClusterError::Membership("tpm: the configuration file's digest is unknown".into())
        })?;
        let exe = std::env::current_exe().map_err(|e| io(Path::new("current_exe"), e))?;
        let binary = crate::attestation::sha256_file(&exe)?;
        spawn_attester(tcti, binary, config).map(Some)
    }
}

#[cfg(feature = "tpm")]
fn spawn_attester(
    tcti: &str,
    binary: [u8; 32],
    config: [u8; 32],
) -> Result<crate::attestation::AttestHandle, ClusterError> {
    crate::attestation::spawn_swtpm(tcti, binary, config)
}

#[cfg(not(feature = "tpm"))]
fn spawn_attester(
    _tcti: &str,
    _binary: [u8; 32],
    _config: [u8; 32],
) -> Result<crate::attestation::AttestHandle, ClusterError> {
    Err(ClusterError::Membership(
        "tpm: this build has no TPM support (build with the `tpm` feature)".into(),
    ))
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
            identity_key: dir.join("r1.identity.key"),
            link_key: dir.join("r1.link.key"),
            node: "r1".into(),
            require_attestation: true,
            ..cfg.clone()
        };
        let e = NodeLoop::new(attest.load().unwrap()).unwrap_err();
        assert!(
            e.to_string().contains("no attestation reference"),
            "fails closed without a reference for l1: {e}"
        );
        let tpm = ClusterConfig {
            tpm: Some("swtpm:host=127.0.0.1,port=1".into()),
            ..cfg.clone()
        };
        assert!(tpm.load().is_err(), "no config digest, or no TPM there");

        let path = dir.join("membership.bin");
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert!(cfg.load().is_err(), "tampered membership");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn fake_key(tcti: &str) -> Result<Vec<u8>, ClusterError> {
        // A distinct (not necessarily valid) key per TPM, so the plan logic needs no TPM.
        let mut k = vec![4u8];
        k.extend(crate::attestation::sha256(tcti.as_bytes()));
        k.extend([0u8; 32]);
        Ok(k)
    }

    #[test]
    fn init_cluster_pins_the_digest_of_each_written_config_and_needs_tpms_when_required() {
        let dir = std::env::temp_dir().join(format!("toolcap-plan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let node = |id: &str, level, parent: Option<&str>, tpm: Option<&str>| NodeSpec {
            id: id.into(),
            level,
            parent: parent.map(Into::into),
            tpm: tpm.map(Into::into),
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let mut plan = ClusterPlan {
            cluster: "p\"q".into(),
            nodes: vec![
                node("g", Level::Global, None, None),
                node("r1", Level::Regional, Some("g"), Some("swtpm:port=1")),
                node("l1", Level::Local, Some("r1"), None),
            ],
            nats_url: "nats://127.0.0.1:4222".into(),
            epoch_ms: 500,
            require_attestation: true,
            binary_digest: Some([7; 32]),
            attestation_key: fake_key,
        };
        let e = init_cluster(&dir, &plan).unwrap_err();
        assert!(e.to_string().contains("\"l1\" has no TPM"), "{e}");
        plan.nodes[2].tpm = Some("swtpm:port=3".into());
        assert!(init_cluster(&dir, &plan).is_err(), "invalid cluster name");
        plan.cluster = "p".into();
        let m = init_cluster(&dir, &plan).unwrap();
        assert!(m.member("g").unwrap().attestation.is_none());
        for id in ["r1", "l1"] {
            let text = std::fs::read(dir.join(format!("{id}.toml"))).unwrap();
            let a = m.member(id).unwrap().attestation.clone().unwrap();
            assert_eq!(a.config, crate::attestation::sha256(&text));
            assert_eq!(a.binary, [7; 32]);
            // The file is what a node loads: the same membership, its own keys.
            let (_, cluster) =
                crate::runtime::split_config(std::str::from_utf8(&text).unwrap()).unwrap();
            let cluster = cluster.unwrap();
            assert_eq!(cluster.config_digest, Some(a.config));
            let loaded = ClusterConfig {
                tpm: None,
                ..cluster
            }
            .load()
            .unwrap();
            assert_eq!(loaded.membership, m);
            assert_eq!(loaded.require_attestation, id == "r1");
        }
        assert_ne!(
            m.member("r1").unwrap().attestation.as_ref().unwrap().key,
            m.member("l1").unwrap().attestation.as_ref().unwrap().key
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
