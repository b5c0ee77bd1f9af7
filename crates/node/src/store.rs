//! Embedded storage: the node's event journal in redb.
//!
//! redb is a pure-Rust, ACID, copy-on-write B-tree store: a committed write transaction is
//! durable (`Durability::Immediate`: fsynced before `commit` returns), and after a crash the
//! database opens at the last committed transaction. See `docs/decisions/0091-node-storage.md`.

use std::ops::Range;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::NodeError;
use crate::event::Event;

/// Sequence number -> the event as JSON.
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");

fn storage<E: std::fmt::Display>(e: E) -> NodeError {
    NodeError::Storage(e.to_string())
}

/// Page cache of the journal's database.
const CACHE_BYTES: usize = 32 << 20;

/// The durable event journal.
#[derive(Debug)]
pub struct Store {
    db: Database,
    next: u64,
}

impl Store {
    /// Opens (or creates) the journal at `path`.
    pub fn open(path: &Path) -> Result<Store, NodeError> {
        // The journal is written once and read back only on start: a small page cache keeps
        // the node's memory flat however long it runs (redb's default would grow to 1 GiB).
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(storage)?;
        let txn = db.begin_write().map_err(storage)?;
        txn.open_table(EVENTS).map_err(storage)?;
        txn.commit().map_err(storage)?;
        let next = {
            let txn = db.begin_read().map_err(storage)?;
            let table = txn.open_table(EVENTS).map_err(storage)?;
            match table.last().map_err(storage)? {
                Some((k, _)) => k.value() + 1,
                None => 0,
            }
        };
        Ok(Store { db, next })
    }

    /// Number of events stored.
    pub fn len(&self) -> u64 {
        self.next
    }

    /// Whether no event is stored.
    pub fn is_empty(&self) -> bool {
        self.next == 0
    }

    /// Appends several batches in one durable transaction; returns each batch's sequence range.
    /// Nothing is visible (or acknowledged) unless all of it is committed.
    pub fn append(&mut self, batches: &[&[Event]]) -> Result<Vec<Range<u64>>, NodeError> {
        let txn = self.db.begin_write().map_err(storage)?;
        let mut ranges = Vec::with_capacity(batches.len());
        let mut next = self.next;
        {
            let mut table = txn.open_table(EVENTS).map_err(storage)?;
            for batch in batches {
                let start = next;
                for e in *batch {
                    let bytes = serde_json::to_vec(e).map_err(storage)?;
                    table.insert(next, bytes.as_slice()).map_err(storage)?;
                    next += 1;
                }
                ranges.push(start..next);
            }
        }
        txn.commit().map_err(storage)?;
        self.next = next;
        Ok(ranges)
    }

    /// Calls `f` with every stored event in sequence order (used to rebuild state on start).
    pub fn replay(
        &self,
        mut f: impl FnMut(u64, Event) -> Result<(), NodeError>,
    ) -> Result<(), NodeError> {
        let txn = self.db.begin_read().map_err(storage)?;
        let table = txn.open_table(EVENTS).map_err(storage)?;
        for row in table.iter().map_err(storage)? {
            let (k, v) = row.map_err(storage)?;
            let event: Event = serde_json::from_slice(v.value())
                .map_err(|e| NodeError::Storage(format!("event {} is corrupt: {e}", k.value())))?;
            f(k.value(), event)?;
        }
        Ok(())
    }
}
