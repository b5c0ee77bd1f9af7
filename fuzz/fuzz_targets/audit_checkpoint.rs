//! Signed-note and checkpoint parsing never panics; what parses re-encodes to the same body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolcap_audit::{Checkpoint, NoteVerifier, SignedNote};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cp) = Checkpoint::parse_body(text) {
        assert_eq!(cp.body(), text);
    }
    if let Ok(note) = SignedNote::parse(text) {
        let _ = Checkpoint::parse_body(&note.body);
    }
    let _ = NoteVerifier::parse(text);
});
