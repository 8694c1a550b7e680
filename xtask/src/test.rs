//! `cargo xtask test`: everything CI checks, in one command, with a summary at the end.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::{cmd, tools};

/// One step of the test run.
struct Step {
    name: &'static str,
    /// Names of earlier steps that must have passed for this one to mean anything.
    needs: &'static [&'static str],
    action: Box<dyn Fn() -> anyhow::Result<()>>,
}

fn cargo_step(args: &'static [&'static str]) -> Box<dyn Fn() -> anyhow::Result<()>> {
    Box::new(move || cmd::run(cmd::cargo().args(args)))
}

fn steps() -> Vec<Step> {
    vec![
        Step { name: "install studio tools", needs: &[], action: Box::new(tools::ensure_studio_tools) },
        Step { name: "install chromium", needs: &[], action: Box::new(tools::ensure_chromium) },
        Step { name: "cargo fmt --check", needs: &[], action: cargo_step(&["fmt", "--all", "--check"]) },
        Step {
            name: "cargo clippy",
            needs: &[],
            action: cargo_step(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        },
        Step { name: "cargo test --workspace", needs: &[], action: cargo_step(&["test", "--workspace"]) },
        Step { name: "fuzz targets (5 s each)", needs: &[], action: Box::new(crate::fuzz::smoke) },
        Step {
            name: "install client libraries",
            needs: &[],
            action: Box::new(tools::ensure_client_packages),
        },
        Step {
            name: "clients nobody here wrote",
            needs: &["install client libraries"],
            action: cargo_step(&[
                "test",
                "-p",
                "dualwrite-server",
                "--test",
                "it",
                "clients::",
                "--",
                "--ignored",
            ]),
        },
        Step {
            name: "core in Chromium (wasm32)",
            needs: &["install studio tools", "install chromium"],
            action: Box::new(core_in_browser),
        },
        Step {
            name: "studio build",
            needs: &["install studio tools"],
            action: Box::new(crate::run::build_studio),
        },
        Step {
            name: "browser end-to-end",
            needs: &["install chromium", "studio build"],
            action: Box::new(end_to_end),
        },
    ]
}

/// core built for wasm32 and its browser tests run in headless Chromium: validation gives the same
/// diagnostics there as natively.
fn core_in_browser() -> anyhow::Result<()> {
    cmd::run(
        cmd::cargo()
            .args([
                "test",
                "-p",
                "dualwrite-core",
                "--target",
                "wasm32-unknown-unknown",
                "--test",
                "in_browser",
            ])
            .env("CHROMEDRIVER", tools::CHROMEDRIVER)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner"),
    )
}

/// The tests in `tests/` drive the built studio on a real server in headless Chromium.
fn end_to_end() -> anyhow::Result<()> {
    cmd::run(cmd::cargo().args(["build", "-p", "dualwrite-server", "--bin", "dualwrite"]))?;
    cmd::run(&mut end_to_end_command())
}

/// `cargo test` of the browser tests against the built server and studio; more arguments (a test
/// name, `--nocapture`) may follow.
pub fn end_to_end_command() -> Command {
    let root = crate::project_root();
    let mut c: Command = cmd::cargo();
    c.args(["test", "-p", "dualwrite-browser-tests", "--test", "e2e", "--", "--ignored", "--test-threads=1"])
        .env("DUALWRITE_BIN", root.join("target/debug/dualwrite"))
        .env("DUALWRITE_STUDIO_DIR", root.join("dist"))
        .env("CHROMIUM", tools::CHROMIUM)
        .env("CHROMEDRIVER", tools::CHROMEDRIVER);
    c
}

enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    if let Some(arg) = args.first() {
        anyhow::bail!("cargo xtask test takes no options, found {arg:?}");
    }
    let started = Instant::now();
    let mut results: Vec<(&'static str, Outcome, Duration)> = Vec::new();
    for step in steps() {
        let blocked: Vec<&str> = step
            .needs
            .iter()
            .copied()
            .filter(|need| !results.iter().any(|(name, o, _)| name == need && matches!(o, Outcome::Passed)))
            .collect();
        if !blocked.is_empty() {
            results.push((
                step.name,
                Outcome::Skipped(format!("needs {}", blocked.join(", "))),
                Duration::ZERO,
            ));
            continue;
        }
        println!("\n=== xtask test: {} ===", step.name);
        let t = Instant::now();
        let outcome = match (step.action)() {
            Ok(()) => Outcome::Passed,
            Err(e) => Outcome::Failed(format!("{e:#}")),
        };
        results.push((step.name, outcome, t.elapsed()));
    }

    println!("\n=== xtask test: summary ({:.0?} in all) ===", started.elapsed());
    let mut failed = 0;
    for (name, outcome, took) in &results {
        let (mark, detail) = match outcome {
            Outcome::Passed => ("ok  ", String::new()),
            Outcome::Failed(why) => {
                failed += 1;
                ("FAIL", format!("  {why}"))
            }
            Outcome::Skipped(why) => {
                failed += 1;
                ("skip", format!("  {why}"))
            }
        };
        println!("{mark} {name:<26} {:>7.1}s{detail}", took.as_secs_f64());
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} steps did not pass", results.len());
    }
    println!("all {} steps passed", results.len());
    Ok(())
}
