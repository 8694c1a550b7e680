//! The HTTP API, `/api/v1`, and the studio served from the same address.

mod access;
mod alerts;
mod body;
mod endpoint;
mod environments;
mod events;
mod face;
mod health;
mod initial_sync;
mod integration_keys;
mod lifecycle;
mod load;
mod maps;
mod packages;
mod preflight;
mod queue;
mod schema;

use std::path::PathBuf;
use std::sync::Arc;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::Router;
use dualwrite_core::access::Permission;
use dualwrite_core::api::{
    AlertRules, AvailabilityRequest, IntegrationKeyPut, MapDoc, NewToken, PauseRequest, PreflightRequest,
    RerunRequest, ResumeRequest, RetryRequest, RunRequest, SchemaDocument, TableDocument, TransactionRequest,
    ValidateRequest,
};
use dualwrite_core::error_code::ErrorCode;
use serde_json::Value;
use tokio::sync::Notify;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::catalog::{Catalog, CatalogCache};
use crate::error::{ApiError, Kind};
use crate::lease::Owner;
use crate::store::{Log, Store, Tx};
use crate::tokens::Tokens;
use endpoint::{Api, Endpoint, Verb};

/// Where the API lives.
pub const API: &str = "/api/v1";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub catalog: Arc<CatalogCache>,
    /// Wakes the background worker when an action gives it work.
    pub wake: Arc<Notify>,
    /// The API tokens callers present.
    pub tokens: Arc<Tokens>,
    /// What the background worker has done.
    pub activity: Arc<crate::worker::Activity>,
    /// This server's worker, as the owner of the maps' background work it takes on.
    pub owner: Arc<Owner>,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState {
            store: Arc::new(store),
            catalog: Arc::new(CatalogCache::default()),
            wake: Arc::new(Notify::new()),
            tokens: Arc::new(Tokens::default()),
            activity: Arc::default(),
            owner: Arc::new(Owner::default()),
        }
    }

    /// Starts the background worker (initial syncs, catch-up) on the current runtime.
    pub fn start_worker(&self) -> tokio::task::JoinHandle<()> {
        crate::worker::spawn(
            self.store.clone(),
            self.catalog.clone(),
            self.wake.clone(),
            self.activity.clone(),
            self.owner.clone(),
        )
    }

    /// Runs `work` in one read-write transaction on the blocking pool, with the catalog as of that
    /// transaction.
    pub async fn write<T: Send + 'static>(
        &self,
        mut work: impl FnMut(&mut dyn Tx, &Catalog) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (store, cache) = (self.store.clone(), self.catalog.clone());
        tokio::task::spawn_blocking(move || {
            store.write(|tx| {
                let catalog = cache.get(tx)?;
                work(tx, &catalog)
            })
        })
        .await?
    }

    /// Runs `work` in a read-only snapshot on the blocking pool.
    pub async fn read<T: Send + 'static>(
        &self,
        mut work: impl FnMut(&mut dyn Tx, &Catalog) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (store, cache) = (self.store.clone(), self.catalog.clone());
        tokio::task::spawn_blocking(move || {
            store.read(|tx| {
                let catalog = cache.get(tx)?;
                work(tx, &catalog)
            })
        })
        .await?
    }

    /// [`AppState::read`] for a page of a log that clients follow with `?after=` (events, a queue,
    /// catch-up errors): `work` also gets the highest entry number it may hand out, so that a cursor
    /// never passes an entry that commits later (see [`crate::store::Store::horizon`]).
    pub async fn read_log<T: Send + 'static>(
        &self,
        log: Log,
        mut work: impl FnMut(&mut dyn Tx, &Catalog, i64) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (store, cache) = (self.store.clone(), self.catalog.clone());
        tokio::task::spawn_blocking(move || {
            let horizon = store.horizon(log)?;
            store.read(|tx| {
                let catalog = cache.get(tx)?;
                work(tx, &catalog, horizon)
            })
        })
        .await?
    }
}

/// Largest request body accepted; larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 16 << 20;
/// Largest `$metadata` document `POST /schema/import` accepts: real ones are 3–50 MB.
pub const MAX_METADATA_BYTES: usize = 64 << 20;
/// Largest data export `POST /envs/{side}/tables/{table}/load` and `POST /envs/{side}/load` take; it
/// is streamed to disk as it arrives, never held in memory.
pub const MAX_LOAD_BYTES: u64 = 4 << 30;
/// How long a client may take to send its request body before it is answered 408.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole product on one router: the API under `/api/v1`, and the studio (from `studio_dir`, when
/// given) for every other path.
pub fn router(state: AppState, studio_dir: Option<PathBuf>) -> Router {
    let api = api(state.clone())
        .finish()
        .method_not_allowed_fallback(|method: Method, uri: Uri| async move {
            ApiError::new(
                Kind::MethodNotAllowed,
                ErrorCode::MethodNotAllowed,
                format!("{API}{} does not answer {method}; see {API}/openapi.json", uri.path()),
            )
        })
        .fallback(|uri: Uri| async move { ApiError::not_found(format_args!("endpoint {API}{}", uri.path())) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT));
    let faces = face::router(state.clone())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT));
    let app = Router::new().nest(API, api).merge(faces).with_state(state);
    let app = match studio_dir {
        Some(dir) => app.fallback_service(crate::studio::service(&dir)),
        None => app,
    };
    app.layer(TraceLayer::new_for_http())
}

/// Every endpoint of `/api/v1` with who may call it and what it takes and answers (DESIGN.md §4).
fn api(state: AppState) -> Api {
    use Permission::{Design, ManageTokens, Read, WriteData};
    use Verb::{Delete, Get, Post, Put};
    let e = Endpoint::new;
    Api::new(state)
        .add(e(Get, "/health", "Whether the server is up, and its version"), health::get)
        .add(e(Get, "/session", "Who the token belongs to").needs(Read), access::session)
        .add(
            e(Get, "/tokens", "Every token, live and revoked (never their secrets)")
                .needs(ManageTokens),
            access::list,
        )
        .add(
            e(Post, "/tokens", "Issues a token; its secret is shown in this answer only")
                .needs(ManageTokens)
                .body::<NewToken>()
                .status(201),
            access::issue,
        )
        .add(
            e(Delete, "/tokens/{id}", "Revokes a token").needs(ManageTokens),
            access::revoke,
        )
        .add(e(Get, "/schema", "The schema of both environments").needs(Read), schema::get)
        .add(
            e(Put, "/schema", "Replaces the schema (refused while a map is not `not_running`)")
                .needs(Design)
                .body::<SchemaDocument>(),
            schema::put,
        )
        .add(
            e(
                Post,
                "/schema/import",
                "Merges the tables of an OData $metadata document (XML, up to 64 MiB) into the schema \
                 (`preview=true`: says what would change, writes nothing)",
            )
            .needs(Design)
            .query::<schema::ImportQuery>()
            .document("application/xml", MAX_METADATA_BYTES),
            schema::import,
        )
        .add(e(Get, "/envs/{side}/tables", "The tables of one environment").needs(Read), environments::tables)
        .add(
            e(Put, "/envs/{side}/tables/{table}", "Adds or replaces one table's definition")
                .needs(Design)
                .body::<TableDocument>(),
            environments::put_table,
        )
        .add(
            e(
                Get,
                "/envs/{side}/tables/{table}/rows",
                "Rows of a table, filtered in that side's grammar, paged",
            )
            .needs(Read)
            .query::<environments::RowsQuery>(),
            environments::rows,
        )
        .add(
            e(Post, "/envs/{side}/transactions", "Writes rows atomically; running maps write their twins")
                .needs(WriteData)
                .body::<TransactionRequest>(),
            environments::transaction,
        )
        .add(
            e(
                Post,
                "/envs/{side}/tables/{table}/load",
                "Loads rows of one table from a data export (CSV with a header, or JSON lines; up to 4 GiB, \
                 streamed): rows as they were before dual-write, not synced; refused while a map on the table \
                 is not `not_running`",
            )
            .needs(WriteData)
            .query::<load::LoadQuery>()
            .upload(&load::TABLE_TYPES),
            load::table,
        )
        .add(
            e(
                Post,
                "/envs/{side}/load",
                "Loads a finance and operations data package (zip: Manifest.xml and one file per entity; up \
                 to 4 GiB), each entity into the table its manifest names",
            )
            .needs(WriteData)
            .query::<load::LoadQuery>()
            .upload(&load::PACKAGE_TYPES),
            load::package,
        )
        .add(
            e(Get, "/envs/{side}/availability", "Whether an environment is available").needs(Read),
            environments::availability,
        )
        .add(
            e(Put, "/envs/{side}/availability", "Marks an environment available or under maintenance")
                .needs(Design)
                .body::<AvailabilityRequest>(),
            environments::set_availability,
        )
        .add(e(Get, "/integration-keys", "Every table's integration key").needs(Read), integration_keys::list)
        .add(
            e(Post, "/integration-keys/refresh", "Regenerates keys from alternate keys").needs(Design),
            integration_keys::refresh,
        )
        .add(
            e(Put, "/integration-keys/{table}", "Sets a table's key by hand")
                .needs(Design)
                .body::<IntegrationKeyPut>(),
            integration_keys::put,
        )
        .add(e(Get, "/maps", "Every map with its status").needs(Read), maps::list)
        .add(e(Post, "/maps", "Saves a new map").needs(Design).body::<MapDoc>().status(201), maps::create)
        .add(
            e(Post, "/maps/run", "Runs maps in the order given").needs(Design).body::<RunRequest>(),
            lifecycle::run,
        )
        .add(e(Get, "/maps/{id}", "One map").needs(Read), maps::get)
        .add(
            e(Put, "/maps/{id}", "Replaces a map that is not running").needs(Design).body::<MapDoc>(),
            maps::update,
        )
        .add(
            e(Delete, "/maps/{id}", "Deletes a map that is not running").needs(Design).status(204),
            maps::delete,
        )
        .add(
            e(Get, "/maps/{id}/diagnostics", "The validation of a saved map")
                .needs(Read),
            maps::diagnostics,
        )
        .add(
            e(Get, "/maps/{id}/related", "Maps this one depends on, in run order").needs(Read),
            maps::related,
        )
        .add(
            e(Post, "/maps/{id}/pause", "Pauses a map, optionally with its related maps")
                .needs(Design)
                .optional_body::<PauseRequest>(),
            lifecycle::pause,
        )
        .add(
            e(Post, "/maps/{id}/resume", "Resumes a paused map")
                .needs(Design)
                .body::<ResumeRequest>(),
            lifecycle::resume,
        )
        .add(
            e(Post, "/maps/{id}/stop", "Stops a map").needs(Design),
            lifecycle::stop,
        )
        .add(
            e(Post, "/maps/{id}/skip-to-live", "Leaves catch-up and goes live")
                .needs(Design),
            lifecycle::skip_to_live,
        )
        .add(
            e(Get, "/maps/{id}/initial-sync", "The latest initial sync: progress, counts, errors")
                .needs(Read)
                .query::<initial_sync::ErrorsQuery>(),
            initial_sync::get,
        )
        .add(
            e(Post, "/maps/{id}/initial-sync/rerun", "Runs the initial sync again")
                .needs(Design)
                .optional_body::<RerunRequest>(),
            initial_sync::rerun,
        )
        .add(
            e(Post, "/maps/{id}/initial-sync/skip", "Goes live without finishing the initial sync")
                .needs(Design),
            initial_sync::skip,
        )
        .add(
            e(
                Post,
                "/maps/{id}/preflight",
                "What an initial sync would do to the current rows; writes nothing",
            )
            .needs(Read)
            .query::<preflight::PreflightQuery>()
            .optional_body::<PreflightRequest>()
            .also("text/csv"),
            preflight::run,
        )
        .add(
            e(Get, "/maps/{id}/queue", "Changes queued for a map, oldest first")
                .needs(Read)
                .query::<queue::QueueQuery>(),
            queue::list,
        )
        .add(
            e(Get, "/maps/{id}/catch-up-errors", "Queued changes that failed to apply")
                .needs(Read)
                .query::<queue::ErrorsQuery>(),
            queue::errors,
        )
        .add(
            e(Post, "/maps/{id}/catch-up-errors/retry", "Tries catch-up errors again (some or all)")
                .needs(Design)
                .optional_body::<RetryRequest>(),
            queue::retry,
        )
        .add(e(Get, "/alerts", "The alert rules").needs(Read), alerts::get)
        .add(
            e(Put, "/alerts", "Replaces the alert rules")
                .needs(Design)
                .body::<AlertRules>(),
            alerts::put,
        )
        .add(
            e(Post, "/validate", "Validates a draft map; saves nothing")
                .needs(Read)
                .body::<ValidateRequest>(),
            maps::validate,
        )
        .add(
            e(Get, "/packages/export", "Maps and keys as a package (native, msdyn_mapping or a solution zip)")
                .needs(Read)
                .query::<packages::ExportQuery>()
                .also("application/zip"),
            packages::export,
        )
        .add(
            e(
                Post,
                "/packages/import",
                "Imports a package (native, msdyn_mapping, or a solution: customizations.xml, a solution zip \
                 or a zip of them); creates or replaces maps by name, or previews that",
            )
            .needs(Design)
            .query::<packages::ImportQuery>()
            // Any JSON: the native package or dual-write's msdyn_mapping legs, each in the shapes
            // environments export it, told apart and checked by their own readers.
            .body::<Value>()
            .body_also(&packages::SOLUTION_TYPES),
            packages::import,
        )
        .add(
            e(Get, "/events", "The audit trail, by sequence number")
                .needs(Read)
                .query::<events::EventsQuery>(),
            events::list,
        )
}
