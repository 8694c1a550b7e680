//! Installing what the builds and tests need, skipping whatever is already there at the right version.

use std::path::Path;

use anyhow::{bail, Context};

use crate::cmd;

pub const TRUNK_VERSION: &str = "0.21.14";
/// Builds on stable with `--sanitizer none`, which is how `cargo xtask fuzz` runs it.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The wasm target, Trunk and the wasm-bindgen CLI matching Cargo.lock.
pub fn ensure_studio_tools() -> anyhow::Result<()> {
    ensure_wasm_target()?;
    ensure_cargo_tool("trunk", TRUNK_VERSION, &["--locked"])?;
    let bindgen = wasm_bindgen_version()?;
    // Without --locked: the CLI's own lockfile names a crate version the registry may lack.
    ensure_cargo_tool("wasm-bindgen-cli", &bindgen, &[])?;
    Ok(())
}

/// cargo-fuzz, which builds and runs the fuzz targets in `fuzz/`.
pub fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    ensure_cargo_tool("cargo-fuzz", CARGO_FUZZ_VERSION, &["--locked"])
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed =
        cmd::output(cmd::command("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    println!("xtask: installing the wasm32-unknown-unknown target");
    cmd::run(cmd::command("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// `cargo install CRATE --version VERSION` unless its binary already reports that version.
fn ensure_cargo_tool(krate: &str, version: &str, extra: &[&str]) -> anyhow::Result<()> {
    let binary = match krate {
        "wasm-bindgen-cli" => "wasm-bindgen",
        other => other,
    };
    let reported = cmd::output(cmd::command(binary).arg("--version")).unwrap_or_default();
    if reported.split_whitespace().any(|word| word == version) {
        return Ok(());
    }
    println!("xtask: installing {krate} {version} (once; this takes a few minutes)");
    cmd::run(cmd::cargo().args(["install", krate, "--version", version]).args(extra))
}

/// The wasm-bindgen version in Cargo.lock, which the CLI must match exactly.
pub fn wasm_bindgen_version() -> anyhow::Result<String> {
    let lock_path = crate::project_root().join("Cargo.lock");
    if !lock_path.exists() {
        cmd::run(cmd::cargo().args(["generate-lockfile"]))?;
    }
    let lock =
        std::fs::read_to_string(&lock_path).with_context(|| format!("reading {}", lock_path.display()))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    bail!("Cargo.lock names no wasm-bindgen package")
}

/// Chromium and chromedriver from Debian's packages, installed with apt-get when running as root.
pub fn ensure_chromium() -> anyhow::Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    let root = cmd::output(cmd::command("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if !root {
        bail!(
            "the browser tests need Chromium and chromedriver at {CHROMIUM} and {CHROMEDRIVER}; \
             install them with `sudo apt-get install chromium chromium-driver` and run again"
        );
    }
    println!("xtask: installing chromium and chromium-driver with apt-get");
    cmd::run(cmd::command("apt-get").args(["update", "-q"]))?;
    cmd::run(
        cmd::command("apt-get")
            .args(["install", "-y", "-q", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The client libraries the faces are tested with (`tests/clients/package-lock.json`), installed
/// with `npm ci` unless the installed tree already matches the lock file.
pub fn ensure_client_packages() -> anyhow::Result<()> {
    let dir = crate::project_root().join("tests/clients");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let lock =
        modified(&dir.join("package-lock.json")).context("tests/clients/package-lock.json is missing")?;
    if modified(&dir.join("node_modules/.package-lock.json")).is_some_and(|installed| installed >= lock) {
        return Ok(());
    }
    println!("xtask: installing the client libraries of tests/clients with npm ci");
    cmd::run(cmd::command("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))
}
