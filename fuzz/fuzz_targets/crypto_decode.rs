//! Canonical decoding, key and signature parsing and sealed-blob opening never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolcap_crypto::{Decoder, SealingKey, Signature, VerifyingKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut dec) = Decoder::new(data, b"toolcap/fuzz/v1", &[1, 2]) {
        let _ = dec.u64();
        let _ = dec.str();
        let _ = dec.f64();
        if let Ok(n) = dec.seq() {
            for _ in 0..n {
                if dec.bytes().is_err() {
                    break;
                }
            }
        }
        let _ = dec.bool();
        let _ = dec.finish();
    }
    if let Ok(key) = VerifyingKey::from_slice(data.get(..32).unwrap_or(data)) {
        if let Ok(sig) = Signature::from_slice(data.get(32..96).unwrap_or(&[])) {
            let _ = key.verify(b"toolcap/fuzz/v1", data, &sig);
        }
    }
    let _ = SealingKey::from_bytes([7; 32]).open(b"aad", data);
});
