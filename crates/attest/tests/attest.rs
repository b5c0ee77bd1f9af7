//! Attestation against a real software TPM (swtpm) started on loopback by the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test code; a failure should abort the test

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use toolcap_attest::{
    AttestError, Attester, Measurement, MeasurementLog, PCR_BINARY, PCR_CONFIG, QuoteVerifier,
    RootOfTrust, SwtpmAttester, Verifier,
};

/// A swtpm process on two free loopback ports, killed on drop.
struct Swtpm {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port_pair() -> u16 {
    loop {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// Starts swtpm, or returns None (skipping loudly) when it is not installed outside CI.
fn swtpm() -> Option<Swtpm> {
    if Command::new("swtpm")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("swtpm is not installed; scripts/install-test-deps installs it");
        }
        eprintln!("SKIPPED: swtpm is not installed (run scripts/install-test-deps)");
        return None;
    }
    let dir = std::env::temp_dir().join(format!(
        "toolcap-swtpm-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port_pair();
    let child = Command::new("swtpm")
        .args(["socket", "--tpm2", "--flags", "not-need-init,startup-clear"])
        .arg("--tpmstate")
        .arg(format!("dir={}", dir.display()))
        .arg("--server")
        .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
        .arg("--ctrl")
        .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "swtpm did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Swtpm { child, dir, port })
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

const BINARY: &[u8] = b"toolcap node binary v1";
const CONFIG: &[u8] = b"listen = \"127.0.0.1:7000\"\n";

fn reference(binary: &[u8], config: &[u8]) -> MeasurementLog {
    let mut log = MeasurementLog::default();
    log.push(Measurement::of(PCR_BINARY, "binary", binary));
    log.push(Measurement::of(PCR_CONFIG, "config", config));
    log
}

fn attester(tpm: &Swtpm, binary: &[u8]) -> SwtpmAttester {
    let mut a = SwtpmAttester::connect(&format!("swtpm:host=127.0.0.1,port={}", tpm.port)).unwrap();
    a.measure(binary, CONFIG).unwrap();
    a
}

#[test]
fn an_honest_quote_verifies_and_says_its_root_is_software() {
    let Some(tpm) = swtpm() else { return };
    let mut a = attester(&tpm, BINARY);
    let verifier = QuoteVerifier::new(&[a.ak_public()], reference(BINARY, CONFIG)).unwrap();
    let nonce = [7u8; 32];
    let evidence = a.attest(&nonce).unwrap();
    let verified = verifier.verify(&evidence, &nonce).unwrap();
    assert_eq!(verified.root_of_trust, RootOfTrust::Software);
    assert_eq!(
        verified.pcrs.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        vec![16, 23]
    );
    // Measuring again from reset gives the same registers: the log is the whole history.
    a.measure(BINARY, CONFIG).unwrap();
    let again = a.attest(&[8u8; 32]).unwrap();
    assert_eq!(
        verifier.verify(&again, &[8u8; 32]).unwrap().pcrs,
        verified.pcrs
    );
    // A verifier that requires hardware refuses it, saying why.
    let strict = verifier.clone().require_hardware();
    assert!(matches!(
        strict.verify(&evidence, &nonce),
        Err(AttestError::Mismatch(_))
    ));
}

#[test]
fn every_forgery_is_rejected() {
    let Some(tpm) = swtpm() else { return };
    let mut a = attester(&tpm, BINARY);
    let verifier = QuoteVerifier::new(&[a.ak_public()], reference(BINARY, CONFIG)).unwrap();
    let nonce = [1u8; 32];
    let good = a.attest(&nonce).unwrap();
    assert!(verifier.verify(&good, &nonce).is_ok());

    // Replayed quote: a different nonce was asked for.
    assert!(matches!(
        verifier.verify(&good, &[2u8; 32]),
        Err(AttestError::Invalid)
    ));
    // Any flipped bit of the signed structure or of the signature.
    for i in [0, 6, good.attest.len() / 2, good.attest.len() - 1] {
        let mut e = good.clone();
        e.attest[i] ^= 0x01;
        assert!(verifier.verify(&e, &nonce).is_err(), "attest byte {i}");
    }
    let mut e = good.clone();
    e.signature[10] ^= 0x80;
    assert!(matches!(
        verifier.verify(&e, &nonce),
        Err(AttestError::Invalid)
    ));
    // A log that claims other measurements than the TPM holds.
    let mut e = good.clone();
    e.log = reference(b"another binary", CONFIG);
    assert!(matches!(
        verifier.verify(&e, &nonce),
        Err(AttestError::Invalid)
    ));
    // An attestation key nobody pinned.
    let other = QuoteVerifier::new(&[&p256_point()], reference(BINARY, CONFIG)).unwrap();
    assert!(matches!(
        other.verify(&good, &nonce),
        Err(AttestError::Invalid)
    ));
    // Nonces of unusable length.
    assert!(matches!(
        verifier.verify(&good, &[0u8; 4]),
        Err(AttestError::Nonce(4))
    ));
}

#[test]
fn a_node_running_another_binary_is_named_as_such() {
    let Some(tpm) = swtpm() else { return };
    let mut a = attester(&tpm, b"a patched binary");
    let verifier = QuoteVerifier::new(&[a.ak_public()], reference(BINARY, CONFIG)).unwrap();
    let nonce = [3u8; 32];
    let evidence = a.attest(&nonce).unwrap();
    match verifier.verify(&evidence, &nonce) {
        Err(AttestError::Mismatch(msg)) => assert!(msg.contains("binary"), "{msg}"),
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

/// A valid P-256 point that is not the attestation key (the generator, SEC1 uncompressed).
fn p256_point() -> Vec<u8> {
    let x = hex("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296");
    let y = hex("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5");
    let mut v = vec![0x04];
    v.extend(x);
    v.extend(y);
    v
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
