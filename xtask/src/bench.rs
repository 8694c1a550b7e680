//! `cargo xtask bench [--quick]`: every figure of the product beside the limit it is measured
//! against in the same run, and its target; printed as a table and written to BENCHMARKS.md.
//!
//! The figures come from the benchmarks themselves (`benches/` of core and server, core's timing
//! test in headless Chromium, the studio's browser test), each printing `BENCH\t{figure}\t{value}\t{unit}`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};

use crate::{cmd, tools};

/// One measured figure.
#[derive(Debug, Clone)]
struct Figure {
    name: String,
    value: f64,
    unit: String,
}

/// Runs `c`, echoing its output, and collects the `BENCH` lines it prints.
fn collect(c: &mut Command) -> anyhow::Result<Vec<Figure>> {
    let shown = cmd::describe(c);
    println!("xtask bench: {shown}");
    let mut child = c.stdout(Stdio::piped()).spawn().with_context(|| format!("cannot start `{shown}`"))?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut figures = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        figures.extend(figures_in(&line));
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(figures)
}

/// Which parts run, and figures carried over from the log of an earlier run.
struct Options {
    quick: bool,
    parts: Vec<String>,
    from: Vec<std::path::PathBuf>,
}

const PARTS: [&str; 4] = ["core", "wasm", "server", "studio"];

fn options(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options { quick: false, parts: PARTS.map(String::from).to_vec(), from: Vec::new() };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => o.quick = true,
            "--parts" => {
                let list = rest.next().context("--parts needs a list, e.g. core,server")?;
                o.parts = list.split(',').map(|p| p.trim().to_owned()).collect();
                if let Some(unknown) = o.parts.iter().find(|p| !PARTS.contains(&p.as_str())) {
                    bail!("unknown part {unknown:?}; the parts are {}", PARTS.join(", "));
                }
            }
            "--from" => o.from.push(rest.next().context("--from needs a log file")?.into()),
            other => bail!("unknown option {other:?} (expected --quick, --parts LIST or --from LOG)"),
        }
    }
    Ok(o)
}

/// The `BENCH` lines of a saved log (what an earlier run printed).
fn figures_in(text: &str) -> Vec<Figure> {
    text.lines()
        .filter_map(|line| {
            let parts: Vec<&str> = line.split("BENCH\t").nth(1)?.split('\t').collect();
            match parts[..] {
                [name, value, unit] => Some(Figure {
                    name: name.to_owned(),
                    value: value.trim().parse().ok()?,
                    unit: unit.trim().to_owned(),
                }),
                _ => None,
            }
        })
        .collect()
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let Options { quick, parts, from } = options(args)?;
    let runs = |part: &str| parts.iter().any(|p| p == part);
    let started = Instant::now();
    let rows = if quick { "10000" } else { "10000,100000,1000000" };
    let seconds = if quick { "1" } else { "5" };
    let postgres = std::env::var("DUALWRITE_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("DUALWRITE_TEST_POSTGRES_URL"))
        .ok()
        .filter(|_| !quick);
    // PostgreSQL's catch-up still goes a change at a time, a few round trips each: at 1M rows per side
    // the run takes about a quarter of an hour, so 1M is left to those who ask for it (`DUALWRITE_BENCH_POSTGRES_ROWS=10000,100000,1000000`).
    let postgres_rows =
        std::env::var("DUALWRITE_BENCH_POSTGRES_ROWS").unwrap_or_else(|_| "10000,100000".to_owned());
    let mut figures = Vec::new();
    for log in &from {
        let text = std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
        figures.extend(figures_in(&text));
    }

    if runs("core") {
        figures.extend(collect(
            cmd::cargo().args(["bench", "-p", "dualwrite-core"]).env("DUALWRITE_BENCH_ROWS", rows),
        )?);
    }

    if runs("wasm") {
        tools::ensure_studio_tools()?;
        tools::ensure_chromium()?;
        figures.extend(collect(
            cmd::cargo()
                .args(["test", "--release", "-p", "dualwrite-core", "--target", "wasm32-unknown-unknown"])
                .args(["--test", "timing_in_browser", "--", "--nocapture"])
                .env("CHROMEDRIVER", tools::CHROMEDRIVER)
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner"),
        )?);
    }

    if runs("server") {
        let mut server = cmd::cargo();
        server
            .args(["bench", "-p", "dualwrite-server"])
            .env("DUALWRITE_BENCH_ROWS", rows)
            .env("DUALWRITE_BENCH_POSTGRES_ROWS", &postgres_rows)
            .env("DUALWRITE_BENCH_SECONDS", seconds);
        match &postgres {
            Some(url) => server.env("DUALWRITE_BENCH_POSTGRES_URL", url),
            None => server.env_remove("DUALWRITE_BENCH_POSTGRES_URL"),
        };
        figures.extend(collect(&mut server)?);
    }

    if !runs("studio") {
        return finish(&figures, quick, &parts, !from.is_empty(), started);
    }
    crate::run::build_studio()?;
    let wasm =
        Figure { name: "studio: wasm, gzipped".into(), value: gzipped_wasm_kib()?, unit: "KiB".into() };
    // As the benchmarks print theirs, so that `--from` carries it from this run's log.
    println!("BENCH\t{}\t{:.1}\t{}", wasm.name, wasm.value, wasm.unit);
    figures.push(wasm);
    if !quick {
        cmd::run(cmd::cargo().args(["build", "-p", "dualwrite-server", "--bin", "dualwrite"]))?;
        figures.extend(collect(crate::test::end_to_end_command().args([
            "the_map_editor_becomes_usable",
            "a_map_editor_link_opens_on_a_slow_connection",
            "--nocapture",
        ]))?);
    }

    finish(&figures, quick, &parts, !from.is_empty(), started)
}

/// Prints the table and, unless quick, writes it to BENCHMARKS.md.
fn finish(
    figures: &[Figure],
    quick: bool,
    parts: &[String],
    carried: bool,
    started: Instant,
) -> anyhow::Result<()> {
    let table = assess(&latest(figures));
    let report = render(&table, quick, parts, carried, started.elapsed().as_secs_f64())?;
    println!("\n{report}");
    if !quick {
        std::fs::write(crate::project_root().join("BENCHMARKS.md"), &report)
            .context("writing BENCHMARKS.md")?;
        println!("written to BENCHMARKS.md");
    }
    Ok(())
}

/// Each figure once, in the place it first came, with the value it was given last: a figure carried
/// over from an earlier run's log (`--from`) and measured again in this one shows this run's value.
fn latest(figures: &[Figure]) -> Vec<Figure> {
    let mut out: Vec<Figure> = Vec::new();
    for f in figures {
        match out.iter_mut().find(|seen| seen.name == f.name) {
            Some(seen) => *seen = f.clone(),
            None => out.push(f.clone()),
        }
    }
    out
}

fn gzipped_wasm_kib() -> anyhow::Result<f64> {
    let gz = crate::run::gzipped_wasm()?;
    let bytes = std::fs::metadata(&gz).with_context(|| format!("reading {}", gz.display()))?.len();
    Ok(bytes as f64 / 1024.0)
}

/// A row of the table: the figure, what it is measured against, and its target.
struct Row {
    figure: Figure,
    limit: Option<Figure>,
    target: String,
    met: Option<bool>,
}

fn find<'f>(figures: &'f [Figure], name: &str) -> Option<&'f Figure> {
    figures.iter().find(|f| f.name == name)
}

/// Peak resident memory of an initial sync, both engines, up to 10M rows per side.
const PEAK_RSS_MIB: f64 = 1024.0;

/// The runtime's targets on one database engine (figures at 1M rows per side hold them; smaller runs
/// are judged by the same rates).
struct Targets {
    initial_sync: f64,
    catch_up: f64,
    load: f64,
    preflight_1m_s: f64,
    added_p99_ms: f64,
    tx_per_s_8_clients: f64,
}

/// The targets of the engine a figure's name starts with.
fn engine(name: &str) -> Option<Targets> {
    if name.starts_with("sqlite: ") {
        Some(Targets {
            initial_sync: 150_000.0,
            catch_up: 80_000.0,
            load: 150_000.0,
            preflight_1m_s: 10.0,
            added_p99_ms: 2.0,
            tx_per_s_8_clients: 3000.0,
        })
    } else if name.starts_with("postgres: ") {
        Some(Targets {
            initial_sync: 60_000.0,
            catch_up: 30_000.0,
            load: 80_000.0,
            preflight_1m_s: 20.0,
            added_p99_ms: 5.0,
            tx_per_s_8_clients: 2000.0,
        })
    } else {
        None
    }
}

/// The engine and the size of a runtime figure named `{engine}: {what}, {size} …`
/// ("postgres: catch-up, 100000 queued changes" is `("postgres", "100000")` for "catch-up").
fn figure_of<'n>(name: &'n str, what: &str) -> Option<(&'n str, &'n str)> {
    let (engine, rest) = name.split_once(": ")?;
    let size = rest.strip_prefix(what)?.strip_prefix(", ")?;
    Some((engine, size.split(' ').next()?))
}

/// Pairs each figure with its limit and judges it against its target (from the strongest peers and
/// the design).
fn assess(figures: &[Figure]) -> Vec<Row> {
    figures
        .iter()
        .map(|f| {
            let name = f.name.as_str();
            let (limit, target, met): (Option<Figure>, String, Option<bool>) = if name
                == "validation: Customers V3 map, wasm in Chromium"
            {
                let native = find(figures, "validation: Customers V3 map, native").cloned();
                (native, "< 1000 µs per map".into(), Some(f.value < 1000.0))
            } else if let Some(rest) = name.strip_suffix(" with a running map, p99") {
                let base = find(figures, &format!("{rest} without a map, p99")).cloned();
                let added = engine(name).map_or(5.0, |e| e.added_p99_ms);
                let met = base.as_ref().map(|b| f.value - b.value <= added);
                (base, format!("added p99 ≤ {added} ms"), met)
            } else if name.contains("with a running map") {
                let base = find(figures, &name.replace("with a running map", "without a map")).cloned();
                match engine(name)
                    .filter(|_| name.contains("transactions/s") && name.ends_with(", 8 clients"))
                {
                    Some(e) => (
                        base,
                        format!("≥ {} tx/s", e.tx_per_s_8_clients),
                        Some(f.value >= e.tx_per_s_8_clients),
                    ),
                    None => (base, "—".into(), None),
                }
            } else if let (Some(e), Some((prefix, size))) = (engine(name), figure_of(name, "initial sync")) {
                let limit = find(figures, &format!("{prefix}: engine insert, {size} rows per side")).cloned();
                let met = limit.as_ref().map(|l| f.value >= e.initial_sync && f.value >= 0.3 * l.value);
                (limit, format!("≥ {} rows/s and ≥ 0.3 × engine insert", e.initial_sync), met)
            } else if let (Some(e), Some((prefix, size))) = (engine(name), figure_of(name, "catch-up")) {
                let limit = find(figures, &format!("{prefix}: engine insert, {size} rows per side")).cloned();
                (limit, format!("≥ {} changes/s", e.catch_up), Some(f.value >= e.catch_up))
            } else if let (Some(e), Some((prefix, size))) = (engine(name), figure_of(name, "load")) {
                let limit = find(figures, &format!("{prefix}: engine insert, {size} rows per side")).cloned();
                (limit, format!("≥ {} rows/s", e.load), Some(f.value >= e.load))
            } else if let (Some(e), Some((prefix, size))) = (engine(name), figure_of(name, "preflight")) {
                let limit = find(figures, &format!("{prefix}: engine scan, {size} rows per side")).cloned();
                match size {
                    "1000000" => {
                        (limit, format!("≤ {} s", e.preflight_1m_s), Some(f.value <= e.preflight_1m_s))
                    }
                    _ => (limit, "—".into(), None),
                }
            } else if figure_of(name, "peak RSS, initial sync").is_some() {
                (None, format!("≤ {PEAK_RSS_MIB} MiB"), Some(f.value <= PEAK_RSS_MIB))
            } else if name == "studio: wasm, gzipped" {
                (None, "≤ 400 KiB".into(), Some(f.value <= 400.0))
            } else {
                (None, "—".into(), None)
            };
            Row { figure: f.clone(), limit, target, met }
        })
        .collect()
}

/// `carried`: figures of earlier runs' logs (`--from`) are in `rows`.
fn render(
    rows: &[Row],
    quick: bool,
    parts: &[String],
    carried: bool,
    seconds: f64,
) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(out, "# Benchmarks\n")?;
    writeln!(
        out,
        "Measured by `cargo xtask bench`{} on {}, in {:.0} s. Each figure stands beside the limit it is \
         measured against in the same run (`ratio` = figure ÷ limit) and the target it is held to.\n",
        if quick { " --quick" } else { "" },
        machine(),
        seconds
    )?;
    if parts.len() < PARTS.len() || carried {
        writeln!(
            out,
            "This run measured the {} part(s); the figures it did not measure are carried from the logs of \
             earlier runs (`--from`), each figure from the last log that has it, and may come from another \
             machine.\n",
            parts.join(", ")
        )?;
    }
    writeln!(out, "| figure | value | limit | ratio | target | met |")?;
    writeln!(out, "|---|---:|---|---:|---|---|")?;
    for row in rows {
        let f = &row.figure;
        let (limit, ratio) = match &row.limit {
            Some(l) => {
                (format!("{} = {} {}", l.name, number(l.value), l.unit), format!("{:.2}", f.value / l.value))
            }
            None => ("—".into(), "—".into()),
        };
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        writeln!(
            out,
            "| {} | {} {} | {limit} | {ratio} | {} | {met} |",
            f.name,
            number(f.value),
            f.unit,
            row.target
        )?;
    }
    Ok(out)
}

fn number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The machine, in a line: cores, memory, processor, compiler.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "an unknown processor".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or_else(|| "? GiB".into(), |kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0));
    let rustc = cmd::output(cmd::command("rustc").arg("--version")).unwrap_or_default();
    format!("{cores} cores, {memory}, {cpu}, {}", rustc.trim())
}
