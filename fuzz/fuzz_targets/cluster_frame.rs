//! Opening arbitrary bytes as a cluster frame never panics, and only authentic frames open;
//! decoding them as a summary or evidence payload (what an authentic frame carries) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use toolcap_cluster::{Level, Link, LinkKeys, Member, Membership};
use toolcap_crypto::SigningKey;

fn membership() -> &'static (Membership, [u8; 32]) {
    static M: OnceLock<(Membership, [u8; 32])> = OnceLock::new();
    M.get_or_init(|| {
        let g = LinkKeys::from_secret(&[7u8; 32]).expect("keys");
        let l = LinkKeys::from_secret(&[9u8; 32]).expect("keys");
        let id = |s: u8| SigningKey::from_seed(&[s; 32]).verifying_key();
        let m = Membership {
            cluster: "fuzz".into(),
            version: 1,
            members: vec![
                Member::new("g", Level::Global, None, id(1), g.public()),
                Member::new("r", Level::Regional, Some("g"), id(2), l.public()),
            ],
        };
        (m, *g.secret())
    })
}

fuzz_target!(|data: &[u8]| {
    let (m, secret) = membership();
    let mut link = Link::new("g", LinkKeys::from_secret(secret).expect("keys"), m.clone()).expect("link");
    assert!(link.open(data).is_err(), "forged frame opened");
    let _ = toolcap_cluster::node_loop::SummaryFrame::decode(data);
    let _ = toolcap_cluster::node_loop::decode_signed_endorsement(data);
    let _ = toolcap_cluster::cosign::CoSignRequest::decode(data);
    let _ = toolcap_cluster::cosign::FalseSummaryProof::decode(data);
    let _ = toolcap_cluster::node_loop::decode_signed_evidence(data);
});
