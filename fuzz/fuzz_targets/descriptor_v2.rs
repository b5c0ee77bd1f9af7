//! The v2 decoder on arbitrary bytes: never panics, and whatever decodes re-encodes to the same
//! bytes (the format has exactly one encoding per value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolcap_descriptor::Descriptor;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = Descriptor::decode(data) {
        assert_eq!(d.to_bytes().as_slice(), data);
    }
    if let Ok((d, rest)) = Descriptor::decode_prefix(data) {
        assert_eq!(d.to_bytes().len() + rest.len(), data.len());
    }
});
