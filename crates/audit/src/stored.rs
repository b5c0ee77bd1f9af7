//! The tree of a stored [`crate::Log`]: every node hash on disk, only the top of the tree and the
//! right frontier in memory, so a log's memory does not grow with its size.
//!
//! `tree.dat` holds the hash of every complete, aligned subtree in post-order (each leaf hash is
//! followed by the hashes of the subtrees it completes, as in a Merkle mountain range or the
//! history tree of Crosby and Wallach). The subtree at level `l`, position `j` (leaves
//! `[j·2^l, (j+1)·2^l)`) whose last leaf is `i = (j+1)·2^l - 1` sits at hash number
//! `2i - popcount(i) + l`, so a log of `n` leaves has exactly `2n - popcount(n)` hashes on disk
//! (64 bytes per leaf) and appending only ever writes at the end. `index.dat` holds the offset
//! of each leaf's record in `leaves.dat` (a `u64`, big-endian, 8 bytes per leaf).
//!
//! In memory: the levels at and above [`CACHED_LEVEL`] (one hash per 2,048 leaves, 1/64 byte per
//! leaf: 16 MB for a billion leaves) and the right frontier (the roots of the complete subtrees
//! that make up the tree, at most 64 hashes). A proof reads one hash per level below that with
//! positioned reads (`pread`; no `mmap`, the workspace forbids `unsafe`).
//!
//! Both files are caches derived from `leaves.dat`, which stays the only source of truth: they
//! are written before the records of a batch and never `fsync`ed. On every open they are
//! recomputed from the verified records and compared chunk by chunk; a writer rewrites them from
//! the first difference and truncates them to their exact length (after a crash, a torn tail, a
//! failed write or damage), and a reader that cannot write them keeps the rest in memory.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use toolcap_crypto::{Hash, HashAlg};

use crate::error::{Error, Result};
use crate::tree::{self, Nodes, empty_root, node_hash};

/// Levels at and above this one are kept in memory (the subtrees of 4,096 leaves and larger).
/// Level 8 (0.25 bytes a leaf) still grew a node's memory by 11 MB in a 5-minute soak; at 12 a
/// proof reads 4 more hashes from the page cache (`docs/benchmarks.md`).
pub const CACHED_LEVEL: u32 = 12;

pub(crate) const TREE: &str = "tree.dat";
pub(crate) const INDEX: &str = "index.dat";
const HASH: u64 = 32;
/// Bytes compared or written at once while bringing a cache file in line.
const CHUNK: usize = 1 << 20;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The post-order position (in hashes) of the subtree at `level`, `index`.
fn position(level: u32, index: u64) -> u64 {
    let last = ((index + 1) << level) - 1;
    2 * last - u64::from(last.count_ones()) + u64::from(level)
}

/// Where a cache file's bytes live.
#[derive(Debug)]
enum Backing {
    File {
        file: File,
        path: PathBuf,
    },
    /// A read-only open of a log whose cache file is missing or stale.
    Memory(Vec<u8>),
}

impl Backing {
    fn read_at(&self, buf: &mut [u8], off: u64) -> Result<()> {
        match self {
            Backing::File { file, path } => file.read_exact_at(buf, off).map_err(io(path)),
            Backing::Memory(v) => {
                let src = usize::try_from(off)
                    .ok()
                    .and_then(|o| v.get(o..o.checked_add(buf.len())?))
                    .ok_or(Error::Tampered {
                        file: TREE,
                        detail: format!("read past the end of the in-memory copy at {off}"),
                    })?;
                buf.copy_from_slice(src);
                Ok(())
            }
        }
    }

    /// Writes at `off`, the current end (anything after it is left over from a failed append).
    fn write_at(&mut self, buf: &[u8], off: u64) -> Result<()> {
        match self {
            Backing::File { file, path } => file.write_all_at(buf, off).map_err(io(path)),
            Backing::Memory(v) => {
                let at = usize::try_from(off).map_err(|_| Error::Tampered {
                    file: TREE,
                    detail: "offset beyond the address space".to_owned(),
                })?;
                v.resize(at, 0);
                v.extend_from_slice(buf);
                Ok(())
            }
        }
    }
}

/// Brings a cache file in line with the bytes it must hold, streaming: compares chunk by chunk,
/// rewrites from the first difference and fixes the length.
struct Rebuild {
    backing: Backing,
    writable: bool,
    file_len: u64,
    pos: u64,
    same: bool,
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

impl Rebuild {
    fn open(dir: &Path, name: &str, writable: bool) -> Result<Rebuild> {
        let path = dir.join(name);
        let opened = if writable {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        } else {
            File::open(&path)
        };
        let (backing, file_len) = match opened {
            Ok(file) => {
                let len = file.metadata().map_err(io(&path))?.len();
                (Backing::File { file, path }, len)
            }
            Err(e) if !writable && e.kind() == std::io::ErrorKind::NotFound => {
                (Backing::Memory(Vec::new()), 0)
            }
            Err(e) => return Err(Error::Io { path, source: e }),
        };
        Ok(Rebuild {
            backing,
            writable,
            file_len,
            pos: 0,
            same: true,
            buf: Vec::with_capacity(CHUNK + 64),
            scratch: Vec::new(),
        })
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let len = self.buf.len() as u64;
        let replace = match &mut self.backing {
            Backing::Memory(v) => {
                v.extend_from_slice(&self.buf);
                None
            }
            Backing::File { file, path } => {
                let mut same = false;
                if self.same && self.pos + len <= self.file_len {
                    self.scratch.resize(self.buf.len(), 0);
                    file.read_exact_at(&mut self.scratch, self.pos)
                        .map_err(io(path))?;
                    same = self.scratch == self.buf;
                }
                if same {
                    None
                } else if self.writable {
                    self.same = false;
                    file.write_all_at(&self.buf, self.pos).map_err(io(path))?;
                    None
                } else {
                    // A file this reader may not repair: the verified prefix and the rest go to
                    // memory.
                    let prefix = usize::try_from(self.pos).map_err(|_| Error::Tampered {
                        file: TREE,
                        detail: "cache larger than the address space".to_owned(),
                    })?;
                    let mut v = vec![0u8; prefix];
                    file.read_exact_at(&mut v, 0).map_err(io(path))?;
                    v.extend_from_slice(&self.buf);
                    Some(Backing::Memory(v))
                }
            }
        };
        if let Some(b) = replace {
            self.backing = b;
        }
        self.pos += len;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<Backing> {
        self.flush()?;
        if let Backing::File { file, path } = &self.backing
            && self.writable
            && self.file_len != self.pos
        {
            file.set_len(self.pos).map_err(io(path))?;
        }
        Ok(self.backing)
    }
}

/// Appends leaf hash `leaf` as leaf number `n` to `frontier` (the roots of the complete subtrees
/// of the first `n` leaves, largest first), calling `emit(level, index, hash)` for the leaf and
/// every subtree it completes, in post-order.
pub(crate) fn push_leaf(
    alg: HashAlg,
    frontier: &mut Vec<Hash>,
    n: u64,
    leaf: Hash,
    mut emit: impl FnMut(u32, u64, &Hash) -> Result<()>,
) -> Result<()> {
    let mut h = leaf;
    emit(0, n, &h)?;
    let mut level = 0;
    // Each trailing one bit of n is a complete subtree on the frontier that this leaf's subtree
    // of the same size now joins.
    while (n >> level) & 1 == 1 {
        let left = frontier.pop().ok_or_else(|| Error::Tampered {
            file: TREE,
            detail: "internal: the frontier is out of step with the size".to_owned(),
        })?;
        h = node_hash(alg, &left, &h);
        level += 1;
        emit(level, n >> level, &h)?;
    }
    frontier.push(h);
    Ok(())
}

/// The root of the tree whose right frontier (complete subtree roots, largest first) is
/// `frontier`.
pub(crate) fn frontier_root(alg: HashAlg, frontier: &[Hash]) -> Hash {
    let mut it = frontier.iter().rev();
    let Some(last) = it.next() else {
        return empty_root(alg);
    };
    // RFC 9162 §2.1.1: MTH = HASH(0x01 || MTH(left k) || MTH(rest)), so the frontier folds
    // from the right.
    it.fold(*last, |acc, left| node_hash(alg, left, &acc))
}

/// Opens `tree.dat` and brings it in line with the verified leaf hashes pushed, one by one.
pub(crate) struct TreeBuilder {
    alg: HashAlg,
    rb: Rebuild,
    upper: Vec<Vec<Hash>>,
    frontier: Vec<Hash>,
    size: u64,
}

impl TreeBuilder {
    pub(crate) fn new(dir: &Path, alg: HashAlg, writable: bool) -> Result<TreeBuilder> {
        Ok(TreeBuilder {
            alg,
            rb: Rebuild::open(dir, TREE, writable)?,
            upper: Vec::new(),
            frontier: Vec::new(),
            size: 0,
        })
    }

    pub(crate) fn push(&mut self, leaf: Hash) -> Result<()> {
        let (rb, upper) = (&mut self.rb, &mut self.upper);
        push_leaf(
            self.alg,
            &mut self.frontier,
            self.size,
            leaf,
            |level, _, h| {
                if level >= CACHED_LEVEL {
                    let k = (level - CACHED_LEVEL) as usize;
                    if upper.len() <= k {
                        upper.push(Vec::new());
                    }
                    upper[k].push(*h);
                }
                rb.feed(&h.0)
            },
        )?;
        self.size += 1;
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<StoredTree> {
        Ok(StoredTree {
            alg: self.alg,
            size: self.size,
            nodes: self.rb.finish()?,
            upper: self.upper,
            frontier: self.frontier,
        })
    }
}

/// Opens `index.dat` and brings it in line with the verified record offsets pushed.
pub(crate) struct OffsetsBuilder {
    rb: Rebuild,
}

impl OffsetsBuilder {
    pub(crate) fn new(dir: &Path, writable: bool) -> Result<OffsetsBuilder> {
        Ok(OffsetsBuilder {
            rb: Rebuild::open(dir, INDEX, writable)?,
        })
    }

    pub(crate) fn push(&mut self, offset: u64) -> Result<()> {
        self.rb.feed(&offset.to_be_bytes())
    }

    pub(crate) fn finish(self) -> Result<Offsets> {
        Ok(Offsets {
            backing: self.rb.finish()?,
        })
    }
}

/// A batch of leaves hashed into the tree but not yet part of it (see [`StoredTree::stage`]).
#[derive(Debug)]
pub(crate) struct Staged {
    bytes: Vec<u8>,
    frontier: Vec<Hash>,
    upper: Vec<(u32, Hash)>,
    size: u64,
}

/// The Merkle tree of a stored log: node hashes in `tree.dat`, the top levels in memory.
///
/// Answers the same questions as the in-memory [`crate::Tree`] with the same RFC 9162 code, and
/// gives identical roots and proofs.
#[derive(Debug)]
pub struct StoredTree {
    alg: HashAlg,
    size: u64,
    nodes: Backing,
    // upper[k] holds every complete subtree hash of level CACHED_LEVEL + k.
    upper: Vec<Vec<Hash>>,
    frontier: Vec<Hash>,
}

impl StoredTree {
    /// Opens `tree.dat` in `dir` for the verified leaf hashes `leaves`, bringing it in line.
    #[cfg(test)]
    pub(crate) fn open(
        dir: &Path,
        alg: HashAlg,
        leaves: impl Iterator<Item = Hash>,
        writable: bool,
    ) -> Result<StoredTree> {
        let mut b = TreeBuilder::new(dir, alg, writable)?;
        for leaf in leaves {
            b.push(leaf)?;
        }
        b.finish()
    }

    /// The hash algorithm.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Result<Hash> {
        if index >= self.size {
            return Err(Error::IndexOutOfRange {
                index,
                size: self.size,
            });
        }
        self.node(0, index)
    }

    /// The root of the current tree (from the frontier: no I/O).
    pub fn root(&self) -> Hash {
        frontier_root(self.alg, &self.frontier)
    }

    /// The root the tree had when it held `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        if size == self.size {
            return Ok(self.root());
        }
        tree::root_at(self, size)
    }

    /// RFC 9162 §2.1.3.1: the inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        tree::inclusion_proof(self, index, size)
    }

    /// RFC 9162 §2.1.4.1: the consistency proof between the trees of `old` and `new` leaves.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        tree::consistency_proof(self, old, new)
    }

    /// Hashes `leaves` into a new frontier and the bytes to append, without changing the tree.
    pub(crate) fn stage(&self, leaves: &[Hash]) -> Result<Staged> {
        let mut bytes = Vec::with_capacity(leaves.len() * 2 * HASH as usize);
        let mut frontier = self.frontier.clone();
        let mut upper = Vec::new();
        let mut n = self.size;
        for leaf in leaves {
            push_leaf(self.alg, &mut frontier, n, *leaf, |level, _, h| {
                if level >= CACHED_LEVEL {
                    upper.push((level, *h));
                }
                bytes.extend_from_slice(&h.0);
                Ok(())
            })?;
            n += 1;
        }
        Ok(Staged {
            bytes,
            frontier,
            upper,
            size: n,
        })
    }

    /// Writes a staged batch's hashes at the end of `tree.dat` (not synced: see the module docs).
    pub(crate) fn write(&mut self, staged: &Staged) -> Result<()> {
        let at = position(0, self.size) * HASH;
        self.nodes.write_at(&staged.bytes, at)
    }

    /// Makes a written batch part of the tree.
    pub(crate) fn commit(&mut self, staged: Staged) {
        for (level, h) in staged.upper {
            let k = (level - CACHED_LEVEL) as usize;
            if self.upper.len() <= k {
                self.upper.push(Vec::new());
            }
            self.upper[k].push(h);
        }
        self.frontier = staged.frontier;
        self.size = staged.size;
    }
}

impl Nodes for StoredTree {
    fn alg(&self) -> HashAlg {
        self.alg
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        // The subtree (level, index) is complete iff (index + 1)·2^level <= size.
        if level >= 64 || index >= self.size >> level {
            return Err(Error::SizeOutOfRange {
                size: index.saturating_add(1).saturating_mul(1 << level.min(63)),
                tree_size: self.size,
            });
        }
        if level >= CACHED_LEVEL {
            let k = (level - CACHED_LEVEL) as usize;
            return usize::try_from(index)
                .ok()
                .and_then(|i| self.upper.get(k)?.get(i).copied())
                .ok_or(Error::Tampered {
                    file: TREE,
                    detail: format!("internal: cached level {level} lacks node {index}"),
                });
        }
        let mut h = Hash::default();
        self.nodes
            .read_at(&mut h.0, position(level, index) * HASH)?;
        Ok(h)
    }
}

/// The offsets of the leaf records in `leaves.dat`, stored in `index.dat`.
#[derive(Debug)]
pub(crate) struct Offsets {
    backing: Backing,
}

impl Offsets {
    /// The record offset of leaf `index` (which the caller checked is below the size).
    pub(crate) fn get(&self, index: u64) -> Result<u64> {
        let mut b = [0u8; 8];
        self.backing.read_at(&mut b, index * 8)?;
        Ok(u64::from_be_bytes(b))
    }

    /// Writes the offsets of new leaves, the first being leaf `first` (not synced).
    pub(crate) fn write(&mut self, first: u64, offsets: &[u64]) -> Result<()> {
        let bytes: Vec<u8> = offsets.iter().flat_map(|o| o.to_be_bytes()).collect();
        self.backing.write_at(&bytes, first * 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Tree, leaf_hash};

    #[test]
    fn positions_are_post_order() {
        // Size 4: leaf0 leaf1 n(1,0) leaf2 leaf3 n(1,1) n(2,0).
        let order = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)];
        for (p, (l, i)) in order.iter().enumerate() {
            assert_eq!(position(*l, *i), p as u64);
        }
    }

    #[test]
    fn matches_the_in_memory_tree() {
        let alg = HashAlg::Sha3_256;
        let dir = tempfile::tempdir().unwrap();
        let mut mem = Tree::new(alg);
        let mut st = StoredTree::open(dir.path(), alg, std::iter::empty(), true).unwrap();
        let mut n = 0u64;
        // Batches crossing tile boundaries, up to 2 cached levels.
        for batch in [1usize, 2, 5, 250, 7, 1024, 300, 1, 4096, 5000] {
            let leaves: Vec<Hash> = (0..batch)
                .map(|i| leaf_hash(alg, &(n + i as u64).to_be_bytes()))
                .collect();
            let s = st.stage(&leaves).unwrap();
            st.write(&s).unwrap();
            st.commit(s);
            for l in &leaves {
                mem.push(*l);
            }
            n += batch as u64;
            assert_eq!(st.root(), mem.root());
        }
        for size in [1, 2, 3, 255, 256, 257, 1000, 4096, 4097, 8193, n - 1, n] {
            assert_eq!(st.root_at(size).unwrap(), mem.root_at(size).unwrap());
            for index in [0, size / 3, size - 1] {
                assert_eq!(
                    st.inclusion_proof(index, size).unwrap(),
                    mem.inclusion_proof(index, size).unwrap()
                );
            }
            for old in [1, size / 2 + 1, size] {
                assert_eq!(
                    st.consistency_proof(old, size).unwrap(),
                    mem.consistency_proof(old, size).unwrap()
                );
            }
        }
        assert_eq!(st.upper.len(), 2, "levels 12 and 13 are cached");
        assert!(st.leaf(n).is_err());
        assert!(st.root_at(n + 1).is_err());
        let on_disk = std::fs::metadata(dir.path().join(TREE)).unwrap().len();
        assert_eq!(on_disk, (2 * n - u64::from(n.count_ones())) * HASH);
        // Reopening (writable and read-only) from the leaf hashes gives the same tree; a damaged
        // or missing file is repaired or held in memory.
        let leaves = mem.leaf_hashes().to_vec();
        let path = dir.path().join(TREE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[40_000] ^= 1;
        bytes.extend_from_slice(&[7; 100]);
        std::fs::write(&path, &bytes).unwrap();
        let ro = StoredTree::open(dir.path(), alg, leaves.iter().copied(), false).unwrap();
        assert!(matches!(ro.nodes, Backing::Memory(_)));
        let rw = StoredTree::open(dir.path(), alg, leaves.iter().copied(), true).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), on_disk);
        for t in [&ro, &rw] {
            assert_eq!(t.root(), mem.root());
            assert_eq!(t.root_at(700).unwrap(), mem.root_at(700).unwrap());
            for i in (0..n).step_by(397) {
                assert_eq!(
                    t.inclusion_proof(i, n).unwrap(),
                    mem.inclusion_proof(i, n).unwrap()
                );
            }
        }
        std::fs::remove_file(&path).unwrap();
        let ro = StoredTree::open(dir.path(), alg, leaves.iter().copied(), false).unwrap();
        assert_eq!(ro.root_at(1500).unwrap(), mem.root_at(1500).unwrap());
        assert!(!path.exists(), "a reader creates nothing");
    }
}
