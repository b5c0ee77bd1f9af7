//! Embedded storage: the node's event journal in redb.
//!
//! redb is a pure-Rust, ACID, copy-on-write B-tree store: a committed write transaction is
//! durable (`Durability::Immediate`: fsynced before `commit` returns), and after a crash the
//! database opens at the last committed transaction. See `docs/decisions/0091-node-storage.md`.
//!
//! One row per ingested batch (`batches`: the sequence number of its first event -> its events
//! as NDJSON, encoded by [`encode`] on the request's thread), so a group commit inserts one row
//! per request rather than one per event. Gaps between rows are allowed (sequence numbers the
//! audit log already used; see `docs/decisions/0093-audit-tiles.md`). Journals of the first
//! format (`events`: one row per event) are still replayed, before the batches.

use std::ops::Range;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::NodeError;
use crate::event::Event;

/// The first format: sequence number -> the event as JSON (read on replay, no longer written).
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// Sequence number of a batch's first event -> the batch's events, one JSON object per line.
const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("batches");

/// The journal encoding of a batch: each event as JSON, one per line.
pub(crate) fn encode(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 128);
    for e in events {
        // Serialising these plain structs into a Vec cannot fail.
        if serde_json::to_writer(&mut out, e).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

fn decode(first: u64, bytes: &[u8]) -> impl Iterator<Item = Result<(u64, Event), NodeError>> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(move |(i, line)| {
            let seq = first + i as u64;
            serde_json::from_slice(line)
                .map(|e| (seq, e))
                .map_err(|e| NodeError::Storage(format!("event {seq} is corrupt: {e}")))
        })
}

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
        txn.open_table(BATCHES).map_err(storage)?;
        txn.commit().map_err(storage)?;
        let next = {
            let txn = db.begin_read().map_err(storage)?;
            let events = txn.open_table(EVENTS).map_err(storage)?;
            let after_events = match events.last().map_err(storage)? {
                Some((k, _)) => k.value() + 1,
                None => 0,
            };
            let batches = txn.open_table(BATCHES).map_err(storage)?;
            let after_batches = match batches.last().map_err(storage)? {
                Some((k, v)) => k.value() + decode(k.value(), v.value()).count() as u64,
                None => 0,
            };
            after_events.max(after_batches)
        };
        Ok(Store { db, next })
    }

    /// Continues numbering at `seq` if that is ahead (numbers used elsewhere are not reused).
    pub fn skip_to(&mut self, seq: u64) {
        self.next = self.next.max(seq);
    }

    /// The sequence number the next event gets (the number of events stored, unless numbers
    /// were skipped).
    pub fn len(&self) -> u64 {
        self.next
    }

    /// Whether no event is stored.
    pub fn is_empty(&self) -> bool {
        self.next == 0
    }

    /// Appends several batches, each `(number of events, its events one JSON object per line)`, in one
    /// durable transaction; returns each batch's sequence range. Nothing is visible (or
    /// acknowledged) unless all of it is committed.
    pub fn append(&mut self, batches: &[(usize, &[u8])]) -> Result<Vec<Range<u64>>, NodeError> {
        let txn = self.db.begin_write().map_err(storage)?;
        let mut ranges = Vec::with_capacity(batches.len());
        let mut next = self.next;
        {
            let mut table = txn.open_table(BATCHES).map_err(storage)?;
            for (count, bytes) in batches {
                if *count == 0 {
                    continue;
                }
                table.insert(next, *bytes).map_err(storage)?;
                ranges.push(next..next + *count as u64);
                next += *count as u64;
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
        let table = txn.open_table(BATCHES).map_err(storage)?;
        for row in table.iter().map_err(storage)? {
            let (k, v) = row.map_err(storage)?;
            for item in decode(k.value(), v.value()) {
                let (seq, event) = item?;
                f(seq, event)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Action;

    fn ev(i: u64) -> Event {
        Event {
            agent_id: format!("a{i}"),
            timestamp_ms: i,
            action: Action::Command("ls".into()),
            outcome: None,
        }
    }

    #[test]
    fn first_format_rows_then_batches_replay_in_order_with_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.redb");
        {
            // A journal of the first format: one row per event.
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut t = txn.open_table(EVENTS).unwrap();
                for i in 0..3 {
                    t.insert(i, serde_json::to_vec(&ev(i)).unwrap().as_slice())
                        .unwrap();
                }
            }
            txn.commit().unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.len(), 3);
        let a = encode(&[ev(3), ev(4)]);
        let b = encode(&[ev(10)]);
        assert_eq!(store.append(&[(2, &a)]).unwrap(), vec![3..5]);
        store.skip_to(10);
        store.skip_to(7);
        assert_eq!(store.append(&[(1, &b), (0, &[])]).unwrap(), vec![10..11]);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.len(), 11);
        let mut seen = Vec::new();
        store
            .replay(|seq, e| {
                seen.push((seq, e.timestamp_ms));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (10, 10)]);
    }
}
