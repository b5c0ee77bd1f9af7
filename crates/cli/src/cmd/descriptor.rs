//! `toolcap descriptor`: encode and decode capability descriptors (v2 and v3).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use toolcap_descriptor::{
    Capabilities, Decoded, Descriptor, FamilyDescriptor, Perf, Risk, SubcommandDescriptor,
    decode_any, parse_duration_us, parse_size_bytes,
};

use super::usage_error;

#[derive(Debug, Subcommand)]
pub(crate) enum DescriptorCommand {
    /// Decode a v2 (24-byte) or v3 (family) descriptor given in hex and print its fields.
    Decode(DecodeArgs),
    /// Encode a v2 descriptor and print it in hex.
    Encode(EncodeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// The descriptor in hex; spaces, colons and a leading 0x are ignored.
    hex: String,
    /// Print one JSON object instead of the human form.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Either --name with --risk (and optionally --flags and the perf options), or --catalog NAME for a
built-in command's v2 descriptor, or --family NAME for a built-in family's v3 descriptor.
Perf defaults: --time 1ms --memory 2MiB --output 1KiB (each is rounded up to a power of two).")]
pub(crate) struct EncodeArgs {
    /// The command name (hashed with FNV-1a 32).
    #[arg(long, required_unless_present_any = ["catalog", "family"], conflicts_with_all = ["catalog", "family"])]
    name: Option<String>,
    /// SAFE, LOW, MEDIUM, HIGH or CRITICAL.
    #[arg(long, required_unless_present_any = ["catalog", "family"])]
    risk: Option<String>,
    /// Comma-separated capability flags, e.g. destructive,file-modification.
    #[arg(long, default_value = "")]
    flags: String,
    /// Typical run time: 250us, 10ms, 2s, 5min, 1h.
    #[arg(long, default_value = "1ms")]
    time: String,
    /// Typical peak memory: 512, 4KiB, 64MiB, 2GiB.
    #[arg(long, default_value = "2MiB")]
    memory: String,
    /// Typical output size: 512, 4KiB, 64MiB.
    #[arg(long, default_value = "1KiB")]
    output: String,
    /// Encode the built-in catalog's v2 descriptor of this command.
    #[arg(long, conflicts_with_all = ["risk", "family"])]
    catalog: Option<String>,
    /// Encode the built-in catalog's v3 descriptor of this family.
    #[arg(long, conflicts_with_all = ["risk"])]
    family: Option<String>,
}

pub(crate) fn run(cmd: DescriptorCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DescriptorCommand::Decode(args) => decode(&args),
        DescriptorCommand::Encode(args) => encode(&args),
    }
}

fn decode(args: &DecodeArgs) -> anyhow::Result<ExitCode> {
    let bytes = match parse_hex(&args.hex) {
        Ok(b) => b,
        Err(msg) => return usage_error(format!("bad hex: {msg}")),
    };
    let decoded = match decode_any(&bytes) {
        Ok(d) => d,
        Err(e) => return usage_error(format!("invalid descriptor: {e}")),
    };
    let text = match (&decoded, args.json) {
        (Decoded::V2(d), true) => v2_json(d).to_string(),
        (Decoded::V3(f), true) => v3_json(f).to_string(),
        (Decoded::V2(d), false) => v2_human(d),
        (Decoded::V3(f), false) => v3_human(f),
    };
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn encode(args: &EncodeArgs) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.family {
        let Some(family) = toolcap_catalog::family(name) else {
            return usage_error(format!("no built-in family {name:?}"));
        };
        println!("{}", to_hex(&family.encode_v3()));
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(name) = &args.catalog {
        let Some(command) = toolcap_catalog::lookup(name) else {
            return usage_error(format!("no built-in command {name:?}"));
        };
        println!("{}", to_hex(&command.descriptor().to_bytes()));
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(name), Some(risk)) = (&args.name, &args.risk) else {
        return usage_error("encode needs --name and --risk (or --catalog / --family)");
    };
    if name.is_empty() {
        return usage_error("--name must not be empty");
    }
    let risk: Risk = match risk.parse() {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let caps: Capabilities = match args.flags.parse() {
        Ok(c) => c,
        Err(e) => return usage_error(format!("{e}; known flags: {}", Capabilities::ALL_NAMED)),
    };
    let Some(time) = parse_duration_us(&args.time) else {
        return usage_error(format!(
            "bad --time {:?} (e.g. 250us, 10ms, 2s, 5min)",
            args.time
        ));
    };
    let Some(memory) = parse_size_bytes(&args.memory) else {
        return usage_error(format!(
            "bad --memory {:?} (e.g. 512, 4KiB, 64MiB)",
            args.memory
        ));
    };
    let Some(output) = parse_size_bytes(&args.output) else {
        return usage_error(format!(
            "bad --output {:?} (e.g. 512, 4KiB, 64MiB)",
            args.output
        ));
    };
    let d = Descriptor::new(name, risk, caps, Perf::typical(time, memory, output));
    println!("{}", to_hex(&d.to_bytes()));
    Ok(ExitCode::SUCCESS)
}

/// Lower-case hex without separators.
fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex digits, ignoring ASCII whitespace, `:` separators and a leading `0x`.
fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if digits.is_empty() {
        return Err("empty input".to_owned());
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let hi = hex_digit(pair[0])?;
            let lo = hex_digit(pair[1])?;
            Ok((hi << 4) | lo)
        })
        .collect()
}

fn hex_digit(b: u8) -> Result<u8, String> {
    match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(format!("not a hex digit: {:?}", char::from(b))),
    }
}

/// The catalog's command whose name has this hash, if any.
fn command_name(d: &Descriptor) -> Option<&'static str> {
    toolcap_catalog::commands()
        .iter()
        .find(|c| c.descriptor().hash == d.hash)
        .map(|c| c.name)
}

/// The catalog's family with this hash, if any.
fn family_of(f: &FamilyDescriptor) -> Option<&'static toolcap_catalog::Family> {
    toolcap_catalog::families()
        .iter()
        .copied()
        .find(|fam| fam.descriptor_v3().hash() == f.hash())
}

fn perf_json(p: &Perf) -> Value {
    json!({
        "time_us": p.time.value(),
        "time_log2": p.time.exponent(),
        "memory_bytes": p.memory.value(),
        "memory_log2": p.memory.exponent(),
        "output_bytes": p.output.value(),
        "output_log2": p.output.exponent(),
    })
}

fn caps_json(c: Capabilities) -> Value {
    Value::from(c.names().collect::<Vec<_>>())
}

fn v2_json(d: &Descriptor) -> Value {
    json!({
        "format": "v2",
        "length": toolcap_descriptor::LEN_V2,
        "version": toolcap_descriptor::VERSION_V2,
        "hash": format!("0x{}", d.hash),
        "name": command_name(d),
        "risk": d.risk.name(),
        "capabilities": caps_json(d.caps),
        "flags_bits": format!("0x{:08x}", d.caps.bits()),
        "perf": perf_json(&d.perf),
    })
}

fn v3_json(f: &FamilyDescriptor) -> Value {
    let family = family_of(f);
    let subs: Vec<Value> = f
        .subcommands()
        .iter()
        .map(|s| {
            json!({
                "id": format!("0x{}", s.id),
                "name": family.and_then(|fam| sub_name(fam, s)),
                "risk": s.risk.name(),
                "capabilities": caps_json(s.caps),
                "perf": perf_json(&s.perf),
            })
        })
        .collect();
    json!({
        "format": "v3",
        "length": f.encoded_len(),
        "version": toolcap_descriptor::VERSION_V3,
        "hash": format!("0x{}", f.hash()),
        "name": family.map(|fam| fam.name),
        "floor": f.floor().name(),
        "common": caps_json(f.common()),
        "subcommands": subs,
    })
}

fn sub_name(family: &toolcap_catalog::Family, s: &SubcommandDescriptor) -> Option<&'static str> {
    family
        .subcommands
        .iter()
        .find(|c| c.descriptor().id == s.id)
        .map(|c| c.name)
}

fn flags_text(c: Capabilities) -> String {
    if c.is_empty() {
        "(none)".to_owned()
    } else {
        c.to_string()
    }
}

fn v2_human(d: &Descriptor) -> String {
    let name = command_name(d).map_or_else(
        || "not in the built-in catalog".to_owned(),
        |n| format!("{n:?}"),
    );
    format!(
        "format   v2 (24 bytes, version {})\n\
         hash     0x{} (FNV-1a 32; {name})\n\
         risk     {}\n\
         flags    {}\n\
         perf     {}\n\
         crc      ok (CRC-16/CCITT-FALSE)",
        toolcap_descriptor::VERSION_V2,
        d.hash,
        d.risk,
        flags_text(d.caps),
        d.perf,
    )
}

fn v3_human(f: &FamilyDescriptor) -> String {
    let family = family_of(f);
    let name = family.map_or_else(
        || "not in the built-in catalog".to_owned(),
        |fam| format!("{:?}", fam.name),
    );
    let mut out = format!(
        "format   v3 ({} bytes, version {}, {} subcommands)\n\
         hash     0x{} (FNV-1a 32; {name})\n\
         floor    {}\n\
         common   {}\n\
         crc      ok (CRC-16/CCITT-FALSE)",
        f.encoded_len(),
        toolcap_descriptor::VERSION_V3,
        f.subcommands().len(),
        f.hash(),
        f.floor(),
        flags_text(f.common()),
    );
    for s in f.subcommands() {
        let sub = family.and_then(|fam| sub_name(fam, s)).unwrap_or("?");
        out.push_str(&format!(
            "\n  0x{} {sub:<16} {:<8} {} [{}]",
            s.id,
            s.risk.name(),
            flags_text(s.caps),
            s.perf
        ));
    }
    out
}
