//! The background worker: advances initial syncs chunk by chunk, one map at a time in run order, and
//! replays the queues of maps that are resuming or whose copy is done. Every step is one database
//! transaction, so the worker can stop anywhere (a crash, a restart) and pick up where it was.
//!
//! Several servers on one database each run a worker; a map's work is done by one of them at a time,
//! the one holding the map's lease ([`crate::lease`]), which every step claims in its own transaction.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dualwrite_core::lifecycle::MapStatus;
use tokio::sync::Notify;

use crate::catalog::{CatalogCache, CatalogMap};
use crate::initial_sync::{self, Job, Phase, Step};
use crate::lease::Owner;
use crate::pace::Pace;
use crate::queue::{self, CatchUp};
use crate::store::Store;
use crate::sync_error::SyncError;

/// Queued changes replayed per transaction, at most (see [`Pace`]).
pub const CATCH_UP_BATCH: usize = 500;
/// How long an idle worker waits before looking again (it is woken at once by actions of its own
/// server; this picks up work from other servers and after a restart).
const IDLE: Duration = Duration::from_millis(200);

/// What a server's worker has done since it started: how often it looked for work and how often it
/// indexed a map's rows for an initial sync (the costly read of both sides). `AppState::activity`
/// holds it, so it can be watched without timing.
#[derive(Debug, Default)]
pub struct Activity {
    rounds: AtomicU64,
    index_builds: AtomicU64,
}

impl Activity {
    /// Rounds over the maps with background work.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Twin indexes built for initial syncs.
    pub fn index_builds(&self) -> u64 {
        self.index_builds.load(Ordering::Relaxed)
    }
}

/// Starts the worker on the current tokio runtime; `wake` makes it look for work at once. It does a
/// map's work only while `owner` holds the map's lease.
pub fn spawn(
    store: Arc<Store>,
    cache: Arc<CatalogCache>,
    wake: Arc<Notify>,
    activity: Arc<Activity>,
    owner: Arc<Owner>,
) -> tokio::task::JoinHandle<()> {
    let job: Arc<Mutex<Option<Job>>> = Arc::new(Mutex::new(None));
    let paces = Arc::new(Paces { copy: Pace::new(initial_sync::CHUNK), catch_up: Pace::new(CATCH_UP_BATCH) });
    tokio::spawn(async move {
        loop {
            let (store, cache, job, activity, owner, paces) =
                (store.clone(), cache.clone(), job.clone(), activity.clone(), owner.clone(), paces.clone());
            let busy = tokio::task::spawn_blocking(move || {
                let busy = round(&store, &cache, &owner, &job, &activity, &paces);
                activity.rounds.fetch_add(1, Ordering::Relaxed);
                busy
            })
            .await;
            match busy {
                Ok(Ok(true)) => tokio::task::yield_now().await,
                Ok(Ok(false)) => {
                    let _ = tokio::time::timeout(IDLE, wake.notified()).await;
                }
                Ok(Err(e)) => {
                    tracing::error!(error = ?e, "background sync step failed; retrying");
                    let _ = tokio::time::timeout(IDLE * 5, wake.notified()).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "background sync step panicked; retrying");
                    tokio::time::sleep(IDLE * 5).await;
                }
            }
        }
    })
}

/// How much this worker's steps take on (see [`Pace`]): initial-sync rows, and queued changes.
struct Paces {
    copy: Pace,
    catch_up: Pace,
}

/// One round over the maps with background work; whether any was done.
///
/// The job of the initial sync being copied (its index of both sides' rows) is kept between rounds
/// until its copy is over, also while an environment is unavailable: the copy then waits, and the
/// index is neither built nor rebuilt until both sides take writes again.
fn round(
    store: &Store,
    cache: &CatalogCache,
    owner: &Owner,
    job: &Mutex<Option<Job>>,
    activity: &Activity,
    paces: &Paces,
) -> Result<bool, SyncError> {
    let catalog = store.read(|tx| Ok::<_, SyncError>(cache.get(tx)?))?;
    let mut busy = false;
    let mut copying: Option<(&CatalogMap, i64)> = None;
    // Upstream maps first, so that a map waiting on one can follow it in the same round.
    for cmap in queue::catch_up_order(&catalog) {
        if cmap.status == MapStatus::Initializing {
            let latest = store.read(|tx| initial_sync::latest(tx, cmap.id))?;
            if let Some((id, _)) = latest.filter(|(_, e)| matches!(e.phase, Phase::Copy | Phase::References))
            {
                if copying.is_none_or(|(_, first)| id < first) {
                    copying = Some((cmap, id));
                }
                continue;
            }
        }
        match queue::catch_up(store, cache, owner, cmap.id, &paces.catch_up)? {
            CatchUp::Progressed { .. } | CatchUp::Live => busy = true,
            CatchUp::Idle | CatchUp::Blocked | CatchUp::Waiting | CatchUp::Elsewhere => {}
        }
    }
    let mut current = job.lock().map_err(|_| SyncError::internal(format_args!("worker state poisoned")))?;
    let Some((cmap, execution_id)) = copying else {
        *current = None;
        return Ok(busy);
    };
    if current.as_ref().is_none_or(|j| j.execution_id != execution_id) {
        if !store.read(|tx| initial_sync::sides_available(tx))? {
            return Ok(busy);
        }
        // Index the rows only as the map's owner: another server's worker may be copying it.
        let build = || Job::build(store, cache, cmap.id, execution_id);
        let Some(built) = owner.while_holding(store, cmap.id, &cmap.map.name, build)? else {
            *current = None;
            return Ok(busy);
        };
        *current = Some(built?);
        activity.index_builds.fetch_add(1, Ordering::Relaxed);
    }
    let step = match current.as_ref() {
        Some(j) => j.step(store, cache, owner, &paces.copy)?,
        None => Step::Idle,
    };
    if matches!(step, Step::Finished | Step::Idle) {
        *current = None;
    }
    Ok(busy || matches!(step, Step::Progressed | Step::Finished))
}
