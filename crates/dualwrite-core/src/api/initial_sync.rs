//! `GET /maps/{id}/initial-sync` and the answers of `POST …/initial-sync/rerun` and `…/skip`: an
//! initial sync's execution as it is stored and checkpointed, and as the API shows it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MapResource, Paged};
use crate::lifecycle::MapStatus;
use crate::schema::Side;

/// Where an execution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Rows are being copied, chunk by chunk.
    Copy,
    /// Self-references set aside by the copy are being written.
    References,
    /// The copy is done; changes queued meanwhile are being replayed.
    Draining,
    /// Finished.
    Done,
}

/// What happened on one side (or one side of one company).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SideCounts {
    /// Rows of this side read.
    pub read: u64,
    /// Rows created on this side.
    pub created: u64,
    /// Rows updated on this side.
    pub updated: u64,
    /// Rows of this side that could not be synced.
    pub failed: u64,
}

/// What happened on both sides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Counts {
    pub finops: SideCounts,
    pub dataverse: SideCounts,
    /// Pairs already equal.
    pub equal: u64,
    /// Pairs whose values differed (the master's values were written).
    pub conflicts: u64,
}

impl Counts {
    /// The counts of one side.
    pub fn side_mut(&mut self, side: Side) -> &mut SideCounts {
        match side {
            Side::Finops => &mut self.finops,
            Side::Dataverse => &mut self.dataverse,
        }
    }

    /// Rows that failed on either side.
    pub fn failed(&self) -> u64 {
        self.finops.failed + self.dataverse.failed
    }
}

/// An execution's state, stored as JSON, checkpointed with every chunk, and shown as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Execution {
    /// `running`, `completed`, `failed` (rows failed; the map is back to not running) or `skipped`.
    pub status: String,
    pub phase: Phase,
    pub master: Side,
    /// Whether keys that failed in `previous` are tried again.
    pub retry_errors: bool,
    /// The execution this one reruns.
    pub previous: Option<i64>,
    /// The last key of the last chunk written.
    pub cursor: Option<String>,
    /// The last deferred reference written.
    pub deferred_cursor: i64,
    /// Keys done and keys in all (known once indexed).
    pub done: u64,
    pub total: u64,
    pub counts: Counts,
    pub by_company: BTreeMap<String, Counts>,
}

impl Execution {
    /// A new execution, about to copy.
    pub fn new(master: Side, retry_errors: bool, previous: Option<i64>) -> Execution {
        Execution {
            status: "running".into(),
            phase: Phase::Copy,
            master,
            retry_errors,
            previous,
            cursor: None,
            deferred_cursor: 0,
            done: 0,
            total: 0,
            counts: Counts::default(),
            by_company: BTreeMap::new(),
        }
    }

    /// Counts a row of `side` (of `company`, when the key has one) with `f`, in all and by company.
    pub fn count(&mut self, side: Side, company: Option<&str>, f: impl Fn(&mut SideCounts)) {
        f(self.counts.side_mut(side));
        if let Some(company) = company {
            f(self.by_company.entry(company.to_owned()).or_default().side_mut(side));
        }
    }
}

/// Keys done and keys in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// A row an initial sync could not write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SyncError {
    pub id: i64,
    pub side: Side,
    /// The key values as the row holds them; the company is apart.
    pub key: String,
    pub company: Option<String>,
    pub code: String,
    pub message: String,
}

/// `GET /maps/{id}/initial-sync`: the latest execution, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum InitialSyncState {
    Latest(LatestInitialSync),
    /// The map never initialized: `status` is `none`.
    None(NoInitialSync),
}

impl InitialSyncState {
    /// `none`, or the execution's status.
    pub fn status(&self) -> &str {
        match self {
            InitialSyncState::Latest(l) => &l.state.status,
            InitialSyncState::None(n) => &n.status,
        }
    }

    pub fn map_status(&self) -> MapStatus {
        match self {
            InitialSyncState::Latest(l) => l.map_status,
            InitialSyncState::None(n) => n.map_status,
        }
    }

    /// The page of errors asked for.
    pub fn errors(&self) -> &Paged<SyncError> {
        match self {
            InitialSyncState::Latest(l) => &l.errors,
            InitialSyncState::None(n) => &n.errors,
        }
    }

    pub fn latest(&self) -> Option<&LatestInitialSync> {
        match self {
            InitialSyncState::Latest(l) => Some(l),
            InitialSyncState::None(_) => None,
        }
    }
}

/// The latest execution of a map: its state, its id, the map's status, progress and a page of errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LatestInitialSync {
    #[serde(flatten)]
    pub state: Execution,
    /// The execution's id.
    #[serde(rename = "execution")]
    pub execution_id: i64,
    pub map_status: MapStatus,
    pub progress: Progress,
    pub errors: Paged<SyncError>,
}

/// A map that never initialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NoInitialSync {
    pub status: String,
    pub map_status: MapStatus,
    pub errors: Paged<SyncError>,
}

/// `POST /maps/{id}/initial-sync/rerun`: the map, initializing again, and the new execution's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Rerun {
    pub map: MapResource,
    pub execution: i64,
}

/// `POST /maps/{id}/initial-sync/rerun`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RerunRequest {
    /// Whether rows that failed last time are tried again (otherwise only the rest is synced).
    #[serde(default = "super::yes")]
    pub retry_errors: bool,
}
