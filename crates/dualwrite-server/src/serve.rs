//! `dualwrite serve`: open the store, bind, serve until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::http::{self, AppState};
use crate::store::Store;

pub struct ServeOptions {
    pub db: String,
    pub bind: SocketAddr,
    pub studio_dir: Option<PathBuf>,
    /// Load the Contoso demo into an empty database.
    pub demo: bool,
    /// The admin token to start with (`DUALWRITE_ADMIN_TOKEN`); without it, the one in
    /// `admin_token_file`, or a new one written there.
    pub admin_token: Option<String>,
    /// Where a made-up admin token is kept between restarts; beside the SQLite file unless told.
    pub admin_token_file: Option<PathBuf>,
    /// How long a map's background work stays with this server after its last step
    /// ([`crate::lease`]).
    pub worker_lease: std::time::Duration,
}

pub async fn run(opts: ServeOptions) -> anyhow::Result<()> {
    let db = opts.db.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&db))
        .await
        .context("opening the store")?
        .with_context(|| format!("opening the database {}", crate::store::redacted(&opts.db)))?;
    tracing::info!(backend = store.backend(), db = %crate::store::redacted(&opts.db), "store ready");
    let mut state = AppState::new(store);
    state.owner = std::sync::Arc::new(crate::lease::Owner::new(opts.worker_lease));
    tracing::info!(owner = state.owner.id(), "background work runs as this owner");
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
    let token_file = opts.admin_token_file.clone().unwrap_or_else(|| default_token_file(&opts.db));
    let token = admin_token(opts.admin_token.as_deref(), &token_file)?;
    let (store, tokens, secret) = (state.store.clone(), state.tokens.clone(), token.clone());
    let bootstrap = tokio::task::spawn_blocking(move || tokens.set_bootstrap(&store, &secret))
        .await
        .context("storing the admin token")?
        .context("storing the admin token")?;
    if bootstrap.added {
        tracing::info!(id = %bootstrap.id, "admin token stored");
    } else {
        tracing::info!(id = %bootstrap.id, "admin token already stored; kept");
    }
    if !bootstrap.others.is_empty() {
        tracing::info!(
            others = %bootstrap.others.join(", "),
            "other admin tokens servers were started with stay valid (servers sharing this database each \
             keep theirs); revoke those no server uses any more"
        );
    }

    let _worker = state.start_worker();
    let app = http::router(state, studio_dir);

    let listener =
        tokio::net::TcpListener::bind(opts.bind).await.with_context(|| format!("binding {}", opts.bind))?;
    let addr = listener.local_addr()?;
    announce(&format!("dualwrite {} is serving on http://{addr}/", dualwrite_core::VERSION));
    announce(&format!("sign in: http://{addr}/sign-in#token={token}"));
    if opts.admin_token.is_none() {
        announce(&format!("(the admin token is kept in {}, readable only by you)", token_file.display()));
    }
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

/// A line on standard output for whoever started the server. A reader that went away (a closed pipe)
/// must not take the server down, so a failed write is ignored.
fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// Where a made-up admin token is kept: beside the SQLite file, or in the working folder.
fn default_token_file(db: &str) -> PathBuf {
    match db.strip_prefix("sqlite://") {
        Some(path) if path != ":memory:" => PathBuf::from(format!("{path}.admin-token")),
        _ => PathBuf::from("dualwrite.admin-token"),
    }
}

/// The admin token: the one given, else the one kept in `file`, else a new one kept there (created
/// readable and writable by its owner only).
fn admin_token(given: Option<&str>, file: &Path) -> anyhow::Result<String> {
    if let Some(token) = given {
        let token = token.trim();
        anyhow::ensure!(
            token.len() >= 16,
            "DUALWRITE_ADMIN_TOKEN is too short to be a secret: use at least 16 characters"
        );
        return Ok(token.to_owned());
    }
    match std::fs::read_to_string(file) {
        Ok(kept) if kept.trim().len() >= 16 => return Ok(kept.trim().to_owned()),
        Ok(_) => anyhow::bail!(
            "the admin token file {} does not hold a token; delete it to have a new one made",
            file.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading the admin token file {}", file.display())),
    }
    let token = crate::tokens::new_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f =
        options.open(file).with_context(|| format!("creating the admin token file {}", file.display()))?;
    std::io::Write::write_all(&mut f, format!("{token}\n").as_bytes())
        .with_context(|| format!("writing the admin token file {}", file.display()))?;
    Ok(token)
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
