//! `cargo xtask run | test | bench | fuzz | api-check`: the project's commands, in Rust so they work wherever cargo does.

mod api_check;
mod bench;
mod cmd;
mod fuzz;
mod run;
mod test;
mod tools;

use std::path::{Path, PathBuf};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run     install what the studio build needs, build it, and serve dualwrite with demo data
          on http://127.0.0.1:8080/ (options: --bind ADDR, --db URL)
  test    install what the tests need, then format check, clippy, unit and integration tests,
          wasm builds and browser end-to-end tests; prints a summary
  bench   measure every figure beside its limit and target; writes BENCHMARKS.md
          (--quick: small sizes, SQLite only, under two minutes once built)
  fuzz    run the fuzz targets in fuzz/ with libFuzzer, installing cargo-fuzz if missing
          (--seconds N: per target, default 600; TARGET...: only these, default all)
  api-check  schemathesis (installed from PyPI if missing) against the OpenAPI document of a
          server with demo data: no 5xx, every answer as documented (--examples N per operation)";

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("api-check") => api_check::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The workspace root (the folder holding the root Cargo.toml).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
