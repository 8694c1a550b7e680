//! `cargo xtask fuzz [--seconds N] [TARGET...]`: the fuzz targets in `fuzz/` run with libFuzzer, each
//! for a while, with a summary of what each did and the input of any crash.
//!
//! The machines this project runs on have the stable toolchain only, so the targets are built without
//! a sanitizer (`--sanitizer none`, which needs no nightly flag): everything fuzzed is safe Rust, and
//! what the targets look for is panics (arithmetic overflow among them: debug assertions are on),
//! stack overflows (recorded as crashes by `fuzz/src/overflow.rs`) and hangs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::{cmd, tools};

/// A fuzz target of `fuzz/Cargo.toml` and the libFuzzer dictionary (in `fuzz/dicts/`) its inputs are
/// made of.
struct Target {
    name: &'static str,
    dict: &'static str,
}

const TARGETS: &[Target] = &[
    Target { name: "odata_filter", dict: "odata_filter.dict" },
    Target { name: "finops_filter", dict: "finops_filter.dict" },
    Target { name: "schema", dict: "json.dict" },
    Target { name: "package", dict: "json.dict" },
    Target { name: "msdyn_mapping", dict: "json.dict" },
    Target { name: "solution", dict: "solution.dict" },
    Target { name: "csdl", dict: "xml.dict" },
    Target { name: "export_csv", dict: "export_csv.dict" },
];

/// How long `cargo xtask fuzz` runs each target unless told otherwise.
const DEFAULT_SECONDS: u64 = 600;
/// How long `cargo xtask test` runs each target.
const SMOKE_SECONDS: u64 = 5;
/// An input that takes longer than this to run is reported as a hang.
const TIMEOUT_SECONDS: u64 = 10;

/// One run of one target: how it ended, and what libFuzzer reported.
#[derive(Debug, Default)]
struct Run {
    target: &'static str,
    took: Duration,
    /// Whether the fuzzer exited 0: it ran for its time and found nothing.
    clean: bool,
    /// Inputs executed.
    runs: Option<u64>,
    exec_per_sec: Option<u64>,
    /// The last status line's `cov:` (coverage points), `ft:` (features) and `corp:` (corpus entries/size).
    cov: Option<String>,
    ft: Option<String>,
    corpus: Option<String>,
    /// The file libFuzzer wrote the failing input to (a crash, a hang or running out of memory).
    failing_input: Option<String>,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut seconds = DEFAULT_SECONDS;
    let mut chosen: Vec<&Target> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--seconds" {
            let value = rest.next().context("--seconds needs a number of seconds")?;
            seconds = value
                .parse()
                .ok()
                .filter(|s| *s > 0)
                .with_context(|| format!("--seconds expects a positive whole number, found {value:?}"))?;
        } else {
            let target = TARGETS.iter().find(|t| t.name == arg).with_context(|| {
                format!("unknown fuzz target {arg:?}; expected one of {}", names(TARGETS))
            })?;
            chosen.push(target);
        }
    }
    if chosen.is_empty() {
        chosen = TARGETS.iter().collect();
    }
    fuzz(&chosen, seconds)
}

/// Every target for [`SMOKE_SECONDS`]: the step of `cargo xtask test`.
pub fn smoke() -> anyhow::Result<()> {
    fuzz(&TARGETS.iter().collect::<Vec<_>>(), SMOKE_SECONDS)
}

/// Installs cargo-fuzz if needed, builds the targets once, runs each for `seconds`, prints a summary
/// and fails naming every target that crashed and the file holding its input.
fn fuzz(targets: &[&Target], seconds: u64) -> anyhow::Result<()> {
    tools::ensure_cargo_fuzz()?;
    let started = Instant::now();
    println!("xtask fuzz: building the fuzz targets");
    cmd::run(&mut cargo_fuzz("build", None))?;
    let mut runs = Vec::new();
    for target in targets {
        println!("\nxtask fuzz: {} for {seconds} s", target.name);
        runs.push(run_target(target, seconds)?);
    }
    println!("\nxtask fuzz: summary ({:.0?} in all, build included)", started.elapsed());
    print_summary(&runs);
    let failures: Vec<String> = runs.iter().filter_map(failure).collect();
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(())
}

/// One line per run: time, runs, exec/s, coverage, features, corpus and result.
fn print_summary(runs: &[Run]) {
    println!(
        "{:<14} {:>7} {:>11} {:>8} {:>6} {:>7} {:>12}  result",
        "target", "time", "runs", "exec/s", "cov", "ft", "corpus"
    );
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".to_owned());
    let number = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |n| n.to_string());
    for run in runs {
        let result = match (&run.failing_input, run.clean) {
            (Some(file), _) => format!("FAILED, input in {file}"),
            (None, true) => "ok".to_owned(),
            (None, false) => "FAILED (see its output above)".to_owned(),
        };
        println!(
            "{:<14} {:>6.0}s {:>11} {:>8} {:>6} {:>7} {:>12}  {result}",
            run.target,
            run.took.as_secs_f64(),
            number(run.runs),
            number(run.exec_per_sec),
            text(&run.cov),
            text(&run.ft),
            text(&run.corpus),
        );
    }
}

/// What went wrong in `run`, if anything, naming the target and the input that shows it.
fn failure(run: &Run) -> Option<String> {
    let name = run.target;
    match &run.failing_input {
        Some(file) => Some(format!(
            "fuzz target `{name}` crashed (or hung) on the input in {file} \
             (reproduce: cargo fuzz run {name} --sanitizer none {file})"
        )),
        None if !run.clean => {
            Some(format!("fuzz target `{name}` failed without writing an input; see its output above"))
        }
        None => None,
    }
}

/// `cargo fuzz SUBCOMMAND [TARGET]` with the options every build and run shares.
fn cargo_fuzz(subcommand: &str, target: Option<&str>) -> Command {
    let mut c = cmd::cargo();
    c.args(["fuzz", subcommand]).args(target).args(["--sanitizer", "none"]);
    c
}

/// Runs one target, echoing libFuzzer's output and reading its final figures from it.
fn run_target(target: &Target, seconds: u64) -> anyhow::Result<Run> {
    let dict = crate::project_root().join("fuzz/dicts").join(target.dict);
    let mut c = cargo_fuzz("run", Some(target.name));
    c.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={TIMEOUT_SECONDS}"))
        .arg(format!("-dict={}", dict.display()))
        .arg("-print_final_stats=1")
        .stderr(Stdio::piped());
    let shown = cmd::describe(&c);
    let started = Instant::now();
    let mut child = c.spawn().with_context(|| format!("cannot start `{shown}`"))?;
    let stderr = child.stderr.take().context("the fuzzer's standard error")?;
    let mut run = Run { target: target.name, ..Run::default() };
    for line in BufReader::new(stderr).lines() {
        let line = line.with_context(|| format!("reading the output of `{shown}`"))?;
        eprintln!("{line}");
        read_line(&line, &mut run);
    }
    let status = child.wait().with_context(|| format!("waiting for `{shown}`"))?;
    run.clean = status.success();
    run.took = started.elapsed();
    Ok(run)
}

/// Takes what `line` of libFuzzer's output tells into `run`.
fn read_line(line: &str, run: &mut Run) {
    let stat = |name: &str| line.strip_prefix(name).and_then(|v| v.trim().parse().ok());
    if let Some(n) = stat("stat::number_of_executed_units:") {
        run.runs = Some(n);
    } else if let Some(n) = stat("stat::average_exec_per_sec:") {
        run.exec_per_sec = Some(n);
    } else if let Some((_, file)) = line.split_once("Test unit written to ") {
        run.failing_input = Some(file.trim().to_owned());
    } else if line.starts_with('#') && line.contains(" cov: ") {
        let field = |name: &str| {
            let mut words = line.split_whitespace().skip_while(|w| *w != name);
            words.nth(1).map(str::to_owned)
        };
        run.cov = field("cov:");
        run.ft = field("ft:");
        run.corpus = field("corp:");
    }
}

fn names(targets: &[Target]) -> String {
    targets.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}
