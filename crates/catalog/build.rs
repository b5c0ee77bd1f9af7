//! Turns `data/commands.txt` into static Rust tables (`$OUT_DIR/catalog.rs`), so that nothing is
//! parsed at start-up. Every entry is validated here: a malformed line fails the build with its
//! line number.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use toolcap_descriptor::{
    Capabilities, FamilyDescriptor, Perf, Risk, SubcommandDescriptor, parse_duration_us,
    parse_size_bytes,
};

struct Entry {
    name: String,
    risk: Risk,
    caps: Capabilities,
    perf: Perf,
    summary: String,
    alternative: Option<String>,
}

fn main() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/commands.txt");
    println!("cargo::rerun-if-changed={}", path.display());
    println!("cargo::rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| fail(0, &format!("read {}: {e}", path.display())));
    match generate(&text) {
        Ok(code) => {
            let out = PathBuf::from(
                std::env::var_os("OUT_DIR").unwrap_or_else(|| fail(0, "OUT_DIR unset")),
            )
            .join("catalog.rs");
            std::fs::write(&out, code)
                .unwrap_or_else(|e| fail(0, &format!("write {}: {e}", out.display())));
        }
        Err((line, msg)) => fail(line, &msg),
    }
}

fn fail(line: usize, msg: &str) -> ! {
    eprintln!("data/commands.txt:{line}: {msg}");
    std::process::exit(1)
}

type Res<T> = Result<T, (usize, String)>;

fn generate(text: &str) -> Res<String> {
    let mut profiles: BTreeMap<String, Perf> = BTreeMap::new();
    let mut commands: BTreeMap<String, Entry> = BTreeMap::new();
    let mut versioned: BTreeSet<String> = BTreeSet::new();
    let mut subs: BTreeMap<String, BTreeMap<String, Entry>> = BTreeMap::new();

    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("@perf ") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let [name, t, m, o] = parts.as_slice() else {
                return Err((n, "expected `@perf NAME TIME MEMORY OUTPUT`".into()));
            };
            profiles.insert((*name).to_owned(), perf_of(n, t, m, o)?);
            continue;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() < 5 || cols.len() > 6 {
            return Err((
                n,
                format!(
                    "expected 5 or 6 `|`-separated columns, found {}",
                    cols.len()
                ),
            ));
        }
        let mut name = cols[0].to_owned();
        let risk: Risk = cols[1].parse().map_err(|e| (n, format!("{e}")))?;
        let caps: Capabilities = if cols[2] == "-" {
            Capabilities::NONE
        } else {
            cols[2].parse().map_err(|e| (n, format!("{e}")))?
        };
        let perf = match profiles.get(cols[3]) {
            Some(p) => *p,
            None => {
                let parts: Vec<&str> = cols[3].split('/').collect();
                let [t, m, o] = parts.as_slice() else {
                    return Err((n, format!("unknown perf profile {:?}", cols[3])));
                };
                perf_of(n, t, m, o)?
            }
        };
        let summary = cols[4].to_owned();
        if summary.is_empty() {
            return Err((n, "empty summary".into()));
        }
        let alternative = cols
            .get(5)
            .filter(|a| !a.is_empty())
            .map(|a| (*a).to_owned());
        let words: Vec<&str> = name.split_whitespace().collect();
        match words.as_slice() {
            [single] => {
                let mut single = (*single).to_owned();
                if let Some(base) = single.strip_suffix('*') {
                    single = base.to_owned();
                    versioned.insert(single.clone());
                }
                if single.is_empty() || single.contains('/') {
                    return Err((n, format!("bad command name {single:?}")));
                }
                name = single;
                let entry = Entry {
                    name: name.clone(),
                    risk,
                    caps,
                    perf,
                    summary,
                    alternative,
                };
                if commands.insert(name.clone(), entry).is_some() {
                    return Err((n, format!("duplicate command {name:?}")));
                }
            }
            [family, rest @ ..] if !rest.is_empty() && rest.len() <= 3 => {
                if !commands.contains_key(*family) {
                    return Err((
                        n,
                        format!("subcommand of {family:?} before the command itself"),
                    ));
                }
                let sub = rest.join(" ");
                let entry = Entry {
                    name: sub.clone(),
                    risk,
                    caps,
                    perf,
                    summary,
                    alternative,
                };
                if subs
                    .entry((*family).to_owned())
                    .or_default()
                    .insert(sub.clone(), entry)
                    .is_some()
                {
                    return Err((n, format!("duplicate subcommand {family} {sub}")));
                }
            }
            _ => return Err((n, format!("bad name {name:?}"))),
        }
    }

    let mut code =
        String::from("// @generated by build.rs from data/commands.txt. Do not edit.\n\n");
    for (family, entries) in &subs {
        let floor = entries.values().map(|e| e.risk).min().unwrap_or(Risk::Safe);
        let common = entries
            .values()
            .fold(Capabilities::ALL_NAMED, |acc, e| acc & e.caps);
        // The same checks the runtime encoder makes; a colliding id fails the build here.
        let descs = entries
            .values()
            .map(|e| SubcommandDescriptor::new(&e.name, e.risk, e.caps, e.perf));
        FamilyDescriptor::new(family, floor, common, descs)
            .map_err(|e| (0, format!("family {family}: {e}")))?;
        let _ = writeln!(
            code,
            "static {}: Family = Family {{ name: {family:?}, floor: {}, common: {}, subcommands: &[",
            family_ident(family),
            risk_expr(floor),
            caps_expr(common)
        );
        for e in entries.values() {
            let _ = writeln!(
                code,
                "    Subcommand {{ name: {:?}, risk: {}, caps: {}, perf: {}, summary: {:?}, alternative: {:?} }},",
                e.name,
                risk_expr(e.risk),
                caps_expr(e.caps),
                perf_expr(e.perf),
                e.summary,
                e.alternative
            );
        }
        code.push_str("] };\n");
    }
    let _ = writeln!(code, "\nstatic COMMANDS: [Command; {}] = [", commands.len());
    for e in commands.values() {
        let family = if subs.contains_key(&e.name) {
            format!("Some(&{})", family_ident(&e.name))
        } else {
            "None".into()
        };
        let _ = writeln!(
            code,
            "    Command {{ name: {:?}, risk: {}, caps: {}, perf: {}, summary: {:?}, alternative: {:?}, family: {family} }},",
            e.name,
            risk_expr(e.risk),
            caps_expr(e.caps),
            perf_expr(e.perf),
            e.summary,
            e.alternative
        );
    }
    code.push_str("];\n");
    // BY_FIRST[b]..BY_FIRST[b + 1] is the range of COMMANDS whose name starts with byte b, so a
    // lookup binary-searches one bucket instead of the whole table.
    let firsts: Vec<u8> = commands
        .values()
        .map(|e| e.name.bytes().next().unwrap_or(0))
        .collect();
    let _ = write!(code, "\nstatic BY_FIRST: [u16; 257] = [");
    for b in 0..=256usize {
        let start = firsts.iter().take_while(|&&f| usize::from(f) < b).count();
        let _ = write!(code, "{start},");
    }
    code.push_str("];\n");
    let _ = writeln!(code, "\nstatic FAMILIES: [&Family; {}] = [", subs.len());
    for family in subs.keys() {
        let _ = writeln!(code, "    &{},", family_ident(family));
    }
    code.push_str("];\n");
    let _ = writeln!(code, "\nstatic VERSIONED: [&str; {}] = [", versioned.len());
    for v in &versioned {
        let _ = writeln!(code, "    {v:?},");
    }
    code.push_str("];\n");
    Ok(code)
}

fn perf_of(n: usize, t: &str, m: &str, o: &str) -> Res<Perf> {
    let t = parse_duration_us(t).ok_or_else(|| (n, format!("bad duration {t:?}")))?;
    let m = parse_size_bytes(m).ok_or_else(|| (n, format!("bad size {m:?}")))?;
    let o = parse_size_bytes(o).ok_or_else(|| (n, format!("bad size {o:?}")))?;
    Ok(Perf::typical(t, m, o))
}

fn family_ident(name: &str) -> String {
    let mut s = String::from("FAMILY_");
    for c in name.chars() {
        s.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    s
}

fn risk_expr(r: Risk) -> String {
    format!("Risk::{r:?}")
}

fn caps_expr(c: Capabilities) -> String {
    format!("Capabilities::from_bits_truncate({:#06x})", c.bits())
}

fn perf_expr(p: Perf) -> String {
    format!(
        "Perf::typical({}, {}, {})",
        p.time.value(),
        p.memory.value(),
        p.output.value()
    )
}
