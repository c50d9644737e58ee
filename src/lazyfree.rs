//! The background thread that frees big values (UNLINK, FLUSHDB ASYNC, FLUSHALL ASYNC), so
//! freeing a million-element collection never holds the keyspace: redis-server's lazyfree
//! bio thread.
//!
//! The store queues the entries while a batch runs; [`LazyFree::hand_over`] sends them here
//! at the end of the batch, still under the lock but at the cost of a channel send.
//! `lazyfree_pending_objects` counts what was sent and not yet freed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

use cachegate_storage::keyspace::entry::Entry;
use cachegate_storage::Store;

/// The sending side, kept in the shared state.
pub struct LazyFree {
    tx: mpsc::Sender<Vec<Entry>>,
    pending: Arc<AtomicU64>,
}

impl LazyFree {
    /// Starts the freeing thread. If it cannot be started, entries are freed where they are
    /// handed over instead.
    pub fn start() -> LazyFree {
        let (tx, rx) = mpsc::channel::<Vec<Entry>>();
        let pending = Arc::new(AtomicU64::new(0));
        let counter = pending.clone();
        let spawned = std::thread::Builder::new()
            .name("cachegate-lazyfree".into())
            .spawn(move || {
                while let Ok(batch) = rx.recv() {
                    let n = batch.len() as u64;
                    drop(batch);
                    counter.fetch_sub(n, Ordering::Relaxed);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the lazyfree thread, freeing inline: {e}");
        }
        LazyFree { tx, pending }
    }

    /// Sends what the store queued to the freeing thread.
    pub fn hand_over(&self, store: &mut Store) {
        let batch = store.take_lazyfree();
        let n = batch.len() as u64;
        self.pending.fetch_add(n, Ordering::Relaxed);
        if let Err(mpsc::SendError(batch)) = self.tx.send(batch) {
            // No thread: free here.
            drop(batch);
            self.pending.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Values sent and not yet freed (`lazyfree_pending_objects`).
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }
}
