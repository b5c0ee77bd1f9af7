//! The answers of the MCP tools and resources, as pure functions over the engine and the
//! catalog (no transport, no async), so they are tested directly and reused by any front end.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use toolcap_catalog::{Command, Family, Subcommand};
use toolcap_descriptor::{Capabilities, Descriptor, FamilyDescriptor, Perf, Risk};
use toolcap_policy::Engine;

use crate::Error;

/// The longest command line the tools judge, in bytes (64 KiB); longer ones are refused.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// The resource template of command descriptors.
pub const COMMAND_TEMPLATE: &str = "tcp://command/{name}";
/// The resource template of family descriptors.
pub const FAMILY_TEMPLATE: &str = "tcp://family/{name}";

fn command_arg(command: &str) -> Result<&str, Error> {
    if command.len() > MAX_COMMAND_BYTES {
        return Err(Error::CommandTooLong {
            limit: MAX_COMMAND_BYTES,
        });
    }
    if command.trim().is_empty() {
        return Err(Error::EmptyCommand);
    }
    Ok(command)
}

/// `analyze_command_safety`: the decision record, with the same fields as `toolcap check --json`
/// (`decision`, `risk`, `capabilities`, `reason`, `alternative`, `commands`).
pub fn analyze(engine: &Engine, command: &str) -> Result<Value, Error> {
    let verdict = engine.check(command_arg(command)?);
    serde_json::to_value(verdict).map_err(|e| Error::Encode(e.to_string()))
}

/// `get_safe_alternative`: the decision on the command, its reason, and the safer alternative
/// (`null` when the engine knows none).
pub fn alternative(engine: &Engine, command: &str) -> Result<Value, Error> {
    let command = command_arg(command)?;
    let verdict = engine.check(command);
    Ok(json!({
        "command": command,
        "decision": verdict.decision.name(),
        "reason": verdict.reason,
        "alternative": verdict.alternative,
    }))
}

fn caps_json(caps: Capabilities) -> Value {
    Value::from(caps.names().collect::<Vec<_>>())
}

fn perf_json(perf: Perf) -> Value {
    json!({
        "time_us": perf.time.value(),
        "memory_bytes": perf.memory.value(),
        "output_bytes": perf.output.value(),
        "summary": perf.to_string(),
    })
}

fn risk_json(risk: Risk) -> Value {
    Value::from(risk.name())
}

fn lookup(name: &str) -> Result<&'static Command, Error> {
    toolcap_catalog::lookup(name).ok_or_else(|| Error::UnknownCommand(name.to_owned()))
}

fn family_of(name: &str) -> Result<&'static Family, Error> {
    toolcap_catalog::family(name).ok_or_else(|| Error::UnknownFamily(name.to_owned()))
}

/// `describe_command`: the v2 descriptor of a catalog command. The decoded fields are read back
/// from the encoded bytes, so what is shown is what the 24 bytes say.
pub fn describe(name: &str) -> Result<Value, Error> {
    let command = lookup(name)?;
    let bytes = command.descriptor().to_bytes();
    let decoded = Descriptor::decode(&bytes).map_err(|e| Error::Encode(e.to_string()))?;
    Ok(json!({
        "name": command.name,
        "format": "v2",
        "length": bytes.len(),
        "hex": hex::encode(bytes),
        "base64": BASE64.encode(bytes),
        "decoded": {
            "hash": decoded.hash.to_string(),
            "risk": risk_json(decoded.risk),
            "capabilities": caps_json(decoded.caps),
            "perf": perf_json(decoded.perf),
        },
        "summary": command.summary,
        "alternative": command.alternative,
        "family": command.family.map(|f| f.name),
    }))
}

fn subcommand_json(sub: &Subcommand) -> Value {
    let d = sub.descriptor();
    json!({
        "name": sub.name,
        "id": d.id.to_string(),
        "risk": risk_json(d.risk),
        "capabilities": caps_json(d.caps),
        "perf": perf_json(d.perf),
        "summary": sub.summary,
        "alternative": sub.alternative,
    })
}

/// `check_family`: the v3 descriptor of a tool family, parent and subcommand table. The parent
/// fields are read back from the encoded bytes.
pub fn family_table(name: &str) -> Result<Value, Error> {
    let family = family_of(name)?;
    let bytes = family.encode_v3();
    let decoded = FamilyDescriptor::decode(&bytes).map_err(|e| Error::Encode(e.to_string()))?;
    Ok(json!({
        "family": family.name,
        "format": "v3",
        "length": bytes.len(),
        "hex": hex::encode(&bytes),
        "base64": BASE64.encode(&bytes),
        "parent": {
            "hash": decoded.hash().to_string(),
            "floor": risk_json(decoded.floor()),
            "common": caps_json(decoded.common()),
            "count": decoded.subcommands().len(),
        },
        "subcommands": family.subcommands.iter().map(subcommand_json).collect::<Vec<_>>(),
    }))
}

/// A resource's two renderings: the raw descriptor bytes as base64, and the JSON description.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// The descriptor bytes, base64 (RFC 4648 standard alphabet, padded).
    pub base64: String,
    /// The same descriptor as `describe_command` / `check_family` return it.
    pub json: Value,
}

/// Reads `tcp://command/{name}` or `tcp://family/{name}`.
pub fn resource(uri: &str) -> Result<Resource, Error> {
    let unknown = || Error::UnknownResource(uri.to_owned());
    let (kind, name) = uri
        .strip_prefix("tcp://")
        .and_then(|rest| rest.split_once('/'))
        .ok_or_else(unknown)?;
    if name.is_empty() {
        return Err(unknown());
    }
    let json = match kind {
        "command" => describe(name)?,
        "family" => family_table(name)?,
        _ => return Err(unknown()),
    };
    let base64 = json
        .get("base64")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Encode("descriptor without base64".into()))?;
    Ok(Resource { base64, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyze_returns_the_decision_record_fields() {
        let record = analyze(&Engine::builtin(), "rm -rf /").unwrap();
        for field in [
            "decision",
            "risk",
            "capabilities",
            "reason",
            "alternative",
            "commands",
        ] {
            assert!(record.get(field).is_some(), "{field} missing in {record}");
        }
    }

    #[test]
    fn empty_and_over_long_commands_are_refused() {
        let e = Engine::builtin();
        assert!(matches!(analyze(&e, "  "), Err(Error::EmptyCommand)));
        let long = "a".repeat(MAX_COMMAND_BYTES + 1);
        assert!(matches!(
            alternative(&e, &long),
            Err(Error::CommandTooLong { .. })
        ));
    }

    #[test]
    fn describe_round_trips_the_v2_bytes() {
        let d = describe("rm").unwrap();
        assert_eq!(d["length"], 24);
        let bytes = hex::decode(d["hex"].as_str().unwrap()).unwrap();
        assert_eq!(BASE64.decode(d["base64"].as_str().unwrap()).unwrap(), bytes);
        assert_eq!(&bytes[..4], b"TCP\x02");
        let caps = d["decoded"]["capabilities"].as_array().unwrap();
        assert!(!caps.is_empty());
        assert!(matches!(
            describe("no-such-command-xyz"),
            Err(Error::UnknownCommand(_))
        ));
    }

    #[test]
    fn family_table_lists_subcommands() {
        let f = family_table("git").unwrap();
        let subs = f["subcommands"].as_array().unwrap();
        assert!(subs.iter().any(|s| s["name"] == "push"));
        assert_eq!(f["parent"]["count"], subs.len());
        assert!(matches!(family_table("rm"), Err(Error::UnknownFamily(_))));
    }

    #[test]
    fn resources_parse_their_uris() {
        assert_eq!(resource("tcp://command/rm").unwrap().json["name"], "rm");
        assert_eq!(resource("tcp://family/git").unwrap().json["family"], "git");
        for bad in [
            "tcp://command/",
            "tcp://other/rm",
            "http://command/rm",
            "tcp:/command/rm",
            "",
        ] {
            assert!(resource(bad).is_err(), "{bad}");
        }
    }
}
