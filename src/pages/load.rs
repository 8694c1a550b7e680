//! `/envs/{side}/load`: an environment's rows as they were before dual-write, from its data exports
//! (a CSV, JSON lines or Excel export of one table, or a finance-and-operations data package). The
//! file goes to the server as the browser reads it, under a progress bar; the report names every bad
//! row by file and line.

use dualwrite_core::access::Permission;
use dualwrite_core::api::{LoadReport, LoadedFile};
use dualwrite_core::schema::{Schema, Side};
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use super::table::side_label;
use crate::api::{self, ApiError};
use crate::components::live;
use crate::components::notice::ErrorNotice;
use crate::components::progress::{decimal, ProgressBar};
use crate::fetched::Fetched;
use crate::route::Route;
use crate::session;

/// Whether a file is a data package, which names its tables itself.
fn is_package(file_name: &str) -> bool {
    file_name.to_ascii_lowercase().ends_with(".zip")
}

/// A file's name without its extension: exports are often named after their table (`accounts.csv`,
/// `Customers V3.csv`).
fn stem(file_name: &str) -> &str {
    file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem)
}

#[component]
pub fn LoadPage() -> impl IntoView {
    let params = use_params_map();
    let side = Memo::new(move |_| params.with(|p| p.get("side").and_then(|s| s.parse::<Side>().ok())));
    let schema = Fetched::new(api::schema);
    let schema_doc =
        Memo::new(move |_| schema.get().and_then(Result::ok).and_then(|v| Schema::from_value(&v).ok()));
    let input = NodeRef::<Input>::new();
    let chosen: RwSignal<Option<String>> = RwSignal::new(None);
    let table = RwSignal::new(String::new());
    let skip_bad_rows = RwSignal::new(false);
    let sent = RwSignal::new((0u64, 0u64));
    let busy = RwSignal::new(false);
    let outcome: RwSignal<Option<Result<LoadReport, ApiError>>> = RwSignal::new(None);
    let package = move || chosen.with(|c| c.as_deref().is_some_and(is_package));
    let file = move || input.get_untracked().and_then(|i| i.files()).and_then(|f| f.get(0));

    // A file and a table chosen for one side mean nothing on the other.
    Effect::new(move |_| {
        side.track();
        table.set(String::new());
        chosen.set(None);
        outcome.set(None);
        sent.set((0, 0));
        if let Some(input) = input.get_untracked() {
            input.set_value("");
        }
    });

    let on_choose = move |_| {
        let name = file().map(|f| f.name());
        outcome.set(None);
        // The table the file is named after, when there is one.
        let named = name.as_deref().zip(side.get_untracked()).and_then(|(name, side)| {
            schema_doc.with_untracked(|s| Some(s.as_ref()?.resolve(side, stem(name)).ok()?.name.clone()))
        });
        if let Some(named) = named {
            table.set(named);
        }
        chosen.set(name);
    };
    let start = move |_| {
        let (Some(side), Some(file)) = (side.get_untracked(), file()) else { return };
        let table = (!is_package(&file.name())).then(|| table.get_untracked());
        sent.set((0, file.size() as u64));
        busy.set(true);
        outcome.set(None);
        spawn_local(async move {
            let on_sent = move |done: f64, all: f64| sent.set((done as u64, all as u64));
            let answer =
                api::load(side, table.as_deref(), &file, skip_bad_rows.get_untracked(), on_sent).await;
            busy.set(false);
            outcome.set(Some(answer));
        });
    };
    let ready =
        move || !busy.get() && chosen.with(Option::is_some) && (package() || !table.with(String::is_empty));
    let tables = move || {
        let side = side.get();
        schema_doc.with(|doc| {
            doc.as_ref()
                .zip(side)
                .map(|(d, s)| d.tables(s).iter().map(|t| t.name.clone()).collect::<Vec<_>>())
        })
    };

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Load rows"</h1>
                <nav class="tabs">
                    {Side::BOTH.into_iter().map(|s| view! {
                        <a href=Route::Load { side: s }.path() class:active=move || side.get() == Some(s)>{side_label(s)}</a>
                    }).collect_view()}
                </nav>
            </div>
            <p class="muted">"Bring an environment's rows as they were before dual-write, from its data exports: a CSV with a header, JSON lines, an Excel sheet, or a finance and operations data package (zip). Columns the schema does not know are skipped with a warning. A file with a bad row loads nothing unless you keep its good rows; every bad row is listed with its line. Loaded rows are not synced, so a table is refused while a map on it is not stopped."</p>
            {live(move || side.get().is_none().then(|| view! { <p class="notice error">"Unknown environment: use finops or dataverse."</p> }))}
            {live(move || schema.get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> }))}
            <div class="panel">
                <input type="file" node_ref=input aria-label="data export" data-testid="load-file"
                    accept=".csv,.jsonl,.ndjson,.xlsx,.zip" on:change=on_choose />
                <Show when=move || !package() fallback=|| view! {
                    <p class="muted" data-testid="load-package">"A data package: each entity file goes to the table its manifest names."</p>
                }>
                    <label>"Table "
                        <select aria-label="table" data-testid="load-table" prop:value=move || table.get()
                            on:change=move |ev| table.set(event_target_value(&ev))>
                            <option value="">"choose a table"</option>
                            {live(move || tables().unwrap_or_default().into_iter().map(|t| {
                                let chosen = t == table.get();
                                view! { <option value=t.clone() selected=chosen>{t.clone()}</option> }
                            }).collect_view())}
                        </select>
                    </label>
                </Show>
                <label>
                    <input type="checkbox" data-testid="load-skip-bad-rows" prop:checked=skip_bad_rows
                        on:change=move |ev| skip_bad_rows.set(event_target_checked(&ev)) />
                    " Keep the good rows of a file with bad rows"
                </label>
                {session::may(Permission::WriteData).then(|| view! {
                    <button type="button" class="primary" data-testid="load-button" disabled=move || !ready() on:click=start>"Load"</button>
                })}
            </div>
            <Show when=move || { sent.get().1 > 0 }>
                <Sending sent=Signal::derive(move || sent.get()) busy=Signal::derive(move || busy.get()) />
            </Show>
            {live(move || outcome.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(report) => view! { <LoadReportView report /> }.into_any(),
            }))}
        </section>
    }
}

/// A file on its way to the server, then the server writing its rows; once answered, what was sent.
#[component]
fn Sending(sent: Signal<(u64, u64)>, busy: Signal<bool>) -> impl IntoView {
    let caption = Signal::derive(move || {
        let (done, all) = sent.get();
        match (done >= all, busy.get()) {
            (true, true) => "sent; checking and writing the rows…".to_owned(),
            (true, false) => format!("{} sent", size(all)),
            (false, _) => format!("{} of {} sent", size(done), size(all)),
        }
    });
    view! {
        <div data-testid="load-progress">
            <ProgressBar done=Signal::derive(move || sent.get().0) total=Signal::derive(move || sent.get().1)
                label="file sent" caption />
        </div>
    }
}

/// A byte count the way people read file sizes.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{} GB", decimal(b, 1 << 30, 1)),
        b if b >= 1 << 20 => format!("{} MB", decimal(b, 1 << 20, 1)),
        b if b >= 1 << 10 => format!("{} KB", decimal(b, 1 << 10, 0)),
        b => format!("{b} bytes"),
    }
}

/// What a load did, file by file.
#[component]
fn LoadReportView(report: LoadReport) -> impl IntoView {
    let written = report.files.iter().all(|f| f.written);
    let refused = report.refused();
    let loaded: u64 = report.files.iter().map(|f| f.loaded).sum();
    let summary = match (refused, written) {
        (0, _) => format!("Loaded {loaded} rows."),
        (_, true) => format!("Loaded {loaded} rows; {refused} bad rows refused, listed below."),
        (_, false) => format!(
            "Nothing was written from a file with bad rows: {refused} refused, listed below. Fix them, or keep the good rows."
        ),
    };
    view! {
        <div class=match (refused, written) { (0, _) => "notice ok", (_, true) => "notice warn", _ => "notice error" } data-testid="load-result"
            data-written=written.to_string() data-refused=refused.to_string()>
            <p>{summary}</p>
            <ul>{report.files.into_iter().map(|file| view! { <LoadedFileView file /> }).collect_view()}</ul>
        </div>
    }
}

#[component]
fn LoadedFileView(file: LoadedFile) -> impl IntoView {
    let what = if file.written {
        format!("{} rows loaded ({} new, {} updated)", file.loaded, file.inserted, file.updated)
    } else {
        "not written".to_owned()
    };
    let refused = (file.refused > 0).then(|| format!("; {} refused", file.refused));
    let unlisted = file.refused.saturating_sub(file.bad_rows.len() as u64);
    let table = file.table.clone();
    view! {
        <li data-testid="load-file-result" data-table=table data-loaded=file.loaded.to_string()>
            <strong>{file.file}</strong>" → "{file.table}": "{what}{refused}
            {(!file.warnings.is_empty()).then(|| view! {
                <ul class="muted">{file.warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            })}
            {(!file.bad_rows.is_empty()).then(|| view! {
                <table class="rows" data-testid="load-bad-rows">
                    <thead><tr><th>"Line"</th><th>"Why it was refused"</th></tr></thead>
                    <tbody>{file.bad_rows.into_iter().map(|bad| view! {
                        <tr><td>{bad.line.map(|l| l.to_string()).unwrap_or_else(|| "—".to_owned())}</td><td>{bad.reason}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
            {(unlisted > 0).then(|| view! { <p class="muted">{format!("and {unlisted} more not listed")}</p> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_is_named_after_its_table_without_its_extension() {
        assert_eq!(stem("Customers V3.csv"), "Customers V3");
        assert_eq!(stem("accounts"), "accounts");
        assert!(is_package("Contoso customers.ZIP") && !is_package("accounts.csv"));
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(3 << 20), "3.0 MB");
    }
}
