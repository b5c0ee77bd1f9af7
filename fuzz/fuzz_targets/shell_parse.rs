//! Fuzzes the command-line front end: shell analysis and the engine's judgement must never
//! panic, overflow the stack or hang on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = toolcap_shell::analyze_bytes(data, &toolcap_shell::Limits::default());
    let _ = toolcap_policy::Engine::builtin().check_bytes(data);
});
