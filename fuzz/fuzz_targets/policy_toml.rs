//! Fuzzes the user policy loader: any text is a policy or a load error with a message, never
//! a panic (rules' `match` / `not_match` examples are parsed and judged at load time too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolcap_policy::{Layer, Policy};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::from_toml_str(text, Layer::Project);
    }
});
