//! Fuzzes the ingest batch parsers: any body is a list of events or an error naming the
//! offending line, never a panic, and a batch is accepted or refused whole.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = toolcap_node::event::parse_json(data);
    let _ = toolcap_node::event::parse_ndjson(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = toolcap_node::event::parse_rfc3339_ms(s);
    }
});
