//! Wire types of the HTTP API (`/api/v1`), shared by the server and the studio.
//!
//! These are the JSON shapes other tools depend on; domain types convert to and from them at the
//! boundary, and the conversion into a domain type validates (every problem, with its path).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod events;
mod initial_sync;
mod preflight;
mod queue;

pub use events::{Event, Events};
pub use initial_sync::{
    Counts, Execution, InitialSyncState, LatestInitialSync, NoInitialSync, Phase, Progress, Rerun,
    RerunRequest, SideCounts, SyncError,
};
pub use preflight::{
    ConflictSample, PerSide, PreflightAnswer, PreflightProblem, PreflightReport, PreflightRequest, ProblemRow,
};
pub use queue::{CatchUpError, QueueItem, Retried, RetryRequest};

use std::collections::BTreeMap;

use crate::document::{DocumentError, Problem};
use crate::integration_key::{IntegrationKeys, KeyOrigin};
use crate::lifecycle::{MapStatus, ResumeMode};
use crate::package::{Package, PACKAGE_FORMAT};
use crate::schema::{Row, Schema, Side};
pub use crate::table_map::Change;
use crate::table_map::TableMap;
pub use crate::validation::{Diagnostic, Severity};

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
}

impl Health {
    /// The answer of a healthy server of this version.
    pub fn ok() -> Self {
        Self { status: "ok".to_owned(), version: crate::VERSION.to_owned() }
    }
}

/// A field mapping on the wire (the package shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FieldDoc {
    pub finops: Option<String>,
    pub dataverse: Option<String>,
    /// `to_dataverse`, `to_finops` or `both`.
    pub direction: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Value>,
}

/// A table map on the wire (the package shape): a draft may hold anything JSON allows here; converting
/// it into a [`TableMap`] reports what does not fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MapDoc {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub publisher: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub finops: String,
    pub dataverse: String,
    pub fields: Vec<FieldDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finops_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataverse_filter: Option<String>,
}

impl MapDoc {
    /// A map with nothing in it yet but its name, at the first version: what a new map starts as.
    pub fn blank(name: impl Into<String>) -> MapDoc {
        MapDoc {
            name: name.into(),
            version: "1.0.0.0".into(),
            publisher: String::new(),
            description: String::new(),
            finops: String::new(),
            dataverse: String::new(),
            fields: Vec::new(),
            finops_filter: None,
            dataverse_filter: None,
        }
    }

    /// The domain map; every problem reported with its path (`fields[2].direction`).
    pub fn to_map(&self) -> Result<TableMap, DocumentError> {
        let value = serde_json::to_value(self).map_err(|e| DocumentError {
            problems: vec![Problem { path: String::new(), message: e.to_string() }],
        })?;
        TableMap::from_value(&value)
    }

    /// The wire form of a domain map.
    pub fn from_map(map: &TableMap) -> MapDoc {
        let fields = map
            .fields
            .iter()
            .map(|f| FieldDoc {
                finops: f.finops.clone(),
                dataverse: f.dataverse.clone(),
                direction: f.direction.as_str().to_owned(),
                transforms: f
                    .transforms
                    .iter()
                    .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
                    .collect(),
            })
            .collect();
        MapDoc {
            name: map.name.clone(),
            version: map.version.clone(),
            publisher: map.publisher.clone(),
            description: map.description.clone(),
            finops: map.finops.clone(),
            dataverse: map.dataverse.clone(),
            fields,
            finops_filter: map.finops_filter.clone(),
            dataverse_filter: map.dataverse_filter.clone(),
        }
    }
}

impl TryFrom<&MapDoc> for TableMap {
    type Error = DocumentError;

    fn try_from(doc: &MapDoc) -> Result<TableMap, DocumentError> {
        doc.to_map()
    }
}

/// `GET /maps/{id}` and the items of `GET /maps`: the package map shape plus `id` and `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MapResource {
    pub id: String,
    pub status: MapStatus,
    #[serde(flatten)]
    pub map: MapDoc,
}

/// `POST /validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ValidateRequest {
    pub map: MapDoc,
}

/// `POST /validate` and `GET /maps/{id}/diagnostics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DiagnosticsResponse {
    pub diagnostics: Vec<Diagnostic>,
}

/// A package document, `dualwrite.package/v1`: maps and the integration keys they rely on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PackageDocument {
    pub format: String,
    pub maps: Vec<MapDoc>,
    /// Dataverse table → key fields (dotted form).
    pub integration_keys: BTreeMap<String, Vec<String>>,
}

impl From<&Package> for PackageDocument {
    fn from(package: &Package) -> PackageDocument {
        PackageDocument {
            format: PACKAGE_FORMAT.to_owned(),
            maps: package.maps.iter().map(MapDoc::from_map).collect(),
            integration_keys: package.integration_keys.clone(),
        }
    }
}

/// `GET /packages/export` as JSON: the native package, or dual-write's `msdyn_mapping` legs (one
/// object per map, in dual-write's own open shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum PackageExport {
    Native(PackageDocument),
    MsMapping(Vec<Value>),
}

impl PackageExport {
    /// `package` as dual-write's `msdyn_mapping` legs.
    pub fn ms_mapping(package: &Package) -> PackageExport {
        match package.to_ms_mapping() {
            Value::Array(legs) => PackageExport::MsMapping(legs),
            other => PackageExport::MsMapping(vec![other]),
        }
    }
}

/// What an import did, or in a preview would do, to one map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    /// No stored map had its name: a new map, not running.
    Created,
    /// The stored map of the same name now holds the imported one (same id and status).
    Replaced,
}

/// One map of `POST /packages/import`: the map as imported, what happened to it, and, for a map that
/// replaces a stored one, every difference from the stored map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ImportedMap {
    pub action: ImportAction,
    /// The map's id; absent in a preview of a map that would be created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub status: MapStatus,
    #[serde(flatten)]
    pub map: MapDoc,
    /// Against the stored map (replaced maps only), field by field.
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub diagnostics: Vec<Diagnostic>,
}

/// `POST /packages/import`: per map what was done, or with `?preview=true` what would be done (then
/// nothing is written).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ImportReport {
    pub preview: bool,
    pub items: Vec<ImportedMap>,
}

/// `POST /envs/{side}/tables/{table}/load`, `POST /envs/{side}/load` and `dualwrite load`: what a load
/// of data exports did, file by file (an entity file of a data package is a file of its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LoadReport {
    pub side: Option<Side>,
    /// Whether rows were kept from files that had bad rows (`skip_bad_rows`).
    pub skip_bad_rows: bool,
    pub files: Vec<LoadedFile>,
}

impl LoadReport {
    /// Rows refused over every file.
    pub fn refused(&self) -> u64 {
        self.files.iter().map(|f| f.refused).sum()
    }
}

/// One file of a load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LoadedFile {
    /// The file, or `package.zip › entity.csv`.
    pub file: String,
    /// The table its rows went to, in the schema's spelling (empty when none could be told).
    pub table: String,
    /// Rows written: inserted or, for a key already there, updated.
    pub loaded: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Bad rows: not written. Without `skip_bad_rows` a file with a bad row is not written at all
    /// (`written` false, `loaded` 0).
    pub refused: u64,
    /// Whether the file's rows were written (a file loads entirely or not at all unless
    /// `skip_bad_rows`).
    pub written: bool,
    /// Columns skipped because the table does not have them, and entities passed over.
    pub warnings: Vec<String>,
    /// The bad rows, first ones first (at most 1000 are listed; `refused` counts them all).
    pub bad_rows: Vec<BadRow>,
}

/// A row that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BadRow {
    /// The line the row starts on; absent for a problem of the whole file.
    pub line: Option<u64>,
    /// What is wrong, as the write path or the reader says it.
    pub reason: String,
}

/// One map of `POST /maps/run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RunItem {
    pub id: String,
    #[serde(default = "yes")]
    pub initial_sync: bool,
    /// The side that wins conflicts during initial sync; Dataverse unless chosen.
    #[serde(default = "dataverse")]
    pub master: Side,
}

fn yes() -> bool {
    true
}

fn dataverse() -> Side {
    Side::Dataverse
}

/// `POST /maps/run`: maps in the order to run them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RunRequest {
    pub maps: Vec<RunItem>,
}

/// `POST /maps/{id}/pause`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PauseRequest {
    #[serde(default)]
    pub include_related: bool,
}

/// `POST /maps/{id}/resume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ResumeRequest {
    pub mode: ResumeMode,
}

/// `PUT /envs/{side}/availability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AvailabilityRequest {
    pub available: bool,
}

/// What one op of a transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Insert,
    Update,
    Upsert,
    Delete,
}

/// One op of `POST /envs/{side}/transactions`. `key` is exactly the entity key (finops, `dataAreaId`
/// included for a company-specific entity) or the id or one alternate key (Dataverse), as column →
/// value; any other set of columns is refused with `INVALID_KEY` (see `Table::operation_key`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Op {
    pub op: OpKind,
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Row>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<Row>,
}

impl Op {
    /// What the op lacks: insert and upsert need a row, update a row and (unless the row holds it) a
    /// key, delete a key; a key needs at least one column.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let has_row = self.row.as_ref().is_some_and(|r| !r.is_empty());
        let has_key = self.key.as_ref().is_some_and(|k| !k.is_empty());
        if self.table.trim().is_empty() {
            out.push("`table` is empty; name the table to write".to_owned());
        }
        match self.op {
            OpKind::Insert | OpKind::Upsert | OpKind::Update if !has_row => {
                out.push(format!("{} needs `row`, the columns to write", op_name(self.op)))
            }
            OpKind::Delete if !has_key => out.push("a delete needs `key`, the row to delete".to_owned()),
            _ => {}
        }
        if self.op == OpKind::Delete && self.row.is_some() {
            out.push("a delete takes no `row`; name the row with `key`".to_owned());
        }
        if self.key.as_ref().is_some_and(Map::is_empty) {
            out.push("`key` is empty; give the key columns and values".to_owned());
        }
        out
    }
}

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OpKind::Insert => "insert",
            OpKind::Update => "update",
            OpKind::Upsert => "upsert",
            OpKind::Delete => "delete",
        })
    }
}

fn op_name(op: OpKind) -> &'static str {
    match op {
        OpKind::Insert => "an insert",
        OpKind::Update => "an update",
        OpKind::Upsert => "an upsert",
        OpKind::Delete => "a delete",
    }
}

/// `POST /envs/{side}/transactions`: applied atomically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TransactionRequest {
    pub ops: Vec<Op>,
}

impl TransactionRequest {
    /// Every problem of every op, with paths (`ops[2].row`); an empty transaction is one too.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.ops.is_empty() {
            out.push(Problem { path: "ops".into(), message: "a transaction needs at least one op".into() });
        }
        for (i, op) in self.ops.iter().enumerate() {
            out.extend(
                op.problems().into_iter().map(|message| Problem { path: format!("ops[{i}]"), message }),
            );
        }
        out
    }
}

/// The result of one op: the row as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OpResult {
    pub op: OpKind,
    pub table: String,
    pub key: Row,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<Row>,
}

/// A write the sync made on the other side, in the same transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TwinWrite {
    pub map: String,
    pub side: Side,
    pub op: OpKind,
    pub table: String,
    pub key: Row,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<Row>,
}

/// The answer to a transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TransactionResponse {
    pub results: Vec<OpResult>,
    pub twin_writes: Vec<TwinWrite>,
}

/// The body of every error answer: `{"error": {"code", "message", ...details}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error itself; details (`diagnostics`, `map`, `op`, …) sit beside code and message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ErrorDetail {
    /// SCREAMING_SNAKE_CASE, e.g. `LOOKUP_NOT_FOUND`, `VALIDATION_FAILED`.
    pub code: String,
    pub message: String,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail { code: code.to_owned(), message: message.into(), details: Map::new() },
        }
    }

    /// Adds a detail beside code and message.
    pub fn with(mut self, key: &str, value: impl Serialize) -> ErrorBody {
        self.error.details.insert(key.to_owned(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }
}

/// The most items one page holds, whatever `limit` asks for.
pub const MAX_PAGE: usize = 1000;

/// A page of a long list, oldest first: `{"total", "items", "next"}`. `total` counts every item
/// the list holds (that match, where it is filtered); `next` is the cursor to pass as `after` for the
/// following page, `null` on the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "PageOf{T}"))]
pub struct Paged<T> {
    pub total: u64,
    pub items: Vec<T>,
    #[serde(default)]
    pub next: Option<i64>,
}

impl<T> Paged<T> {
    /// A list given whole, on one page.
    pub fn whole(items: Vec<T>) -> Paged<T> {
        Paged { total: items.len() as u64, items, next: None }
    }
}

/// The items of `GET /maps`: each map with the changes waiting in its queue and its catch-up errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MapListItem {
    #[serde(flatten)]
    pub resource: MapResource,
    pub queued: u64,
    pub catch_up_errors: u64,
}

/// `POST /maps` and `PUT /maps/{id}`: the map as saved, and what validation found (a map with
/// errors is saved as a draft; it cannot run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SavedMap {
    #[serde(flatten)]
    pub resource: MapResource,
    pub diagnostics: Vec<Diagnostic>,
}

/// `GET /maps/{id}/related`: the map and the maps it depends on, upstream first, and any dependency
/// cycles among them (as map ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RelatedMaps {
    pub items: Vec<MapResource>,
    pub cycles: Vec<Vec<String>>,
}

/// `POST /maps/run` and `POST /maps/{id}/pause`: the maps the action moved, with their new status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MapList {
    pub items: Vec<MapResource>,
}

/// A map's id and status: `POST /maps/{id}/initial-sync/skip`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MapState {
    pub id: String,
    pub status: MapStatus,
}

/// `GET, PUT /envs/{side}/availability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Availability {
    pub side: Side,
    pub available: bool,
}

/// `GET /integration-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct IntegrationKeyList {
    pub items: Vec<IntegrationKeyDoc>,
}

/// `POST /integration-keys/refresh`: the keys after refresh, and the tables refresh could not key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RefreshedKeys {
    pub items: Vec<IntegrationKeyDoc>,
    pub problems: Vec<String>,
}

/// A table of the schema document as written (`name`, `columns`, the key or alternate keys, …): the
/// schema's own reader checks it, every problem with its path, so here it stays an open object.
pub type TableDocument = Map<String, Value>;

/// `GET, PUT /schema`: the schema document, `dualwrite.schema/v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SchemaDocument {
    pub format: String,
    pub companies: Vec<String>,
    pub finops: Vec<TableDocument>,
    pub dataverse: Vec<TableDocument>,
}

impl From<&Schema> for SchemaDocument {
    fn from(schema: &Schema) -> SchemaDocument {
        // `to_value` writes exactly this shape; an empty document stands in should it ever not.
        serde_json::from_value(schema.to_value()).unwrap_or_else(|_| SchemaDocument {
            format: crate::schema::SCHEMA_FORMAT.to_owned(),
            companies: Vec::new(),
            finops: Vec::new(),
            dataverse: Vec::new(),
        })
    }
}

/// Where an integration key comes from, on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum KeyOriginDoc {
    Manual,
    Stored,
    Generated,
}

/// One integration key of `GET /integration-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct IntegrationKeyDoc {
    pub table: String,
    pub fields: Vec<String>,
    pub manual: bool,
    pub origin: KeyOriginDoc,
    /// When generated from several alternate keys: the ones not chosen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_alternate_keys: Vec<String>,
}

/// `PUT /integration-keys/{table}`: a manual key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct IntegrationKeyPut {
    pub fields: Vec<String>,
}

/// The effective key of each table (those without one left out), as `GET /integration-keys` lists
/// them: manual, stored, or what refresh would generate.
pub fn integration_key_docs<'t>(
    schema: &Schema,
    keys: &IntegrationKeys,
    tables: impl IntoIterator<Item = &'t str>,
) -> Vec<IntegrationKeyDoc> {
    tables
        .into_iter()
        .filter_map(|table| keys.effective(schema, table).ok())
        .map(|key| IntegrationKeyDoc {
            table: key.table,
            fields: key.fields,
            manual: key.origin == KeyOrigin::Manual,
            origin: match key.origin {
                KeyOrigin::Manual => KeyOriginDoc::Manual,
                KeyOrigin::Stored => KeyOriginDoc::Stored,
                KeyOrigin::Generated => KeyOriginDoc::Generated,
            },
            other_alternate_keys: key.other_alternate_keys,
        })
        .collect()
}

/// What an alert rule does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Only record the alert.
    None,
    /// Pause the map: writes queue until it resumes.
    Pause,
    /// Stop the map.
    Stop,
}

/// The live-sync error types an alert rule can count, with what each means.
pub const ALERT_ERROR_TYPES: [(&str, &str); 4] = [
    ("application", "a row the other side refuses: missing lookup, invalid value (422)"),
    ("bad_request", "a malformed write or an unknown row or table (400, 404)"),
    ("conflict", "a duplicate key, a refused key change (409)"),
    ("unavailable", "the other environment is under maintenance (503)"),
];

/// The longest window an alert rule may count over: a year, leap or not.
pub const MAX_ALERT_WINDOW_SECONDS: u64 = 366 * 24 * 3600;

/// One alert rule: when `count` live-sync errors of `error_types` (all types when empty) happen to a
/// map within `window_seconds`, do `action` to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    #[serde(default)]
    pub error_types: Vec<String>,
    pub count: u64,
    pub window_seconds: u64,
    pub action: AlertAction,
}

/// `GET, PUT /alerts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    pub rules: Vec<AlertRule>,
}

impl AlertRules {
    /// Every problem of the rules, with its path; none when they can be saved.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let mut problem = |member: &str, message: String| {
                out.push(Problem { path: format!("rules[{i}].{member}"), message })
            };
            if rule.count == 0 {
                problem("count", "must be at least 1".into());
            }
            if rule.window_seconds == 0 {
                problem("window_seconds", "must be at least 1".into());
            } else if rule.window_seconds > MAX_ALERT_WINDOW_SECONDS {
                problem(
                    "window_seconds",
                    format!(
                        "must be at most {MAX_ALERT_WINDOW_SECONDS} (366 days), found {}",
                        rule.window_seconds
                    ),
                );
            }
            for t in rule.error_types.iter().filter(|t| !ALERT_ERROR_TYPES.iter().any(|(name, _)| name == t))
            {
                let known: Vec<&str> = ALERT_ERROR_TYPES.iter().map(|(name, _)| *name).collect();
                problem("error_types", format!("`{t}` is not one of {}", known.join(", ")));
            }
        }
        out
    }
}

/// `GET /api/v1/session`: who the bearer token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Session {
    pub token_id: String,
    pub name: String,
    pub role: crate::access::Role,
}

/// A token as listed to admins (`GET /api/v1/tokens`); the secret itself is never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub role: crate::access::Role,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// When it was revoked; a revoked token is refused.
    pub revoked_at: Option<String>,
    /// An admin token `dualwrite serve` was started with (one per distinct secret, so servers sharing
    /// a database keep each other's); revocable like any token, except by itself.
    pub bootstrap: bool,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NewToken {
    pub name: String,
    pub role: crate::access::Role,
}

impl NewToken {
    /// What is wrong with the request, each at its path.
    pub fn problems(&self) -> Vec<Problem> {
        let name = self.name.trim();
        if name.is_empty() {
            vec![Problem {
                path: "name".into(),
                message: "give the token a name that says who or what uses it".into(),
            }]
        } else if name.chars().count() > 100 {
            vec![Problem { path: "name".into(), message: "a token's name is at most 100 characters".into() }]
        } else {
            Vec::new()
        }
    }
}

/// The answer to `POST /api/v1/tokens`: the secret, shown this once, and its listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct IssuedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_run_request_defaults_to_initial_sync_with_dataverse_as_master() {
        let request: RunRequest =
            serde_json::from_value(json!({"maps": [{"id": "7"}]})).expect("run request");
        assert_eq!(request.maps[0], RunItem { id: "7".into(), initial_sync: true, master: Side::Dataverse });
    }

    #[test]
    fn a_map_resource_is_the_package_shape_plus_id_and_status() {
        let body = json!({
            "id": "m1", "status": "paused", "name": "Currencies", "version": "1.0.0.1", "publisher": "contoso",
            "finops": "Currencies", "dataverse": "transactioncurrency",
            "fields": [{"finops": "CURRENCYCODE", "dataverse": "isocurrencycode", "direction": "both"}]
        });
        let resource: MapResource = serde_json::from_value(body.clone()).expect("map resource");
        assert_eq!(resource.status, MapStatus::Paused);
        let map = resource.map.to_map().expect("valid map");
        assert_eq!(map.fields[0].icon(), "=");
        assert_eq!(serde_json::to_value(&resource).ok(), Some(body));
    }

    #[test]
    fn converting_a_draft_reports_every_bad_field_with_its_path() {
        let doc = MapDoc {
            name: "m".into(),
            version: "1.0.0.0".into(),
            publisher: String::new(),
            description: String::new(),
            finops: "A".into(),
            dataverse: "b".into(),
            fields: vec![
                FieldDoc {
                    finops: Some("X".into()),
                    dataverse: Some("x".into()),
                    direction: "sideways".into(),
                    transforms: vec![],
                },
                FieldDoc {
                    finops: Some("Y".into()),
                    dataverse: Some("y".into()),
                    direction: "both".into(),
                    transforms: vec![json!({"transformType": "Concatenate"})],
                },
            ],
            finops_filter: None,
            dataverse_filter: None,
        };
        let error = TableMap::try_from(&doc).expect_err("two problems");
        let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["fields[0].direction", "fields[1].transforms[0].transformType"]);
    }

    #[test]
    fn a_transaction_names_each_op_that_lacks_its_row_or_key() {
        let request: TransactionRequest = serde_json::from_value(json!({"ops": [
            {"op": "insert", "table": "account", "row": {"accountnumber": "C1"}},
            {"op": "update", "table": "account"},
            {"op": "delete", "table": "account", "row": {"accountnumber": "C1"}}
        ]}))
        .expect("transaction");
        let problems = request.problems();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["ops[1]", "ops[2]", "ops[2]"], "{problems:?}");
        assert_eq!(problems[0].message, "an update needs `row`, the columns to write");
    }

    #[test]
    fn an_initial_sync_answer_reads_as_the_latest_execution_or_as_none() {
        let none: InitialSyncState = serde_json::from_value(json!({
            "status": "none", "map_status": "not_running", "errors": {"total": 0, "items": [], "next": null}
        }))
        .expect("no initial sync");
        assert!(none.latest().is_none());
        assert_eq!((none.status(), none.map_status()), ("none", MapStatus::NotRunning));

        let mut execution = Execution::new(Side::Finops, true, None);
        execution.count(Side::Dataverse, Some("USMF"), |c| c.failed += 1);
        let latest = InitialSyncState::Latest(LatestInitialSync {
            progress: Progress { done: 3, total: 7 },
            state: execution,
            execution_id: 12,
            map_status: MapStatus::Initializing,
            errors: Paged::whole(Vec::new()),
        });
        let body = serde_json::to_value(&latest).expect("serializes");
        assert_eq!(body["execution"], 12);
        assert_eq!(body["master"], "finops");
        assert_eq!(body["by_company"]["USMF"]["dataverse"]["failed"], 1);
        let read: InitialSyncState = serde_json::from_value(body).expect("reads back");
        assert_eq!(read, latest);
    }

    #[test]
    fn an_event_shows_what_its_body_carries_beside_its_own_members() {
        let body = json!({"map": "Currencies", "seq": 41, "key": "usd"});
        let event = Event::new(900, "2026-01-01T00:00:00Z".into(), "queued".into(), Some("3".into()), body);
        assert_eq!(
            serde_json::to_value(&event).ok(),
            Some(json!({"seq": 41, "at": "2026-01-01T00:00:00Z", "kind": "queued", "map_id": "3",
                        "map": "Currencies", "key": "usd"}))
        );
    }

    #[test]
    fn an_error_body_carries_details_beside_code_and_message() {
        let body =
            ErrorBody::new("LOOKUP_NOT_FOUND", "no currency EUR").with("map", "Customers V3 (accounts)");
        assert_eq!(
            serde_json::to_value(&body).ok(),
            Some(
                json!({"error": {"code": "LOOKUP_NOT_FOUND", "message": "no currency EUR", "map": "Customers V3 (accounts)"}})
            )
        );
    }
}

/// `POST /schema/import`: what bringing one environment's `$metadata` into the schema adds and
/// changes (with `preview`, what it would).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SchemaImport {
    pub side: Side,
    /// Whether nothing was written (the answer says what would be).
    pub preview: bool,
    /// How many entity types the document declares.
    pub entity_types: usize,
    /// One per table taken from the document, by its name in the schema.
    pub tables: Vec<TableImport>,
    /// What the document lacks (no alternate keys, no dual-write solution tables, …).
    pub notes: Vec<String>,
}

/// One table of a [`SchemaImport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TableImport {
    pub table: String,
    /// `added`, `changed` or `unchanged`.
    pub outcome: String,
    pub columns_added: Vec<String>,
    pub columns_changed: Vec<ColumnTypeChange>,
    /// Other properties that changed: `key`, `alternate_keys`, `company_specific`, `aliases`.
    pub changed: Vec<String>,
}

/// A column whose type an import changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ColumnTypeChange {
    pub column: String,
    pub from: String,
    pub to: String,
}

impl From<&crate::schema::TableChange> for TableImport {
    fn from(change: &crate::schema::TableChange) -> Self {
        let outcome = if change.added {
            "added"
        } else if change.is_unchanged() {
            "unchanged"
        } else {
            "changed"
        };
        TableImport {
            table: change.table.clone(),
            outcome: outcome.to_owned(),
            columns_added: change.columns_added.clone(),
            columns_changed: change
                .columns_changed
                .iter()
                .map(|(column, from, to)| ColumnTypeChange {
                    column: column.clone(),
                    from: from.clone(),
                    to: to.clone(),
                })
                .collect(),
            changed: change.changed.iter().map(|c| (*c).to_owned()).collect(),
        }
    }
}
