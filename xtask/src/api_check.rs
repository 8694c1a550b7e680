//! `cargo xtask api-check`: schemathesis (from PyPI) against the OpenAPI document of a running server
//! with demo data: every generated request must get an answer that is not a 5xx and fits the document.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::Context;

use crate::cmd;

/// The admin token of the server under test (a throwaway database in a temporary folder).
const TOKEN: &str = "dw_api_check_admin_token_000000";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let usage = "usage: cargo xtask api-check [--examples N] [--seed N]";
    let (mut examples, mut seed) = ("100".to_owned(), None);
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().with_context(|| format!("{flag} needs a value; {usage}"))?;
        match flag.as_str() {
            "--examples" => examples = value.clone(),
            "--seed" => seed = Some(value.clone()),
            _ => anyhow::bail!("unknown option {flag}; {usage}"),
        }
    }
    ensure_schemathesis()?;
    println!("xtask: building the server");
    cmd::run(cmd::cargo().args(["build", "-p", "dualwrite-server", "--bin", "dualwrite"]))?;
    let dir = std::env::temp_dir().join(format!("dualwrite-api-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = format!("sqlite://{}", dir.join("api-check.db").display());
    let mut server = cmd::command(crate::project_root().join("target/debug/dualwrite"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--db", &db, "--studio-dir", "/nonexistent"])
        .env("DUALWRITE_ADMIN_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .context("starting dualwrite")?;
    let stdout = server.stdout.take().context("the server's output")?;
    let base = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.split_once("serving on ").map(|(_, url)| url.trim_end_matches('/').to_owned()))
        .context("the server did not say where it listens")?;
    let report = dir.join("report");
    let config = crate::project_root().join("xtask/schemathesis.toml");
    let mut schemathesis = cmd::command("schemathesis");
    schemathesis.arg("--config-file").arg(&config);
    // Serializers for the upload media types schemathesis does not know (a data package's zip).
    schemathesis.env("SCHEMATHESIS_HOOKS", crate::project_root().join("xtask/schemathesis_hooks.py"));
    let result = cmd::run(
        schemathesis
            .args([
                "run",
                &format!("{base}/api/v1/openapi.json"),
                "--header",
                &format!("Authorization: Bearer {TOKEN}"),
                "--checks",
                "all",
                // Bodies can satisfy the JSON Schemas and still break the domain's rules (an empty map name,
                // an unknown alert error type): those answers are 4xx by design, not failures.
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                &examples,
                // One worker: a seed then replays the same run, and schemathesis' own first imports
                // do not race each other (with two they have failed inside anyio now and then).
                "--workers",
                "1",
                "--report",
                "junit",
                "--report-dir",
                &report.to_string_lossy(),
            ])
            .args(seed.iter().flat_map(|n| ["--seed", n.as_str()])),
    );
    let _ = server.kill();
    let _ = server.wait();
    println!("xtask: schemathesis report in {}", report.display());
    result
}

fn ensure_schemathesis() -> anyhow::Result<()> {
    if cmd::output(cmd::command("schemathesis").arg("--version")).is_some() {
        return Ok(());
    }
    println!("xtask: installing schemathesis from PyPI");
    cmd::run(cmd::command("python3").args(["-m", "pip", "install", "schemathesis"]))
        .context("installing schemathesis (python3 -m pip install schemathesis)")
}
