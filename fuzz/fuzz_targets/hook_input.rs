//! Fuzzes both agent hook adapters: any bytes give an answer or an error (which the callers
//! turn into a block), never a panic; a shell tool call never gets "no decision".
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use toolcap_policy::Engine;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(Engine::builtin)
}

fuzz_target!(|data: &[u8]| {
    let claude = toolcap_hook::claude_code::respond(engine(), data);
    if let Ok(input) = toolcap_hook::claude_code::Input::parse(data) {
        if input.tool_name == "Bash" {
            // Fail closed: a Bash call is decided or refused, never passed through.
            assert!(!matches!(claude, Ok(None)), "Bash call without a decision");
        }
    }
    let _ = toolcap_hook::copilot::respond(engine(), data);
});
