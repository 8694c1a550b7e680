//! `cargo xtask run`: from a fresh machine to the studio in a browser, with demo data.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::{cmd, tools};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut bind = "127.0.0.1:8080".to_owned();
    let mut db = "sqlite://dualwrite.db".to_owned();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--bind" => bind = rest.next().context("--bind needs an address")?.clone(),
            "--db" => db = rest.next().context("--db needs a database url")?.clone(),
            other => anyhow::bail!("unknown option {other:?} (expected --bind ADDR or --db URL)"),
        }
    }
    tools::ensure_studio_tools()?;
    build_studio()?;
    println!("xtask: building the server");
    cmd::run(cmd::cargo().args(["build", "--release", "-p", "dualwrite-server", "--bin", "dualwrite"]))?;
    let server = crate::project_root().join("target/release/dualwrite");
    println!(
        "xtask: starting dualwrite on http://{bind}/; open the sign-in link it prints (Ctrl-C stops it)"
    );
    cmd::run(cmd::command(server).args([
        "serve",
        "--demo",
        "--bind",
        &bind,
        "--db",
        &db,
        "--studio-dir",
        "dist",
    ]))
}

/// `trunk build --release`: the studio's wasm, JS glue, stylesheet and index.html into `dist/`, each
/// with a gzip copy beside it that `dualwrite serve` sends to browsers taking gzip.
pub fn build_studio() -> anyhow::Result<()> {
    println!("xtask: building the studio");
    cmd::run(cmd::command("trunk").args(["build", "--release"]))?;
    gzip_beside(&crate::project_root().join("dist"))
}

/// Writes `FILE.gz` (gzip, best compression) beside each file of `dir` a browser loads as text or wasm.
fn gzip_beside(dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            gzip_beside(&path)?;
            continue;
        }
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else { continue };
        if !matches!(ext, "wasm" | "js" | "css" | "html") {
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut gzip = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::best());
        gzip.write_all(&bytes)?;
        let target = path.with_extension(format!("{ext}.gz"));
        std::fs::write(&target, gzip.finish()?).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

/// The gzip copy of the studio's wasm in `dist/`, as `build_studio` wrote it: what a browser downloads.
pub fn gzipped_wasm() -> anyhow::Result<PathBuf> {
    let dist = crate::project_root().join("dist");
    std::fs::read_dir(&dist)
        .with_context(|| format!("reading {}", dist.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_str().is_some_and(|p| p.ends_with(".wasm.gz")))
        .with_context(|| format!("no .wasm.gz in {}; build the studio first", dist.display()))
}
