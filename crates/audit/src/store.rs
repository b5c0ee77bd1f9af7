//! Durable, crash-safe storage of a log in one directory. The only module here that does I/O.
//!
//! Files:
//! - `config`: `toolcap-audit-log v1`, `hash <sha3-256|sha256>`, `origin <name>`, one per line.
//! - `signing.key` (mode 0600) and `signing.pub`: the Ed25519 checkpoint key (`toolcap-crypto`'s
//!   key files).
//! - `leaves.dat`: the 8-byte header `TCLEAF01`, then one record per leaf.
//! - `checkpoints.dat`: the header `TCCKPT01`, then one record per signed checkpoint (the full
//!   signed-note text).
//!
//! - `tree.dat` and `index.dat`: every node hash of the tree and every record's offset, caches
//!   derived from `leaves.dat` and brought in line with it on every open (see [`crate::stored`]).
//!
//! A record is `u32 big-endian length || payload || HASH(0x00 || payload)`. For a leaf the
//! trailer is its RFC 9162 leaf hash, so the file is also the stored tree state (the interior
//! nodes are recomputed from it on open and checked against `tree.dat`); for a checkpoint it is
//! a checksum.
//!
//! Opening streams `leaves.dat` (it is not read into memory) and checks every record.
//!
//! Durability: [`Log::append_batch`] writes a whole batch with one `write` and one `fdatasync`
//! (group commit) and only then returns, so an index returned is on disk. After a crash the
//! file may end in a torn record (a batch that was being written). Opening for writing
//! truncates exactly that tail, and only if no intact record follows it and no stored checkpoint
//! covers it; anything else is reported as corruption and the log is left untouched.
//! Writers hold an exclusive `flock` on `leaves.dat`; readers a shared one.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::ops::Range;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use toolcap_crypto::{Hash, HashAlg, SigningKey, VerifyingKey, keyfile};

use crate::checkpoint::{
    Checkpoint, NoteVerifier, open_checkpoint, sign_checkpoint, valid_key_name,
};
use crate::error::{Error, Result};
use crate::stored::{Offsets, OffsetsBuilder, StoredTree, TreeBuilder, frontier_root, push_leaf};
use crate::tree::{empty_root, leaf_hash};

/// Largest leaf accepted (16 MiB).
pub const MAX_LEAF: usize = 16 << 20;

const CONFIG: &str = "config";
const KEY: &str = "signing.key";
const PUB: &str = "signing.pub";
const LEAVES: &str = "leaves.dat";
const CHECKPOINTS: &str = "checkpoints.dat";
const LEAVES_MAGIC: &[u8; 8] = b"TCLEAF01";
const CHECKPOINTS_MAGIC: &[u8; 8] = b"TCCKPT01";
const CONFIG_MAGIC: &str = "toolcap-audit-log v1";
const TRAILER: usize = 32;
const HEADER: usize = 8;

/// A log's fixed parameters, from its `config` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The tree hash.
    pub alg: HashAlg,
    /// The checkpoint origin line, also the signed-note key name.
    pub origin: String,
}

impl Config {
    fn encode(&self) -> String {
        format!(
            "{CONFIG_MAGIC}\nhash {}\norigin {}\n",
            self.alg.name(),
            self.origin
        )
    }

    fn parse(text: &str) -> Result<Self> {
        let bad = |detail: &str| Error::Tampered {
            file: CONFIG,
            detail: detail.to_owned(),
        };
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("does not end with a newline"))?
            .split('\n')
            .collect();
        let [magic, hash, origin] = lines.as_slice() else {
            return Err(bad("expected exactly three lines"));
        };
        if *magic != CONFIG_MAGIC {
            return Err(bad("unknown format line"));
        }
        let alg = hash
            .strip_prefix("hash ")
            .and_then(|h| match h {
                "sha3-256" => Some(HashAlg::Sha3_256),
                "sha256" => Some(HashAlg::Sha256),
                _ => None,
            })
            .ok_or_else(|| bad("hash line must be 'hash sha3-256' or 'hash sha256'"))?;
        let origin = origin
            .strip_prefix("origin ")
            .filter(|o| valid_key_name(o))
            .ok_or_else(|| bad("origin line is malformed"))?;
        Ok(Config {
            alg,
            origin: origin.to_owned(),
        })
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn record(payload: &[u8], check: &Hash, out: &mut Vec<u8>) {
    // Callers bound payloads by MAX_LEAF (or note size), far below u32::MAX.
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&check.0);
}

/// One intact record found by [`scan`].
#[derive(Debug, Clone, Copy)]
struct Rec {
    /// Offset of the payload in the file.
    payload: usize,
    /// Payload length.
    len: usize,
    /// The stored trailer (verified).
    check: Hash,
}

/// How a scan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// The records fill the file exactly.
    Clean,
    /// Bytes from this offset on do not form a record, and no intact record follows.
    Torn { offset: usize, reason: &'static str },
    /// A bad record at this offset is followed by an intact one: not a torn write.
    Corrupt { offset: usize, reason: &'static str },
    /// A bad record at this offset, not looked beyond ([`Classify::Stop`]).
    Bad { offset: usize, reason: &'static str },
}

fn parse_record(alg: HashAlg, bytes: &[u8], at: usize) -> std::result::Result<Rec, &'static str> {
    let Some(len_bytes) = bytes.get(at..at + 4) else {
        return Err("truncated length field");
    };
    let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
    if len > MAX_LEAF {
        return Err("record length exceeds the limit");
    }
    let payload = at + 4;
    let Some(body) = bytes.get(payload..payload + len + TRAILER) else {
        return Err("record extends past the end of the file");
    };
    let (data, trailer) = body.split_at(len);
    let check = leaf_hash(alg, data);
    if check.0.as_slice() != trailer {
        return Err("record checksum mismatch");
    }
    Ok(Rec {
        payload,
        len,
        check,
    })
}

/// Reads every intact record after the header; says how the file ends.
fn scan(alg: HashAlg, bytes: &[u8]) -> (Vec<Rec>, End) {
    let mut recs = Vec::new();
    let mut at = HEADER;
    while at < bytes.len() {
        match parse_record(alg, bytes, at) {
            Ok(r) => {
                at = r.payload + r.len + TRAILER;
                recs.push(r);
            }
            Err(reason) => {
                // Crash tears only the end; an intact record further on means this is damage.
                let resync = (at + 1..bytes.len()).any(|q| parse_record(alg, bytes, q).is_ok());
                let end = if resync {
                    End::Corrupt { offset: at, reason }
                } else {
                    End::Torn { offset: at, reason }
                };
                return (recs, end);
            }
        }
    }
    (recs, End::Clean)
}

/// What [`scan_file`] does at the first record that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Classify {
    /// Tell a torn tail from damage ([`End::Torn`] or [`End::Corrupt`]): reads the rest of the
    /// file at once to look for an intact record after it.
    TornOrCorrupt,
    /// Stop there ([`End::Bad`]): memory stays bounded by the window and the largest record.
    Stop,
}

/// [`scan`] without holding the file: reads `file` in windows of [`WINDOW`] bytes and hands
/// each intact record (offsets in the file) to `f`. Returns the number of records, how the file
/// ends and its length. Only when a record does not parse, and `classify` asks to tell a torn
/// tail from damage, is the rest of the file read at once (a torn tail is short; damage in the
/// middle is an error either way).
fn scan_file(
    alg: HashAlg,
    path: &Path,
    file: &File,
    classify: Classify,
    mut f: impl FnMut(Rec) -> Result<()>,
) -> Result<(u64, End, usize)> {
    let len = file.metadata().map_err(io(path))?.len();
    let len = usize::try_from(len).map_err(|_| Error::Tampered {
        file: LEAVES,
        detail: "file larger than the address space".to_owned(),
    })?;
    let mut header = [0u8; HEADER];
    if len < HEADER {
        return Err(Error::Tampered {
            file: LEAVES,
            detail: "bad file header".to_owned(),
        });
    }
    file.read_exact_at(&mut header, 0).map_err(io(path))?;
    check_header(LEAVES, &header, LEAVES_MAGIC)?;
    // win holds the file's bytes from `base`; `at` is relative to it.
    let (mut win, mut base, mut at, mut count) = (Vec::new(), HEADER, 0usize, 0u64);
    loop {
        if base + at >= len {
            return Ok((count, End::Clean, len));
        }
        match parse_record(alg, &win, at) {
            Ok(r) => {
                at = r.payload + r.len + TRAILER;
                f(Rec {
                    payload: base + r.payload,
                    len: r.len,
                    check: r.check,
                })?;
                count += 1;
            }
            Err(reason) => {
                let have = base + win.len();
                let avail = win.len() - at;
                // Whether more of the file could make the record whole: its length field is cut
                // off, or it is within the limit and its bytes are.
                let cut_by_window = win.get(at..at + 4).is_none_or(|l| {
                    let l = u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize;
                    l <= MAX_LEAF && avail < 4 + l + TRAILER
                });
                if have < len && (classify == Classify::TornOrCorrupt || cut_by_window) {
                    // Perhaps only cut off by the window: read on, as far as the record needs.
                    // A record that is whole and still bad needs the rest of the file (to tell a
                    // torn tail from damage).
                    let want = match win.get(at..at + 4) {
                        None => WINDOW,
                        Some(l) => {
                            let l = u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize;
                            let total = 4 + l + TRAILER;
                            if l <= MAX_LEAF && avail < total {
                                WINDOW.max(total - avail)
                            } else {
                                len - have
                            }
                        }
                    };
                    win.drain(..at);
                    base += at;
                    at = 0;
                    let old = win.len();
                    win.resize(old + want.min(len - have), 0);
                    file.read_exact_at(&mut win[old..], have as u64)
                        .map_err(io(path))?;
                    continue;
                }
                let offset = base + at;
                if classify == Classify::Stop {
                    return Ok((count, End::Bad { offset, reason }, len));
                }
                // Crash tears only the end; an intact record further on means this is damage.
                let resync = (at + 1..win.len()).any(|q| parse_record(alg, &win, q).is_ok());
                let end = if resync {
                    End::Corrupt { offset, reason }
                } else {
                    End::Torn { offset, reason }
                };
                return Ok((count, end, len));
            }
        }
    }
}

/// Bytes [`scan_file`] reads at a time (small in unit tests, so that records straddle windows).
const WINDOW: usize = if cfg!(test) { 4096 } else { 4 << 20 };

fn read_all(path: &Path, file: &mut File) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io(path))?;
    Ok(bytes)
}

fn check_header(file: &'static str, bytes: &[u8], magic: &[u8; 8]) -> Result<()> {
    if bytes.len() < HEADER || &bytes[..HEADER] != magic {
        return Err(Error::Tampered {
            file,
            detail: "bad file header".to_owned(),
        });
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// A stored checkpoint: the signed note and its parsed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The signed-note text exactly as stored.
    pub note: String,
    /// Its body.
    pub checkpoint: Checkpoint,
}

/// What [`verify_dir`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Leaves recomputed.
    pub leaves: u64,
    /// Checkpoints whose signature, root and mutual consistency were checked.
    pub checkpoints: usize,
    /// The root of the whole log.
    pub root: Hash,
}

/// An open audit log.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    config: Config,
    verifier: NoteVerifier,
    tree: StoredTree,
    // Record offset of each leaf in leaves.dat.
    offsets: Offsets,
    leaves: File,
    leaves_end: u64,
    checkpoints: Vec<StoredCheckpoint>,
    checkpoints_file: File,
    checkpoints_end: u64,
    writable: bool,
    poisoned: bool,
}

impl Log {
    /// Creates a new log in `dir` (which must not exist or be empty) with a fresh signing key
    /// from the OS random source.
    pub fn create(dir: &Path, alg: HashAlg, origin: &str) -> Result<Log> {
        Self::create_with_key(dir, alg, origin, &SigningKey::generate_os()?)
    }

    /// Creates a new log in `dir` signed by `key`.
    pub fn create_with_key(
        dir: &Path,
        alg: HashAlg,
        origin: &str,
        key: &SigningKey,
    ) -> Result<Log> {
        if !valid_key_name(origin) {
            return Err(Error::Note(
                "origin must be non-empty, without spaces or '+'",
            ));
        }
        if dir.exists() {
            let mut entries = fs::read_dir(dir).map_err(io(dir))?;
            if entries.next().is_some() {
                return Err(Error::Dir {
                    path: dir.to_path_buf(),
                    detail: "directory is not empty",
                });
            }
        } else {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let config = Config {
            alg,
            origin: origin.to_owned(),
        };
        let write = |name: &str, contents: &[u8]| -> Result<()> {
            let path = dir.join(name);
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(io(&path))?;
            f.write_all(contents).map_err(io(&path))?;
            f.sync_all().map_err(io(&path))
        };
        keyfile::write_signing_key(&dir.join(KEY), key)?;
        keyfile::write_verifying_key(&dir.join(PUB), &key.verifying_key())?;
        write(LEAVES, LEAVES_MAGIC)?;
        write(CHECKPOINTS, CHECKPOINTS_MAGIC)?;
        // The config goes last: a directory with a config is a complete log.
        write(CONFIG, config.encode().as_bytes())?;
        sync_dir(dir)?;
        Self::open(dir)
    }

    /// Opens a log for appending: takes the exclusive lock and recovers a torn tail.
    pub fn open(dir: &Path) -> Result<Log> {
        Self::open_inner(dir, true)
    }

    /// Opens a log for reading only (shared lock; a torn tail is ignored, not removed).
    pub fn open_read(dir: &Path) -> Result<Log> {
        Self::open_inner(dir, false)
    }

    fn open_inner(dir: &Path, writable: bool) -> Result<Log> {
        let config_path = dir.join(CONFIG);
        let config_text = match fs::read_to_string(&config_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Dir {
                    path: dir.to_path_buf(),
                    detail: "not an audit log (no config); run init",
                });
            }
            Err(e) => {
                return Err(Error::Io {
                    path: config_path,
                    source: e,
                });
            }
        };
        let config = Config::parse(&config_text)?;
        let key = keyfile::read_verifying_key(&dir.join(PUB))?;
        let verifier = NoteVerifier::new(&config.origin, key)?;
        let alg = config.alg;

        let lpath = dir.join(LEAVES);
        let leaves = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(&lpath)
            .map_err(io(&lpath))?;
        if writable {
            leaves.lock()
        } else {
            leaves.lock_shared()
        }
        .map_err(io(&lpath))?;
        // The records stream through (the file is not held in memory) into the tree and the
        // offsets, which bring tree.dat and index.dat in line as they go.
        let mut tree = TreeBuilder::new(dir, alg, writable)?;
        let mut offsets = OffsetsBuilder::new(dir, writable)?;
        let (count, end, file_len) =
            scan_file(alg, &lpath, &leaves, Classify::TornOrCorrupt, |r| {
                tree.push(r.check)?;
                offsets.push((r.payload - 4) as u64)
            })?;
        let cpath = dir.join(CHECKPOINTS);
        let mut checkpoints_file = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(&cpath)
            .map_err(io(&cpath))?;
        let cbytes = read_all(&cpath, &mut checkpoints_file)?;
        check_header(CHECKPOINTS, &cbytes, CHECKPOINTS_MAGIC)?;
        let (crecs, cend) = scan(alg, &cbytes);
        let mut checkpoints = Vec::with_capacity(crecs.len());
        for (i, r) in crecs.iter().enumerate() {
            let note =
                std::str::from_utf8(&cbytes[r.payload..r.payload + r.len]).map_err(|_| {
                    Error::Tampered {
                        file: CHECKPOINTS,
                        detail: format!("checkpoint {i} is not UTF-8"),
                    }
                })?;
            let checkpoint = open_checkpoint(note, &verifier).map_err(|e| Error::Tampered {
                file: CHECKPOINTS,
                detail: format!("checkpoint {i}: {e}"),
            })?;
            checkpoints.push(StoredCheckpoint {
                note: note.to_owned(),
                checkpoint,
            });
        }
        let covered = checkpoints
            .iter()
            .map(|c| c.checkpoint.size)
            .max()
            .unwrap_or(0);

        let leaves_end = match end {
            End::Clean => file_len,
            // (`Bad` is not returned when classifying; refused like damage, to fail closed.)
            End::Corrupt { offset, reason } | End::Bad { offset, reason } => {
                return Err(Error::Tampered {
                    file: LEAVES,
                    detail: format!(
                        "record {} at offset {offset}: {reason}, and intact records follow",
                        count
                    ),
                });
            }
            End::Torn { offset, reason } => {
                if (count) < covered {
                    return Err(Error::Tampered {
                        file: LEAVES,
                        detail: format!(
                            "record {} at offset {offset}: {reason}; a checkpoint covers {covered} leaves",
                            count
                        ),
                    });
                }
                offset
            }
        };
        let checkpoints_end = match cend {
            End::Clean => cbytes.len(),
            End::Torn { offset, .. } => offset,
            End::Corrupt { offset, reason } | End::Bad { offset, reason } => {
                return Err(Error::Tampered {
                    file: CHECKPOINTS,
                    detail: format!(
                        "record {} at offset {offset}: {reason}, and intact records follow",
                        crecs.len()
                    ),
                });
            }
        };
        if writable {
            // Recovery: drop exactly the torn tails (never acknowledged) and make that durable.
            if leaves_end < file_len {
                leaves
                    .set_len(leaves_end as u64)
                    .and_then(|()| leaves.sync_all())
                    .map_err(io(&lpath))?;
            }
            if checkpoints_end < cbytes.len() {
                checkpoints_file
                    .set_len(checkpoints_end as u64)
                    .and_then(|()| checkpoints_file.sync_all())
                    .map_err(io(&cpath))?;
            }
        }
        let tree = tree.finish()?;
        let offsets = offsets.finish()?;
        for (i, c) in checkpoints.iter().enumerate() {
            let cp = &c.checkpoint;
            if cp.size > tree.size() {
                return Err(Error::Tampered {
                    file: LEAVES,
                    detail: format!(
                        "checkpoint {i} covers {} leaves but the log has {}",
                        cp.size,
                        tree.size()
                    ),
                });
            }
            if tree.root_at(cp.size)? != cp.root {
                return Err(Error::Tampered {
                    file: LEAVES,
                    detail: format!(
                        "leaves do not match the root of checkpoint {i} (size {})",
                        cp.size
                    ),
                });
            }
        }
        Ok(Log {
            dir: dir.to_path_buf(),
            config,
            verifier,
            tree,
            offsets,
            leaves,
            leaves_end: leaves_end as u64,
            checkpoints,
            checkpoints_file,
            checkpoints_end: checkpoints_end as u64,
            writable,
            poisoned: false,
        })
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The log's parameters.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// The log's tree (node hashes on disk, the top levels in memory).
    pub fn tree(&self) -> &StoredTree {
        &self.tree
    }
    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }
    /// The checkpoint public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        *self.verifier.key()
    }
    /// The signed-note verifier for this log's checkpoints.
    pub fn note_verifier(&self) -> &NoteVerifier {
        &self.verifier
    }
    /// Every stored checkpoint, oldest first.
    pub fn checkpoints(&self) -> &[StoredCheckpoint] {
        &self.checkpoints
    }
    /// Reads the signing key (refused if group/world readable).
    pub fn signing_key(&self) -> Result<SigningKey> {
        Ok(keyfile::read_signing_key(&self.dir.join(KEY))?)
    }

    /// Appends one leaf durably and returns its index.
    pub fn append(&mut self, data: &[u8]) -> Result<u64> {
        self.append_batch(&[data]).map(|r| r.start)
    }

    /// Appends leaves with one write and one fsync (group commit); returns their indices.
    pub fn append_batch(&mut self, items: &[&[u8]]) -> Result<Range<u64>> {
        if let Some(big) = items.iter().find(|d| d.len() > MAX_LEAF) {
            return Err(Error::LeafTooLarge(big.len()));
        }
        self.check_writable()?;
        let alg = self.config.alg;
        let total: usize = items.iter().map(|d| d.len() + 4 + TRAILER).sum();
        let mut buf = Vec::with_capacity(total);
        let mut hashes = Vec::with_capacity(items.len());
        let mut offsets = Vec::with_capacity(items.len());
        let start_off = self.leaves_end;
        for d in items {
            offsets.push(start_off + buf.len() as u64);
            let h = leaf_hash(alg, d);
            record(d, &h, &mut buf);
            hashes.push(h);
        }
        let first = self.tree.size();
        let staged = self.tree.stage(&hashes)?;
        // The caches first: should the records then fail, the next append overwrites them, and
        // a crash in between is repaired on open (they are never trusted over leaves.dat).
        self.tree.write(&staged)?;
        self.offsets.write(first, &offsets)?;
        self.durable_write(LEAVES, start_off, &buf)?;
        self.tree.commit(staged);
        self.leaves_end = start_off + buf.len() as u64;
        Ok(first..self.tree.size())
    }

    fn check_writable(&self) -> Result<()> {
        if !self.writable {
            return Err(Error::Dir {
                path: self.dir.clone(),
                detail: "log is open read-only",
            });
        }
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        Ok(())
    }

    fn durable_write(&mut self, which: &'static str, at: u64, buf: &[u8]) -> Result<()> {
        self.check_writable()?;
        let file = if which == LEAVES {
            &self.leaves
        } else {
            &self.checkpoints_file
        };
        let path = self.dir.join(which);
        let res = file.write_all_at(buf, at).and_then(|()| file.sync_data());
        if let Err(e) = res {
            // Take back a partial write so later appends never land after garbage.
            if file.set_len(at).and_then(|()| file.sync_all()).is_err() {
                self.poisoned = true;
            }
            return Err(Error::Io { path, source: e });
        }
        Ok(())
    }

    /// Signs a checkpoint of the current tree, stores it durably and returns the note text.
    pub fn checkpoint(&mut self, key: &SigningKey) -> Result<StoredCheckpoint> {
        if key.verifying_key() != self.verifying_key() {
            return Err(Error::Dir {
                path: self.dir.join(KEY),
                detail: "signing key does not match signing.pub",
            });
        }
        let cp = Checkpoint::new(self.config.origin.clone(), self.size(), self.tree.root());
        let note = sign_checkpoint(&cp, &self.config.origin, key)?;
        let mut buf = Vec::with_capacity(note.len() + 36);
        record(
            note.as_bytes(),
            &leaf_hash(self.config.alg, note.as_bytes()),
            &mut buf,
        );
        let at = self.checkpoints_end;
        self.durable_write(CHECKPOINTS, at, &buf)?;
        self.checkpoints_end += buf.len() as u64;
        let stored = StoredCheckpoint {
            note,
            checkpoint: cp,
        };
        self.checkpoints.push(stored.clone());
        Ok(stored)
    }

    /// Reads the data of leaf `index`.
    pub fn leaf_data(&self, index: u64) -> Result<Vec<u8>> {
        if index >= self.size() {
            return Err(Error::IndexOutOfRange {
                index,
                size: self.size(),
            });
        }
        let off = self.offsets.get(index)?;
        let path = self.dir.join(LEAVES);
        let mut len = [0u8; 4];
        self.leaves
            .read_exact_at(&mut len, off)
            .map_err(io(&path))?;
        let len = u32::from_be_bytes(len) as usize;
        // The offsets were derived from verified records on open; a file changed under an open
        // log is refused rather than read past its records.
        if len > MAX_LEAF || off + 4 + (len + TRAILER) as u64 > self.leaves_end {
            return Err(Error::Tampered {
                file: LEAVES,
                detail: format!("leaf {index} at offset {off} changed while the log was open"),
            });
        }
        let mut buf = vec![0u8; len];
        self.leaves
            .read_exact_at(&mut buf, off + 4)
            .map_err(io(&path))?;
        Ok(buf)
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.tree.inclusion_proof(index, size)
    }

    /// The consistency proof between sizes `old` and `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.tree.consistency_proof(old, new)
    }
}

/// Recomputes and checks everything in the log directory without changing it: the config, the
/// key pair, every leaf record, every checkpoint's record, signature and root, and the
/// consistency of every checkpoint with the next one and with the latest. Returns the first
/// problem, named by file and offset or index.
pub fn verify_dir(dir: &Path) -> Result<VerifyReport> {
    let tampered = |file: &'static str, detail: String| Error::Tampered { file, detail };
    let config_path = dir.join(CONFIG);
    let config = Config::parse(&fs::read_to_string(&config_path).map_err(io(&config_path))?)?;
    let alg = config.alg;
    let key = keyfile::read_verifying_key(&dir.join(PUB))
        .map_err(|e| tampered(PUB, format!("unreadable public key: {e}")))?;
    match keyfile::read_signing_key(&dir.join(KEY)) {
        Ok(secret) if secret.verifying_key() != key => {
            return Err(tampered(
                KEY,
                "secret key does not match signing.pub".to_owned(),
            ));
        }
        Ok(_) => {}
        // Someone without read access to the secret may still verify everything public.
        Err(toolcap_crypto::Error::KeyIo { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied => {}
        Err(e) => return Err(tampered(KEY, e.to_string())),
    }
    let verifier = NoteVerifier::new(&config.origin, key)?;

    let lpath = dir.join(LEAVES);
    let lfile = File::open(&lpath).map_err(io(&lpath))?;
    lfile.lock_shared().map_err(io(&lpath))?;
    let cpath = dir.join(CHECKPOINTS);
    let cbytes = fs::read(&cpath).map_err(io(&cpath))?;
    // The checkpoints are few and small; parsing them first tells which prefix roots the
    // stream of leaves must yield. Their problems are reported after the leaves', as before.
    let cps = checkpoints_of(&cbytes, alg, &verifier, &config.origin);
    let mut wanted: Vec<u64> = cps
        .iter()
        .map_while(|c| c.as_ref().ok())
        .map(|c| c.size)
        .collect();
    wanted.sort_unstable();
    wanted.dedup();

    // Stream the records through the right frontier (at most 64 hashes): bounded memory
    // whatever the log's size. `roots[i]` is the root of the first `wanted[i]` leaves.
    let mut frontier: Vec<Hash> = Vec::with_capacity(64);
    let mut roots: Vec<Hash> = Vec::with_capacity(wanted.len());
    let mut size = 0u64;
    while wanted.get(roots.len()) == Some(&0) {
        roots.push(empty_root(alg));
    }
    let (_, end, _) = scan_file(alg, &lpath, &lfile, Classify::Stop, |r| {
        push_leaf(alg, &mut frontier, size, r.check, |_, _, _| Ok(()))?;
        size += 1;
        while wanted.get(roots.len()) == Some(&size) {
            roots.push(frontier_root(alg, &frontier));
        }
        Ok(())
    })?;
    match end {
        End::Clean => {}
        End::Torn { offset, reason }
        | End::Corrupt { offset, reason }
        | End::Bad { offset, reason } => {
            return Err(tampered(
                LEAVES,
                format!(
                    "leaf {size} at offset {offset}: {reason} ({size} leaves before it are intact)"
                ),
            ));
        }
    }

    let mut checked: Vec<Checkpoint> = Vec::with_capacity(cps.len());
    for (i, cp) in cps.into_iter().enumerate() {
        let cp = cp?;
        if cp.size > size {
            return Err(tampered(
                LEAVES,
                format!(
                    "checkpoint {i} covers {} leaves but only {size} are stored",
                    cp.size
                ),
            ));
        }
        let root = wanted
            .binary_search(&cp.size)
            .ok()
            .and_then(|k| roots.get(k))
            .ok_or_else(|| tampered(LEAVES, format!("internal: no root at size {}", cp.size)))?;
        if *root != cp.root {
            return Err(tampered(
                LEAVES,
                format!(
                    "the first {} leaves do not hash to the root signed in checkpoint {i}",
                    cp.size
                ),
            ));
        }
        if let Some(prev) = checked.last()
            && cp.size < prev.size
        {
            return Err(tampered(
                CHECKPOINTS,
                format!("checkpoint {i} is smaller than checkpoint {}", i - 1),
            ));
        }
        checked.push(cp);
    }
    // Every checkpoint's root is now the RFC 9162 root of a prefix of the same leaves, so each
    // is consistent with every later one: the consistency proof built from these leaves verifies
    // by construction (RFC 9162 §2.1.4). Building and checking those proofs, as an in-memory tree
    // allowed, can find nothing more (docs/decisions/0085-streaming-audit-verify.md).
    Ok(VerifyReport {
        leaves: size,
        checkpoints: checked.len(),
        root: frontier_root(alg, &frontier),
    })
}

/// The signed checkpoints in `checkpoints.dat` (its bytes), in order, each opened with
/// `verifier` and checked to be of `origin`; the first problem ends the list.
fn checkpoints_of(
    cbytes: &[u8],
    alg: HashAlg,
    verifier: &NoteVerifier,
    origin: &str,
) -> Vec<Result<Checkpoint>> {
    let tampered = |detail: String| Error::Tampered {
        file: CHECKPOINTS,
        detail,
    };
    if let Err(e) = check_header(CHECKPOINTS, cbytes, CHECKPOINTS_MAGIC) {
        return vec![Err(e)];
    }
    let (crecs, cend) = scan(alg, cbytes);
    match cend {
        End::Clean => {}
        End::Torn { offset, reason }
        | End::Corrupt { offset, reason }
        | End::Bad { offset, reason } => {
            return vec![Err(tampered(format!(
                "checkpoint {} at offset {offset}: {reason}",
                crecs.len()
            )))];
        }
    }
    let mut out = Vec::with_capacity(crecs.len());
    for (i, r) in crecs.iter().enumerate() {
        let cp = std::str::from_utf8(&cbytes[r.payload..r.payload + r.len])
            .map_err(|_| tampered(format!("checkpoint {i} is not UTF-8")))
            .and_then(|note| {
                open_checkpoint(note, verifier)
                    .map_err(|e| tampered(format!("checkpoint {i}: {e}")))
            })
            .and_then(|cp| {
                if cp.origin == origin {
                    Ok(cp)
                } else {
                    Err(tampered(format!(
                        "checkpoint {i}: origin {:?} is not the log's",
                        cp.origin
                    )))
                }
            });
        let bad = cp.is_err();
        out.push(cp);
        if bad {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Tree;

    fn key() -> SigningKey {
        SigningKey::from_seed(&[5; 32])
    }

    #[test]
    fn append_reopen_prove() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("log");
        let mut log =
            Log::create_with_key(&d, HashAlg::Sha3_256, "test.local/audit", &key()).unwrap();
        assert_eq!(log.append(b"a").unwrap(), 0);
        assert_eq!(log.append_batch(&[b"b", b"c", b""]).unwrap(), 1..4);
        let c = log.checkpoint(&key()).unwrap();
        assert_eq!(c.checkpoint.size, 4);
        drop(log);
        let log = Log::open_read(&d).unwrap();
        assert_eq!(log.size(), 4);
        assert_eq!(log.leaf_data(2).unwrap(), b"c");
        assert_eq!(log.leaf_data(3).unwrap(), b"");
        assert!(log.leaf_data(4).is_err());
        assert_eq!(log.checkpoints().len(), 1);
        let report = verify_dir(&d).unwrap();
        assert_eq!((report.leaves, report.checkpoints), (4, 1));
        assert!(
            Log::create_with_key(&d, HashAlg::Sha3_256, "x", &key()).is_err(),
            "not empty"
        );
    }

    #[test]
    fn torn_tail_is_truncated_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("log");
        let mut log = Log::create_with_key(&d, HashAlg::Sha256, "t", &key()).unwrap();
        log.append_batch(&[b"one", b"two"]).unwrap();
        drop(log);
        let path = d.join(LEAVES);
        let good = fs::read(&path).unwrap();
        // Every possible torn state of a third record, and a zero-filled tail.
        let mut third = Vec::new();
        record(b"three", &leaf_hash(HashAlg::Sha256, b"three"), &mut third);
        for cut in 0..third.len() {
            let mut bytes = good.clone();
            bytes.extend_from_slice(&third[..cut]);
            fs::write(&path, &bytes).unwrap();
            assert!(verify_dir(&d).is_err() || cut == 0);
            let log = Log::open(&d).unwrap();
            assert_eq!(log.size(), 2, "cut {cut}");
            drop(log);
            assert_eq!(fs::read(&path).unwrap(), good);
        }
        let mut bytes = good.clone();
        bytes.extend_from_slice(&[0u8; 100]);
        fs::write(&path, &bytes).unwrap();
        let mut log = Log::open(&d).unwrap();
        assert_eq!(log.append(b"three").unwrap(), 2);
        drop(log); // verify_dir waits for the writer's lock
        verify_dir(&d).unwrap();
    }

    #[test]
    fn records_straddling_scan_windows() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("log");
        let alg = HashAlg::Sha3_256;
        let mut log = Log::create_with_key(&d, alg, "t", &key()).unwrap();
        // Sizes around and far above the 4 KiB test window, so records cross its edges.
        let items: Vec<Vec<u8>> = (0..400usize)
            .map(|i| {
                vec![(i % 251) as u8; (i * 37) % 700 + if i % 97 == 5 { 3 * WINDOW } else { 0 }]
            })
            .collect();
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        log.append_batch(&refs).unwrap();
        drop(log);
        let mut mem = Tree::new(alg);
        for d in &items {
            mem.push_data(d);
        }
        let log = Log::open(&d).unwrap();
        assert_eq!(log.size(), 400);
        assert_eq!(log.tree().root(), mem.root());
        for i in [0, 5, 102, 199, 399] {
            assert_eq!(log.leaf_data(i).unwrap(), items[i as usize]);
        }
        drop(log);
        let path = d.join(LEAVES);
        let good = fs::read(&path).unwrap();
        // A torn tail after many windows is cut exactly.
        let mut torn = good.clone();
        torn.extend_from_slice(&(5000u32).to_be_bytes());
        torn.extend_from_slice(&[1; 4500]);
        fs::write(&path, &torn).unwrap();
        let log = Log::open(&d).unwrap();
        assert_eq!(log.size(), 400);
        drop(log);
        assert_eq!(fs::read(&path).unwrap(), good);
        // Damage far from the start, with intact records after it, is refused.
        let mut bad = good.clone();
        let at = good.len() * 2 / 3;
        bad[at] ^= 1;
        fs::write(&path, &bad).unwrap();
        let err = Log::open(&d).unwrap_err().to_string();
        assert!(err.contains("intact records follow"), "{err}");
        fs::write(&path, &good).unwrap();
        verify_dir(&d).unwrap();
    }

    #[test]
    fn damage_in_the_middle_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("log");
        let mut log = Log::create_with_key(&d, HashAlg::Sha3_256, "t", &key()).unwrap();
        log.append_batch(&[b"one", b"two", b"three"]).unwrap();
        drop(log);
        let path = d.join(LEAVES);
        let mut bytes = fs::read(&path).unwrap();
        bytes[HEADER + 5] ^= 1; // inside leaf 0's payload
        fs::write(&path, &bytes).unwrap();
        let err = Log::open(&d).unwrap_err().to_string();
        assert!(
            err.contains("leaves.dat") && err.contains("intact records follow"),
            "{err}"
        );
        assert!(
            verify_dir(&d)
                .unwrap_err()
                .to_string()
                .contains("leaf 0 at offset 8")
        );
    }

    #[test]
    fn config_parse_is_strict() {
        let good = Config {
            alg: HashAlg::Sha256,
            origin: "a/b".into(),
        };
        assert_eq!(Config::parse(&good.encode()).unwrap(), good);
        for bad in [
            "",
            "toolcap-audit-log v1\nhash sha256\norigin a\n\n",
            "toolcap-audit-log v1\nhash md5\norigin a\n",
        ] {
            assert!(Config::parse(bad).is_err());
        }
    }
}
