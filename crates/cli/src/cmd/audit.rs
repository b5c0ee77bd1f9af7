//! `toolcap audit`: the tamper-evident audit log (init, append, checkpoint, prove, consistency,
//! verify, and offline verify-proof).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use toolcap_audit::{
    Hash, HashAlg, Log, NoteVerifier, SignedNote, leaf_hash, open_checkpoint, verify_consistency,
    verify_dir, verify_inclusion,
};
use toolcap_crypto::VerifyingKey;

use super::usage_error;

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Create a log and its Ed25519 checkpoint signing key in DIR.
    Init {
        /// The log directory (created; must be empty if it exists).
        #[arg(long)]
        dir: PathBuf,
        /// The tree hash.
        #[arg(long, default_value = "sha3-256", value_parser = ["sha3-256", "sha256"])]
        hash: String,
        /// The checkpoint origin line and key name (no spaces, no '+').
        #[arg(long, default_value = "toolcap.local/audit")]
        origin: String,
    },
    /// Append a leaf durably and print its index (with --lines, one index per line).
    Append(AppendArgs),
    /// Sign and store a checkpoint of the current tree, and print it.
    Checkpoint {
        /// The log directory.
        #[arg(long)]
        dir: PathBuf,
        /// Print {"size","root_hex","checkpoint"} instead of the note.
        #[arg(long)]
        json: bool,
    },
    /// Print the inclusion proof of leaf INDEX in the tree of SIZE leaves (default: all).
    Prove {
        /// The log directory.
        #[arg(long)]
        dir: PathBuf,
        /// The leaf index.
        #[arg(long)]
        index: u64,
        /// The tree size the proof is for.
        #[arg(long)]
        size: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the consistency proof between tree sizes FROM and TO.
    Consistency {
        /// The log directory.
        #[arg(long)]
        dir: PathBuf,
        /// The older tree size.
        #[arg(long)]
        from: u64,
        /// The newer tree size.
        #[arg(long)]
        to: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recompute everything; check every checkpoint's signature, root and consistency.
    Verify {
        /// The log directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Verify a proof against a signed checkpoint and a public key, without the log.
    VerifyProof(VerifyProofArgs),
}

#[derive(Debug, Args)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(false)))]
pub(crate) struct AppendArgs {
    /// The log directory.
    #[arg(long)]
    dir: PathBuf,
    /// The leaf as UTF-8 text.
    #[arg(long, group = "input")]
    data: Option<String>,
    /// The leaf as hex.
    #[arg(long, group = "input")]
    hex: Option<String>,
    /// The leaf is the whole content of FILE.
    #[arg(long, group = "input")]
    file: Option<PathBuf>,
    /// Each line of FILE (without its newline) is a leaf; all in one durable batch.
    #[arg(long, group = "input")]
    lines: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("leaf_input").required(false).multiple(false)))]
pub(crate) struct VerifyProofArgs {
    /// The signed checkpoint (C2SP signed note) the proof is checked against.
    #[arg(long)]
    checkpoint: PathBuf,
    /// For a consistency proof: the older signed checkpoint.
    #[arg(long)]
    old_checkpoint: Option<PathBuf>,
    /// The log's public key: 64 hex digits, a signed-note verifier key, or a file holding one.
    #[arg(long)]
    key: String,
    /// The proof, as printed by `prove` or `consistency` (text or --json).
    #[arg(long)]
    proof: PathBuf,
    /// The leaf's data as UTF-8 text (else the proof's leaf hash is taken as given).
    #[arg(long, group = "leaf_input")]
    leaf: Option<String>,
    /// The leaf's data as hex.
    #[arg(long, group = "leaf_input")]
    leaf_hex: Option<String>,
    /// The leaf's data is the content of FILE.
    #[arg(long, group = "leaf_input")]
    leaf_file: Option<PathBuf>,
}

pub(crate) fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Init { dir, hash, origin } => init(&dir, &hash, &origin),
        AuditCommand::Append(args) => append(args),
        AuditCommand::Checkpoint { dir, json } => checkpoint(&dir, json),
        AuditCommand::Prove {
            dir,
            index,
            size,
            json,
        } => prove(&dir, index, size, json),
        AuditCommand::Consistency {
            dir,
            from,
            to,
            json,
        } => consistency(&dir, from, to, json),
        AuditCommand::Verify { dir } => verify(&dir),
        AuditCommand::VerifyProof(args) => verify_proof(args),
    }
}

fn init(dir: &Path, hash: &str, origin: &str) -> anyhow::Result<ExitCode> {
    let alg: HashAlg = match hash.parse() {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    let log = Log::create(dir, alg, origin)
        .with_context(|| format!("creating audit log {}", dir.display()))?;
    println!("created audit log {}", dir.display());
    println!("hash {}", alg.name());
    println!("origin {origin}");
    println!("public key {}", log.verifying_key().to_hex());
    println!("verifier key {}", log.note_verifier().encode());
    Ok(ExitCode::SUCCESS)
}

fn open(dir: &Path) -> anyhow::Result<Log> {
    Log::open(dir).with_context(|| format!("audit log {}", dir.display()))
}

fn open_read(dir: &Path) -> anyhow::Result<Log> {
    Log::open_read(dir).with_context(|| format!("audit log {}", dir.display()))
}

fn append(a: AppendArgs) -> anyhow::Result<ExitCode> {
    let leaves: Vec<Vec<u8>> = if let Some(text) = a.data {
        vec![text.into_bytes()]
    } else if let Some(h) = a.hex {
        match hex::decode(h.trim()) {
            Ok(b) => vec![b],
            Err(e) => return usage_error(format_args!("--hex: {e}")),
        }
    } else if let Some(f) = a.file {
        vec![fs::read(&f).with_context(|| format!("reading {}", f.display()))?]
    } else if let Some(f) = a.lines {
        let bytes = fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
        let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        if body.is_empty() && bytes.is_empty() {
            Vec::new()
        } else {
            body.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
        }
    } else {
        return usage_error("one of --data, --hex, --file, --lines is required");
    };
    let mut log = open(&a.dir)?;
    let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
    let range = log.append_batch(&refs).context("appending")?;
    // Printed only now: the batch is on disk (fdatasync returned).
    let mut out = String::with_capacity(range.clone().count() * 8);
    for i in range {
        out.push_str(&i.to_string());
        out.push('\n');
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn checkpoint(dir: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let mut log = open(dir)?;
    let key = log.signing_key().context("reading the signing key")?;
    let stored = log.checkpoint(&key).context("storing the checkpoint")?;
    if as_json {
        let v = json!({
            "size": stored.checkpoint.size,
            "root_hex": stored.checkpoint.root.to_hex(),
            "checkpoint": stored.note,
        });
        println!("{v}");
    } else {
        print!("{}", stored.note);
    }
    Ok(ExitCode::SUCCESS)
}

fn hexes(p: &[Hash]) -> Vec<String> {
    p.iter().map(Hash::to_hex).collect()
}

fn prove(dir: &Path, index: u64, size: Option<u64>, as_json: bool) -> anyhow::Result<ExitCode> {
    let log = open_read(dir)?;
    let size = size.unwrap_or(log.size());
    let tree = log.tree();
    let proof = tree.inclusion_proof(index, size)?;
    let leaf = tree.leaf(index).context("leaf index out of range")?;
    let root = tree.root_at(size)?;
    let alg = tree.alg();
    if as_json {
        let v = json!({
            "type": "inclusion",
            "hash": alg.name(),
            "index": index,
            "size": size,
            "leaf_hash": leaf.to_hex(),
            "root_hex": root.to_hex(),
            "proof": hexes(&proof),
        });
        println!("{v}");
    } else {
        println!(
            "type inclusion\nhash {}\nindex {index}\nsize {size}",
            alg.name()
        );
        println!("leaf_hash {leaf}\nroot_hex {root}");
        for p in &proof {
            println!("proof {p}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn consistency(dir: &Path, from: u64, to: u64, as_json: bool) -> anyhow::Result<ExitCode> {
    let log = open_read(dir)?;
    let tree = log.tree();
    let proof = tree.consistency_proof(from, to)?;
    let (r1, r2) = (tree.root_at(from)?, tree.root_at(to)?);
    let alg = tree.alg();
    if as_json {
        let v = json!({
            "type": "consistency",
            "hash": alg.name(),
            "from": from,
            "to": to,
            "root1_hex": r1.to_hex(),
            "root2_hex": r2.to_hex(),
            "proof": hexes(&proof),
        });
        println!("{v}");
    } else {
        println!(
            "type consistency\nhash {}\nfrom {from}\nto {to}",
            alg.name()
        );
        println!("root1_hex {r1}\nroot2_hex {r2}");
        for p in &proof {
            println!("proof {p}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(dir: &Path) -> anyhow::Result<ExitCode> {
    let report =
        verify_dir(dir).with_context(|| format!("audit log {} is invalid", dir.display()))?;
    println!(
        "ok: {} leaves, {} checkpoints verified, root {}",
        report.leaves, report.checkpoints, report.root
    );
    Ok(ExitCode::SUCCESS)
}

/// A proof file, from `prove`/`consistency` in either output form.
struct ProofFile {
    fields: Value,
}

impl ProofFile {
    fn parse(text: &str) -> anyhow::Result<Self> {
        if text.trim_start().starts_with('{') {
            return Ok(ProofFile {
                fields: serde_json::from_str(text).context("proof JSON")?,
            });
        }
        let mut map = serde_json::Map::new();
        let mut proof = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (k, v) = line
                .split_once(' ')
                .with_context(|| format!("proof line {line:?}"))?;
            match k {
                "proof" => proof.push(Value::from(v)),
                "index" | "size" | "from" | "to" => {
                    map.insert(
                        k.into(),
                        Value::from(v.parse::<u64>().context("proof number")?),
                    );
                }
                _ => {
                    map.insert(k.into(), Value::from(v));
                }
            }
        }
        map.insert("proof".into(), Value::Array(proof));
        Ok(ProofFile {
            fields: Value::Object(map),
        })
    }
    fn str(&self, k: &str) -> anyhow::Result<&str> {
        self.fields[k]
            .as_str()
            .with_context(|| format!("proof file lacks {k:?}"))
    }
    fn num(&self, k: &str) -> anyhow::Result<u64> {
        self.fields[k]
            .as_u64()
            .with_context(|| format!("proof file lacks {k:?}"))
    }
    fn hash(&self, k: &str) -> anyhow::Result<Hash> {
        Hash::from_hex(self.str(k)?).with_context(|| format!("proof file: {k:?} is not a hash"))
    }
    fn proof(&self) -> anyhow::Result<Vec<Hash>> {
        let items = self.fields["proof"]
            .as_array()
            .context("proof file lacks \"proof\"")?;
        items
            .iter()
            .map(|h| {
                h.as_str()
                    .and_then(|s| Hash::from_hex(s).ok())
                    .context("proof element is not a hash")
            })
            .collect()
    }
}

fn verifier_for(key: &str, note_text: &str) -> anyhow::Result<NoteVerifier> {
    let text = if Path::new(key).is_file() {
        fs::read_to_string(key).with_context(|| format!("reading key file {key}"))?
    } else {
        key.to_owned()
    };
    let text = text.trim();
    if text.contains('+') {
        return Ok(NoteVerifier::parse(text)?);
    }
    let vk = VerifyingKey::from_hex(text).context("--key is neither hex nor a verifier key")?;
    // A bare key signs under the checkpoint's own origin (this log's convention).
    let note = SignedNote::parse(note_text)?;
    let origin = note.body.lines().next().unwrap_or_default();
    Ok(NoteVerifier::new(origin, vk)?)
}

fn read_checkpoint(path: &Path, key: &str) -> anyhow::Result<toolcap_audit::Checkpoint> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let verifier = verifier_for(key, &text)?;
    open_checkpoint(&text, &verifier).with_context(|| format!("checkpoint {}", path.display()))
}

fn verify_proof(a: VerifyProofArgs) -> anyhow::Result<ExitCode> {
    let text =
        fs::read_to_string(&a.proof).with_context(|| format!("reading {}", a.proof.display()))?;
    let pf = ProofFile::parse(&text)?;
    let alg: HashAlg = pf.str("hash").unwrap_or("sha3-256").parse()?;
    let cp = read_checkpoint(&a.checkpoint, &a.key)?;
    let proof = pf.proof()?;
    match pf.str("type")? {
        "inclusion" => {
            let (index, size) = (pf.num("index")?, pf.num("size")?);
            if size != cp.size {
                bail!(
                    "the proof is for tree size {size} but the checkpoint is for {}",
                    cp.size
                );
            }
            let data = if let Some(t) = a.leaf {
                Some(t.into_bytes())
            } else if let Some(h) = a.leaf_hex {
                Some(hex::decode(h.trim()).context("--leaf-hex")?)
            } else if let Some(f) = a.leaf_file {
                Some(fs::read(&f).with_context(|| format!("reading {}", f.display()))?)
            } else {
                None
            };
            let leaf = match data {
                Some(d) => leaf_hash(alg, &d),
                None => pf.hash("leaf_hash")?,
            };
            verify_inclusion(alg, index, size, &leaf, &proof, &cp.root.0)
                .context("inclusion proof does not verify against the checkpoint")?;
            println!(
                "ok: leaf {index} ({leaf}) is in {} at size {size}",
                cp.origin
            );
        }
        "consistency" => {
            let old_path = a.old_checkpoint.context(
                "a consistency proof needs --old-checkpoint (the older signed checkpoint)",
            )?;
            let old = read_checkpoint(&old_path, &a.key)?;
            let (from, to) = (pf.num("from")?, pf.num("to")?);
            if from != old.size || to != cp.size {
                bail!(
                    "the proof is for sizes {from} -> {to} but the checkpoints are {} -> {}",
                    old.size,
                    cp.size
                );
            }
            if old.origin != cp.origin {
                bail!("the checkpoints are from different logs");
            }
            verify_consistency(alg, from, to, &old.root.0, &cp.root.0, &proof)
                .context("consistency proof does not verify against the checkpoints")?;
            println!("ok: {} at size {from} is a prefix of size {to}", cp.origin);
        }
        other => bail!("unknown proof type {other:?}"),
    }
    Ok(ExitCode::SUCCESS)
}
