//! The v3 family decoder (and the format dispatcher) on arbitrary bytes: never panics, and
//! whatever decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolcap_descriptor::{FamilyDescriptor, decode_any};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = FamilyDescriptor::decode(data) {
        assert_eq!(f.to_bytes(), data);
    }
    let _ = decode_any(data);
});
