//! The HTTP API, `/api/v1`, and the studio served from the same address.

mod alerts;
mod body;
mod environments;
mod events;
mod health;
mod initial_sync;
mod integration_keys;
mod lifecycle;
mod maps;
mod packages;
mod preflight;
mod queue;
mod schema;

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::Uri;
use axum::routing::{get, post, put};
use axum::Router;
use tokio::sync::Notify;
use tower_http::trace::TraceLayer;

use crate::catalog::{Catalog, CatalogCache};
use crate::error::ApiError;
use crate::store::{Store, Tx};

/// Where the API lives.
pub const API: &str = "/api/v1";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub catalog: Arc<CatalogCache>,
    /// Wakes the background worker when an action gives it work.
    pub wake: Arc<Notify>,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState {
            store: Arc::new(store),
            catalog: Arc::new(CatalogCache::default()),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Starts the background worker (initial syncs, catch-up) on the current runtime.
    pub fn start_worker(&self) -> tokio::task::JoinHandle<()> {
        crate::worker::spawn(self.store.clone(), self.catalog.clone(), self.wake.clone())
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
}

/// The whole product on one router: the API under `/api/v1`, and the studio (from `studio_dir`, when
/// given) for every other path.
pub fn router(state: AppState, studio_dir: Option<PathBuf>) -> Router {
    let api = Router::new()
        .route("/health", get(health::get))
        .route("/schema", get(schema::get).put(schema::put))
        .route("/envs/{side}/tables", get(environments::tables))
        .route("/envs/{side}/tables/{table}", put(environments::put_table))
        .route("/envs/{side}/tables/{table}/rows", get(environments::rows))
        .route("/envs/{side}/transactions", post(environments::transaction))
        .route(
            "/envs/{side}/availability",
            get(environments::availability).put(environments::set_availability),
        )
        .route("/integration-keys", get(integration_keys::list))
        .route("/integration-keys/refresh", post(integration_keys::refresh))
        .route("/integration-keys/{table}", put(integration_keys::put))
        .route("/maps", get(maps::list).post(maps::create))
        .route("/maps/run", post(lifecycle::run))
        .route("/maps/{id}", get(maps::get).put(maps::update).delete(maps::delete))
        .route("/maps/{id}/diagnostics", get(maps::diagnostics))
        .route("/maps/{id}/related", get(maps::related))
        .route("/maps/{id}/pause", post(lifecycle::pause))
        .route("/maps/{id}/resume", post(lifecycle::resume))
        .route("/maps/{id}/stop", post(lifecycle::stop))
        .route("/maps/{id}/skip-to-live", post(lifecycle::skip_to_live))
        .route("/maps/{id}/initial-sync", get(initial_sync::get))
        .route("/maps/{id}/initial-sync/rerun", post(initial_sync::rerun))
        .route("/maps/{id}/initial-sync/skip", post(initial_sync::skip))
        .route("/maps/{id}/preflight", post(preflight::run))
        .route("/maps/{id}/queue", get(queue::list))
        .route("/maps/{id}/catch-up-errors", get(queue::errors))
        .route("/maps/{id}/catch-up-errors/retry", post(queue::retry))
        .route("/alerts", get(alerts::get).put(alerts::put))
        .route("/validate", post(maps::validate))
        .route("/packages/export", get(packages::export))
        .route("/packages/import", post(packages::import))
        .route("/events", get(events::list))
        .fallback(
            |uri: Uri| async move { ApiError::not_found(format_args!("endpoint {API}{}", uri.path())) },
        );
    let app = Router::new().nest(API, api).with_state(state);
    let app = match studio_dir {
        Some(dir) => app.fallback_service(crate::studio::service(&dir)),
        None => app,
    };
    app.layer(TraceLayer::new_for_http())
}
