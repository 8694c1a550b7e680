//! `cargo xtask run`: from a fresh machine to the studio in a browser, with demo data.

use anyhow::Context;

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

/// `trunk build --release`: the studio's wasm, JS glue, stylesheet and index.html into `dist/`.
pub fn build_studio() -> anyhow::Result<()> {
    println!("xtask: building the studio");
    cmd::run(cmd::command("trunk").args(["build", "--release"]))
}
