//! One owner at a time for a map's background work (its initial sync's chunks, its catch-up batches),
//! when several servers share one database.
//!
//! A lease is a row (`leases`) naming its owner, a server's worker, and when it expires. Every step
//! of background work claims the lease *in the transaction that does the work*: the step runs only if
//! its server holds the lease or it is free or expired, and committing the step renews it. Two
//! servers that reach for the same map at once conflict in the database (SQLite has one writer;
//! PostgreSQL's SERIALIZABLE transaction makes one of them rerun, and the rerun finds the lease
//! taken), so no step is ever done twice and a lost race is not an error. An owner that stops
//! renewing (it was stopped, killed, or lost its database connection) loses the lease once [`TTL`]
//! has passed, and another server takes the work over from the last committed step.
//!
//! A step claims the lease when it starts and renews it again as it ends (by the database's clock
//! at that statement). On PostgreSQL the lease row stays locked by the step's transaction until it
//! commits, so another server cannot take the lease over in the middle of a step however long it
//! takes; a dead owner's transaction is rolled back with its connection, which lets it go. Work
//! outside a step, such as building the index an initial sync copies by, renews the lease from a
//! thread of its own while it runs ([`Owner::while_holding`]). A step that keeps losing races with
//! client transactions (each attempt rolled back, renewal and all) may lose the lease to another
//! server, which then continues from the last committed step: slower, never wrong.
//!
//! A lease row was chosen over PostgreSQL advisory locks: a session-level advisory lock belongs to one
//! pooled connection, which the worker's steps do not keep, and a transaction-level one lasts a
//! single step, so servers would take turns chunk by chunk and each rebuild the index of the rows to
//! copy. The lease keeps one owner across steps, works the same on SQLite, and its expiry is measured
//! by the database's clock, so servers' clocks need not agree. Its cost: after an owner dies, its
//! maps wait up to [`TTL`] for another server to take them.

use std::time::Duration;

use serde_json::json;

use crate::store::{EventKind, Lease, Store, StoreError, Tx};

/// How long a lease lasts after its owner's last step (`serve --worker-lease` sets it): how long a
/// dead server's maps wait for another to take them over.
pub const TTL: Duration = Duration::from_secs(10);

/// A worker that owns background work: one per server process, named so the audit trail tells
/// servers apart (the process id and a random part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    id: String,
    ttl: Duration,
}

impl Default for Owner {
    fn default() -> Self {
        Owner::new(TTL)
    }
}

impl Owner {
    /// A new owner whose leases last `ttl` after each step.
    pub fn new(ttl: Duration) -> Owner {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Owner { id: format!("{}-{}", std::process::id(), &random[..8]), ttl }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// In `tx`: whether this owner may do the next step of map `map_id`'s background work; if so, the
    /// lease is taken or renewed with the transaction. Taking it is recorded as an `owner` event.
    pub fn hold(&self, tx: &mut dyn Tx, map_id: i64, map: &str) -> Result<bool, StoreError> {
        let seconds = self.ttl.as_secs().max(1);
        match tx.claim_lease(&format!("map:{map_id}"), &self.id, seconds)? {
            Lease::Renewed => Ok(true),
            Lease::Taken { previous } => {
                tx.record_event(
                    EventKind::Owner,
                    Some(map_id),
                    &json!({"map": map, "owner": self.id, "previous": previous}),
                )?;
                Ok(true)
            }
            Lease::HeldBy { .. } => Ok(false),
        }
    }

    /// [`Owner::hold`] in a transaction of its own.
    pub fn claim(&self, store: &Store, map_id: i64, map: &str) -> Result<bool, StoreError> {
        store.write(|tx| self.hold(tx, map_id, map))
    }

    /// Runs `work` (work outside a step's transaction, such as indexing the rows an initial sync
    /// copies) as the owner of map `map_id`'s work, renewing the lease while it runs; `None` when
    /// another owner holds it.
    pub fn while_holding<T>(
        &self,
        store: &Store,
        map_id: i64,
        map: &str,
        work: impl FnOnce() -> T,
    ) -> Result<Option<T>, StoreError> {
        if !self.claim(store, map_id, map)? {
            return Ok(None);
        }
        let (done, finished) = std::sync::mpsc::channel::<()>();
        Ok(Some(std::thread::scope(|s| {
            s.spawn(move || {
                // Renew at a third of the lease, until the work is done (its sender dropped).
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    finished.recv_timeout(self.ttl / 3)
                {
                    match self.claim(store, map_id, map) {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => tracing::warn!(error = %e, map_id, "renewing a lease failed; retrying"),
                    }
                }
            });
            let out = work();
            drop(done);
            out
        })))
    }
}
