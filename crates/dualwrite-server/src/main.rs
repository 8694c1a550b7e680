//! `dualwrite`: the server and the command-line tools.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dualwrite_server::check::{self, CheckOptions};
use dualwrite_server::from_csdl::{self, FromCsdlOptions};
use dualwrite_server::import_ms;
use dualwrite_server::load;
use dualwrite_server::serve::{self, ServeOptions};

/// Rows travel as JSON maps built and dropped by the million in an initial sync or a load; the
/// system allocator spent a quarter of such a run in `malloc` and `free`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        #[arg(long, env = "DUALWRITE_DB", hide_env_values = true, default_value = "sqlite://dualwrite.db")]
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
        /// Where a made-up admin token is kept between restarts [default: beside the SQLite file].
        /// The environment variable DUALWRITE_ADMIN_TOKEN (at least 16 characters) sets the admin
        /// token instead; it is not a flag, so it never shows in a process list.
        #[arg(long, env = "DUALWRITE_ADMIN_TOKEN_FILE")]
        admin_token_file: Option<PathBuf>,
        /// Seconds a map's background work stays with this server after its last step, when several
        /// servers share one database: after this server stops, another takes its maps' work over
        /// this long after the last step. Keep it well above the time a step takes.
        #[arg(long, env = "DUALWRITE_WORKER_LEASE", default_value_t = dualwrite_server::lease::TTL.as_secs(),
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        worker_lease: u64,
    },
    /// Validate packages: exit 0 when clean or warnings only, 1 on errors, 2 when an input is unreadable.
    Check {
        /// Package files: dualwrite.package/v1, msdyn_mapping JSON, a solution's customizations.xml, a
        /// solution zip or a zip of solution zips.
        #[arg(required = true)]
        packages: Vec<PathBuf>,
        /// Schema document (dualwrite.schema/v1) to validate against; without it only the checks that
        /// need no schema run.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: check::Format,
    },
    /// Schema documents: make one from the environments' OData $metadata.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
    /// Load an environment's rows from data exports, as they were before dual-write: CSV with a
    /// header, JSON lines, or a finance and operations data package (zip). A row whose key is stored
    /// already updates it. Exit 1 when a row or a file was refused.
    Load {
        /// Database: sqlite://PATH or postgres://USER@HOST/DB, as `serve` takes it.
        #[arg(long, env = "DUALWRITE_DB", hide_env_values = true, default_value = "sqlite://dualwrite.db")]
        db: String,
        /// The environment the rows belong to: finops or dataverse.
        #[arg(long)]
        side: dualwrite_core::schema::Side,
        /// The table of the CSV and JSON lines files, by name or alias [default: each file's stem].
        #[arg(long)]
        table: Option<String>,
        /// Keep the good rows of a file that has bad ones [default: such a file loads nothing].
        #[arg(long)]
        skip_bad_rows: bool,
        /// The files: .csv, .jsonl/.ndjson, or a data package .zip.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Convert dual-write maps (msdyn_mapping JSON, a solution's customizations.xml, a solution zip or
    /// a zip of solution zips) into a native package, printed on stdout.
    ImportMs {
        /// The file: msdyn_mapping JSON, customizations.xml, a solution zip or a zip of them.
        file: PathBuf,
        /// Schema document: tells the legs apart by table name and fills in integration keys.
        #[arg(long)]
        schema: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Write a schema document (dualwrite.schema/v1) read from OData CSDL $metadata documents
    /// (Dataverse: /api/data/v9.2/$metadata; finance and operations: /data/$metadata).
    FromCsdl {
        /// The Dataverse $metadata document.
        #[arg(long)]
        dataverse: Option<PathBuf>,
        /// The finance and operations $metadata document.
        #[arg(long)]
        finops: Option<PathBuf>,
        /// Tables to keep, comma-separated, by name or entity set or label (`accounts`, `Customers V3`),
        /// with every table their lookups reach [default: every table].
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// Write the schema to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
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
        Command::Serve { db, bind, studio_dir, demo, admin_token_file, worker_lease } => {
            let admin_token = std::env::var("DUALWRITE_ADMIN_TOKEN").ok().filter(|t| !t.is_empty());
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(serve::run(ServeOptions {
                db,
                bind,
                studio_dir: Some(studio_dir),
                demo,
                admin_token,
                admin_token_file,
                worker_lease: std::time::Duration::from_secs(worker_lease),
            }))
        }
        Command::Check { packages, schema, format } => {
            let code = check::run(&CheckOptions { packages, schema, format }, &mut std::io::stdout().lock());
            std::process::exit(code)
        }
        Command::Schema { command: SchemaCommand::FromCsdl { dataverse, finops, tables, out } } => {
            let options = FromCsdlOptions { dataverse, finops, tables, out };
            from_csdl::run(&options, &mut std::io::stdout().lock(), &mut std::io::stderr().lock())
        }
        Command::Load { db, side, table, skip_bad_rows, files } => {
            let store = dualwrite_server::store::Store::open(&db)?;
            let mut options = load::LoadOptions::new(side);
            options.table = table;
            options.skip_bad_rows = skip_bad_rows;
            let code = load::run(&store, &files, &options, &mut std::io::stdout().lock())?;
            std::process::exit(code)
        }
        Command::ImportMs { file, schema } => {
            import_ms::run(&file, schema.as_deref(), &mut std::io::stdout().lock())
        }
    }
}
