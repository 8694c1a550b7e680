//! `dualwrite serve`: open the store, bind, serve until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

use crate::http::{self, AppState};
use crate::store::Store;

pub struct ServeOptions {
    pub db: String,
    pub bind: SocketAddr,
    pub studio_dir: Option<PathBuf>,
    /// Load the Contoso demo into an empty database.
    pub demo: bool,
}

pub async fn run(opts: ServeOptions) -> anyhow::Result<()> {
    let db = opts.db.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&db))
        .await
        .context("opening the store")?
        .with_context(|| format!("opening the database {}", opts.db))?;
    tracing::info!(backend = store.backend(), db = %opts.db, "store ready");
    let state = AppState::new(store);
    if opts.demo {
        let (store, catalog) = (state.store.clone(), state.catalog.clone());
        let loaded = tokio::task::spawn_blocking(move || crate::demo::load(&store, &catalog))
            .await
            .context("loading the demo")?
            .map_err(|e| anyhow::anyhow!("loading the demo: {e:?}"))?;
        if loaded {
            tracing::info!("demo data loaded: Contoso schema, four maps running, companies USMF and DEMF");
        } else {
            tracing::info!("the database already has a schema; the demo was not loaded again");
        }
    }

    let studio_dir = match opts.studio_dir {
        Some(dir) if dir.join("index.html").is_file() => Some(dir),
        Some(dir) => {
            tracing::warn!(dir = %dir.display(), "no built studio there (index.html missing); serving the API only");
            None
        }
        None => None,
    };
    let _worker = state.start_worker();
    let app = http::router(state, studio_dir);

    let listener =
        tokio::net::TcpListener::bind(opts.bind).await.with_context(|| format!("binding {}", opts.bind))?;
    let addr = listener.local_addr()?;
    println!("dualwrite {} is serving on http://{addr}/", dualwrite_core::VERSION);
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
