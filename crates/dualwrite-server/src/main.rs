//! `dualwrite`: the server and the command-line tools.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dualwrite_server::serve::{self, ServeOptions};

#[derive(Parser)]
#[command(
    name = "dualwrite",
    version,
    about = "Real-time, bidirectional sync between finance and operations and Dataverse"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and the studio.
    Serve {
        /// Database: sqlite://PATH (the default, one file) or postgres://USER@HOST/DB.
        #[arg(long, env = "DUALWRITE_DB", default_value = "sqlite://dualwrite.db")]
        db: String,
        /// Address to listen on.
        #[arg(long, env = "DUALWRITE_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Folder of the built studio (Trunk's dist/).
        #[arg(long, env = "DUALWRITE_STUDIO_DIR", default_value = "dist")]
        studio_dir: PathBuf,
        /// Load the Contoso demo (schema, four maps running, companies, customers) into an empty database.
        #[arg(long)]
        demo: bool,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { db, bind, studio_dir, demo } => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(serve::run(ServeOptions { db, bind, studio_dir: Some(studio_dir), demo }))
        }
    }
}
