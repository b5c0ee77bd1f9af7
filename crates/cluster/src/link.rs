//! Sealed frames: Noise one-way `K` messages, one per frame.
//!
//! Frame layout: `magic "TCF1" (0x54 0x43 0x46 0x31) || u16 header length || header || noise`,
//! where the header is the canonical encoding of [`FrameHeader`] and is the Noise prologue, so a
//! broker that edits the routing header makes the frame fail authentication.
//!
//! Noise `K` (Noise spec rev. 34 §7.4): `-> s, <- s, ..., -> e, es, ss`. Both static keys are known
//! in advance (from the signed membership list); the sender's ephemeral key is fresh per frame,
//! so each frame has its own encryption key, and the `ss` term authenticates the sender. One-way
//! patterns give no replay protection of their own: that is the sequence-number window below.

use std::collections::HashMap;

use toolcap_crypto::{Canonical, Decoder, Encoder};
use zeroize::Zeroizing;

use crate::{ClusterError, Membership};

const NOISE_PARAMS: &str = "Noise_K_25519_ChaChaPoly_SHA256";
const MAGIC: [u8; 4] = [0x54, 0x43, 0x46, 0x31];
/// A Noise message is at most 65535 bytes; the `K` message spends 32 (ephemeral) + 16 (tag).
pub const MAX_PAYLOAD: usize = 65535 - 32 - 16;
/// How far behind the newest sequence number a frame may arrive and still be accepted once.
const WINDOW: u64 = 1024;

/// What a frame carries (the receiver dispatches on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// A signed aggregation summary.
    Summary,
    /// A co-signature for a quorum certificate.
    CoSign,
    /// A signed evidence record.
    Evidence,
    /// A signed vector-clock entry.
    Clock,
    /// A final value or certificate sent down the tree.
    Final,
    /// An attestation challenge or response.
    Attestation,
}

impl FrameKind {
    fn code(self) -> u8 {
        match self {
            FrameKind::Summary => 1,
            FrameKind::CoSign => 2,
            FrameKind::Evidence => 3,
            FrameKind::Clock => 4,
            FrameKind::Final => 5,
            FrameKind::Attestation => 6,
        }
    }
    fn from_code(c: u8) -> Option<FrameKind> {
        Some(match c {
            1 => FrameKind::Summary,
            2 => FrameKind::CoSign,
            3 => FrameKind::Evidence,
            4 => FrameKind::Clock,
            5 => FrameKind::Final,
            6 => FrameKind::Attestation,
            _ => return None,
        })
    }
}

/// The routing header of a frame: in the clear, authenticated as the Noise prologue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The sender's node id.
    pub from: String,
    /// The recipient's node id.
    pub to: String,
    /// The sender's sequence number for this recipient: strictly increasing.
    pub seq: u64,
    /// What the payload is.
    pub kind: FrameKind,
}

impl Canonical for FrameHeader {
    const TAG: &'static [u8] = b"toolcap/cluster/frame/v1";
    const VERSION: u16 = 1;
    fn encode_body(&self, enc: &mut Encoder) {
        enc.str(&self.from)
            .str(&self.to)
            .u64(self.seq)
            .u8(self.kind.code());
    }
    fn decode_body(dec: &mut Decoder<'_>) -> toolcap_crypto::Result<Self> {
        Ok(FrameHeader {
            from: dec.str()?.to_owned(),
            to: dec.str()?.to_owned(),
            seq: dec.u64()?,
            kind: FrameKind::from_code(dec.u8()?)
                .ok_or(toolcap_crypto::Error::InvalidField("frame kind"))?,
        })
    }
}

/// A node's static X25519 link key pair. The secret is zeroized on drop and never printed.
pub struct LinkKeys {
    secret: Zeroizing<Vec<u8>>,
    public: [u8; 32],
}

impl std::fmt::Debug for LinkKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKeys")
            .field("public", &hex(&self.public))
            .finish_non_exhaustive()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn noise(e: snow::Error) -> ClusterError {
    ClusterError::Noise(e.to_string())
}

fn params() -> Result<snow::params::NoiseParams, ClusterError> {
    NOISE_PARAMS.parse().map_err(noise)
}

impl LinkKeys {
    /// A fresh key pair from the operating system's CSPRNG.
    pub fn generate() -> Result<LinkKeys, ClusterError> {
        let kp = snow::Builder::new(params()?)
            .generate_keypair()
            .map_err(noise)?;
        let public: [u8; 32] = kp
            .public
            .as_slice()
            .try_into()
            .map_err(|_| ClusterError::Noise("public key length".into()))?;
        Ok(LinkKeys {
            secret: Zeroizing::new(kp.private.clone()),
            public,
        })
    }

    /// The key pair with this secret (32 bytes, as stored in the node's key file).
    pub fn from_secret(secret: &[u8; 32]) -> Result<LinkKeys, ClusterError> {
        let public = x25519_public(secret)?;
        Ok(LinkKeys {
            secret: Zeroizing::new(secret.to_vec()),
            public,
        })
    }

    /// The secret, for the node's key file.
    pub fn secret(&self) -> Zeroizing<[u8; 32]> {
        let mut s = Zeroizing::new([0u8; 32]);
        s.copy_from_slice(&self.secret);
        s
    }

    /// The public key, for the membership list.
    pub fn public(&self) -> [u8; 32] {
        self.public
    }
}

/// X25519 public key of `secret` (RFC 7748 §6.1), computed by snow's vetted DH implementation.
fn x25519_public(secret: &[u8; 32]) -> Result<[u8; 32], ClusterError> {
    use snow::resolvers::{CryptoResolver, DefaultResolver};
    let mut dh = DefaultResolver
        .resolve_dh(&snow::params::DHChoice::Curve25519)
        .ok_or_else(|| ClusterError::Noise("no X25519 implementation".into()))?;
    dh.set(secret);
    dh.pubkey()
        .try_into()
        .map_err(|_| ClusterError::Noise("public key length".into()))
}

/// What [`Link::open`] returns: the authenticated header and the decrypted payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The header (authenticated).
    pub header: FrameHeader,
    /// The plaintext.
    pub payload: Vec<u8>,
}

#[derive(Default, Debug)]
struct ReplayWindow {
    newest: u64,
    /// Bit i set: sequence number `newest - i` was seen.
    seen: [u64; (WINDOW / 64) as usize],
}

impl ReplayWindow {
    /// Accepts `seq` once: newer than anything seen, or inside the window and unseen.
    fn accept(&mut self, seq: u64) -> bool {
        if seq == 0 {
            return false;
        }
        if seq > self.newest {
            let shift = seq - self.newest;
            self.shift(shift);
            self.newest = seq;
            self.set(0);
            return true;
        }
        let age = self.newest - seq;
        if age >= WINDOW || self.get(age) {
            return false;
        }
        self.set(age);
        true
    }
    fn shift(&mut self, by: u64) {
        if by >= WINDOW {
            self.seen = [0; (WINDOW / 64) as usize];
            return;
        }
        for _ in 0..by {
            // Shift the whole bitmap left by one bit (age grows by one); WINDOW is small.
            let mut carry = 0u64;
            for w in self.seen.iter_mut() {
                let next = *w >> 63;
                *w = (*w << 1) | carry;
                carry = next;
            }
        }
    }
    fn get(&self, age: u64) -> bool {
        self.seen[(age / 64) as usize] & (1 << (age % 64)) != 0
    }
    fn set(&mut self, age: u64) {
        self.seen[(age / 64) as usize] |= 1 << (age % 64);
    }
}

/// One node's end of all its links: seals frames to members and opens frames from them.
#[derive(Debug)]
pub struct Link {
    me: String,
    keys: LinkKeys,
    membership: Membership,
    next_seq: HashMap<String, u64>,
    windows: HashMap<String, ReplayWindow>,
    seq_floor: u64,
}

impl Link {
    /// The link of node `me` (which must be a member, holding the link key listed for it).
    pub fn new(me: &str, keys: LinkKeys, membership: Membership) -> Result<Link, ClusterError> {
        let member = membership
            .member(me)
            .ok_or_else(|| ClusterError::UnknownNode(me.to_owned()))?;
        if member.link_key != keys.public() {
            return Err(ClusterError::Membership(format!(
                "the link key listed for {me:?} is not ours"
            )));
        }
        Ok(Link {
            me: me.to_owned(),
            keys,
            membership,
            next_seq: HashMap::new(),
            windows: HashMap::new(),
            seq_floor: 1,
        })
    }

    /// Starts sequence numbers at `floor` (at least): a restarted node passes a value above
    /// anything it sent before (e.g. the wall clock in microseconds), so its peers' replay
    /// windows accept its new frames.
    pub fn set_seq_floor(&mut self, floor: u64) {
        self.seq_floor = floor.max(1);
    }

    /// Replaces the membership list (a newer signed version); replay state is kept.
    pub fn update_membership(&mut self, membership: Membership) -> Result<(), ClusterError> {
        if membership.version < self.membership.version {
            return Err(ClusterError::Membership("older membership version".into()));
        }
        if membership.member(&self.me).map(|m| m.link_key) != Some(self.keys.public()) {
            return Err(ClusterError::Membership(
                "we are not in the new list with our key".into(),
            ));
        }
        self.membership = membership;
        Ok(())
    }

    /// The membership list in force.
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// Seals `payload` for member `to`.
    pub fn seal(
        &mut self,
        to: &str,
        kind: FrameKind,
        payload: &[u8],
    ) -> Result<Vec<u8>, ClusterError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(ClusterError::TooLarge(payload.len()));
        }
        let peer = self
            .membership
            .member(to)
            .ok_or_else(|| ClusterError::UnknownNode(to.to_owned()))?;
        let next = self.next_seq.entry(to.to_owned()).or_insert(0);
        let seq = (*next + 1).max(self.seq_floor);
        *next = seq;
        let header = FrameHeader {
            from: self.me.clone(),
            to: to.to_owned(),
            seq,
            kind,
        }
        .to_canonical();
        let mut hs = snow::Builder::new(params()?)
            .local_private_key(&self.keys.secret)
            .map_err(noise)?
            .remote_public_key(&peer.link_key)
            .map_err(noise)?
            .prologue(&header)
            .map_err(noise)?
            .build_initiator()
            .map_err(noise)?;
        let mut buf = vec![0u8; payload.len() + 32 + 16];
        let n = hs.write_message(payload, &mut buf).map_err(noise)?;
        buf.truncate(n);
        let header_len =
            u16::try_from(header.len()).map_err(|_| ClusterError::TooLarge(header.len()))?;
        let mut frame = Vec::with_capacity(6 + header.len() + n);
        frame.extend_from_slice(&MAGIC);
        frame.extend_from_slice(&header_len.to_be_bytes());
        frame.extend_from_slice(&header);
        frame.extend_from_slice(&buf);
        Ok(frame)
    }

    /// Opens a frame: it must be for us, from a member, authentic, and not a replay.
    pub fn open(&mut self, frame: &[u8]) -> Result<Opened, ClusterError> {
        let rest = frame
            .strip_prefix(&MAGIC)
            .ok_or(ClusterError::InvalidFrame)?;
        let (len, rest) = rest
            .split_first_chunk::<2>()
            .ok_or(ClusterError::InvalidFrame)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return Err(ClusterError::InvalidFrame);
        }
        let (header_bytes, message) = rest.split_at(len);
        let header =
            FrameHeader::from_canonical(header_bytes).map_err(|_| ClusterError::InvalidFrame)?;
        if header.to != self.me {
            return Err(ClusterError::InvalidFrame);
        }
        let peer = self
            .membership
            .member(&header.from)
            .ok_or_else(|| ClusterError::UnknownNode(header.from.clone()))?;
        let mut hs = snow::Builder::new(params()?)
            .local_private_key(&self.keys.secret)
            .map_err(noise)?
            .remote_public_key(&peer.link_key)
            .map_err(noise)?
            .prologue(header_bytes)
            .map_err(noise)?
            .build_responder()
            .map_err(noise)?;
        let mut payload = vec![0u8; message.len()];
        let n = hs
            .read_message(message, &mut payload)
            .map_err(|_| ClusterError::InvalidFrame)?;
        payload.truncate(n);
        // Only an authentic frame may advance the window, or a forger could burn sequence numbers.
        let window = self.windows.entry(header.from.clone()).or_default();
        if !window.accept(header.seq) {
            return Err(ClusterError::Replay(header.from));
        }
        Ok(Opened { header, payload })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_window_accepts_each_sequence_number_once() {
        let mut w = ReplayWindow::default();
        assert!(!w.accept(0));
        assert!(w.accept(5));
        assert!(!w.accept(5));
        assert!(w.accept(3), "late but inside the window");
        assert!(!w.accept(3));
        assert!(w.accept(5000));
        assert!(!w.accept(5000 - WINDOW), "too old");
        assert!(w.accept(5000 - WINDOW + 1));
        assert!(w.accept(4999));
        assert!(!w.accept(4999));
    }
}
