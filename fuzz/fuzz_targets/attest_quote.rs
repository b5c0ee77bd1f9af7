//! Parsing arbitrary bytes as a TPM quote never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = toolcap_attest::parse_attest(data);
});
