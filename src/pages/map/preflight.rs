use dualwrite_core::schema::Side;
use leptos::prelude::*;
use leptos::task::spawn_local;

use dualwrite_core::api::{PreflightProblem, PreflightReport};

use crate::api::{self, ApiError};
use crate::components::diagnostics::DiagnosticList;
use crate::components::live;
use crate::components::notice::ErrorNotice;
use crate::components::progress::decimal;

/// Rows of one problem shown a page.
const PAGE: u32 = 20;

/// The preflight tab: what an initial sync would do to the real rows, without writing — counts as a
/// chart, a ready-to-run verdict with its reasons, every problem with its rows, and the CSV of all.
#[component]
pub fn PreflightTab(id: String) -> impl IntoView {
    let id = StoredValue::new(id);
    let master = RwSignal::new(Side::Dataverse);
    let result: RwSignal<Option<Result<PreflightReport, ApiError>>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let start = move |_| {
        busy.set(true);
        spawn_local(async move {
            result.set(Some(api::preflight(&id.get_value(), master.get_untracked()).await));
            busy.set(false);
        });
    };
    let csv = move |_| {
        spawn_local(async move {
            let id = id.get_value();
            match api::preflight_csv(&id, master.get_untracked()).await {
                Ok(text) => crate::file::download(&format!("preflight-{id}.csv"), "text/csv", &text),
                Err(e) => result.set(Some(Err(e))),
            }
        });
    };
    view! {
        <div class="preflight" data-testid="preflight">
            <p class="muted">
                "Reads both sides through the map's filters and says what an initial sync would do: "
                "matches, conflicts, rows created, and every row that would fail. Nothing is written."
            </p>
            <div class="row wrap">
                <label>"Master for conflicts "
                    <select data-testid="preflight-master" on:change=move |ev| master.set(if event_target_value(&ev) == "finops" { Side::Finops } else { Side::Dataverse })>
                        <option value="dataverse" selected>"Dataverse"</option>
                        <option value="finops">"finance and operations"</option>
                    </select>
                </label>
                <button type="button" class="primary" data-testid="preflight-run" disabled=move || busy.get() on:click=start>
                    {live(move || if busy.get() { "Checking…" } else { "Run preflight" })}
                </button>
                <button type="button" data-testid="preflight-csv" disabled=move || !matches!(result.get(), Some(Ok(_))) on:click=csv>
                    "Download problem rows (CSV)"
                </button>
            </div>
            {live(move || result.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(report) => view! { <Report report=report id=id.get_value() master=master.get_untracked() /> }.into_any(),
            }))}
        </div>
    }
}

#[component]
fn Report(report: PreflightReport, id: String, master: Side) -> impl IntoView {
    let bars: Vec<(String, u64)> = [
        ("finops rows".to_owned(), report.rows.finops),
        ("Dataverse rows".to_owned(), report.rows.dataverse),
        ("outside the filters".to_owned(), report.filtered.finops + report.filtered.dataverse),
        ("matched pairs".to_owned(), report.matched),
        ("already equal".to_owned(), report.equal),
        ("conflicts".to_owned(), report.conflicts),
        ("to create in finops".to_owned(), report.creates.finops),
        ("to create in Dataverse".to_owned(), report.creates.dataverse),
    ]
    .into_iter()
    .chain(report.problems.iter().map(|p| (format!("failing: {}", p.title), p.total)))
    .collect();
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let diagnostics = Signal::derive({
        let d = report.diagnostics.clone();
        move || d.clone()
    });
    let id = StoredValue::new(id);
    view! {
        <div class="verdict" class:ok=report.ready class:error=!report.ready data-testid="preflight-verdict" data-ready=report.ready.to_string()>
            <strong>{if report.ready { "Ready to run: every row would sync." } else { "Not ready to run." }}</strong>
            <ul>{report.reasons.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
        </div>
        <div class="chart" role="img" aria-label="what an initial sync would do" data-testid="preflight-chart">
            {bars.into_iter().map(|(label, n)| view! {
                <div class="bar-row">
                    <span class="bar-label">{label}</span>
                    <span class="bar" style:width=format!("{}%", decimal(n * 100, max, 1))></span>
                    <span class="bar-value">{n}</span>
                </div>
            }).collect_view()}
        </div>
        <h3>"Problems"</h3>
        {if report.problems.is_empty() { view! { <p class="muted">"None."</p> }.into_any() } else {
            view! { <ul class="problems" data-testid="preflight-problems">
                {report.problems.into_iter().map(|p| view! { <ProblemRows problem=p id=id.get_value() master=master /> }).collect_view()}
            </ul> }.into_any()
        }}
        <h3>"Conflicts"</h3>
        <p class="muted">{format!("{} pairs differ; the master ({master}) keeps its values for fields mapped both ways.", report.conflicts)}</p>
        <table class="grid">
            <thead><tr><th>"key"</th><th>"company"</th><th>"field"</th><th>"finops"</th><th>"Dataverse"</th><th>"kept"</th></tr></thead>
            <tbody>
                {report.conflict_samples.into_iter().flat_map(|c| {
                    let key = c.key.clone();
                    let company = c.company.clone().unwrap_or_default();
                    c.diffs.into_iter().map(move |d| view! {
                        <tr>
                            <td>{key.clone()}</td>
                            <td>{company.clone()}</td>
                            <td>{d.finops_field.or(d.dataverse_field).unwrap_or_default()}</td>
                            <td>{d.finops.to_string()}</td>
                            <td>{d.dataverse.to_string()}</td>
                            <td>{d.winner.to_string()}</td>
                        </tr>
                    })
                }).collect_view()}
            </tbody>
        </table>
        <h3>"Static checks"</h3>
        <DiagnosticList diagnostics=diagnostics on_pick=Callback::new(|_: String| {}) />
    }
}

/// One problem: its count, and its rows a page at a time.
#[component]
fn ProblemRows(problem: PreflightProblem, id: String, master: Side) -> impl IntoView {
    let code = StoredValue::new(problem.code.clone());
    let id = StoredValue::new(id);
    let offset = RwSignal::new(0u64);
    let page: RwSignal<Option<Result<PreflightProblem, ApiError>>> = RwSignal::new(Some(Ok(problem.clone())));
    let load = move |to: u64| {
        offset.set(to);
        spawn_local(async move {
            page.set(Some(
                api::preflight_problem(&id.get_value(), master, &code.get_value(), to, PAGE).await,
            ));
        });
    };
    let total = problem.total;
    view! {
        <li data-testid="preflight-problem" data-code=problem.code.clone()>
            <details>
                <summary><strong>{problem.total}</strong>{if problem.total == 1 { " row: " } else { " rows: " }}{problem.title.clone()}" "<code>{problem.code.clone()}</code></summary>
                {live(move || page.get().map(|p| match p {
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    Ok(p) => view! {
                        <table class="grid">
                            <thead><tr><th>"side"</th><th>"key"</th><th>"company"</th><th>"field"</th><th>"value"</th><th>"what is wrong"</th></tr></thead>
                            <tbody>{p.items.into_iter().take(PAGE as usize).map(|r| view! {
                                <tr>
                                    <td>{r.side.to_string()}</td>
                                    <td>{r.key}</td>
                                    <td>{r.company.unwrap_or_default()}</td>
                                    <td>{r.field.unwrap_or_default()}</td>
                                    <td>{r.value.map(|v| v.to_string()).unwrap_or_default()}</td>
                                    <td>{r.message}{r.bringing_map.map(|m| format!(" (run map `{m}` first)"))}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }))}
                <div class="row">
                    <button type="button" disabled=move || offset.get() == 0 on:click=move |_| load(offset.get().saturating_sub(u64::from(PAGE)))>"Previous"</button>
                    <span class="muted">{live(move || format!("{}–{} of {total}", offset.get() + 1, (offset.get() + u64::from(PAGE)).min(total)))}</span>
                    <button type="button" disabled=move || { offset.get() + u64::from(PAGE) >= total } on:click=move |_| load(offset.get() + u64::from(PAGE))>"Next"</button>
                </div>
            </details>
        </li>
    }
}
