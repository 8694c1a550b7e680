//! Importing dual-write maps in any shape they leave an environment. Pasted or chosen JSON (a
//! native package or `msdyn_mapping` legs) is checked in the page first, with core's validation
//! against the server's schema; a solution (`customizations.xml`, a solution zip, a zip of them) is
//! read by the server. Either way the server's preview says, map by map, whether it would be created
//! or replace the stored map of that name, and what replacing changes, field by field.

use dualwrite_core::access::Permission;
use dualwrite_core::api::{ImportAction, ImportReport, ImportedMap};
use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;
use dualwrite_core::validation::{validate_package, validate_package_structure, Diagnostic};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError, Upload};
use crate::components::diagnostics::DiagnosticList;
use crate::components::live;
use crate::components::notice::ErrorNotice;
use crate::fetched::Fetched;
use crate::route::{MapTab, Route};
use crate::session;

/// What the page made of a pasted JSON document before sending it.
#[derive(Debug, Clone, PartialEq)]
struct Checked {
    format: &'static str,
    maps: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

fn check(text: &str, schema: Option<&Schema>) -> Result<Checked, String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let native = document.get("format").is_some();
    let package =
        if native { Package::from_value(&document) } else { Package::from_ms_mapping(text, schema) }
            .map_err(|e| format!("not a package: {e}"))?;
    let diagnostics = match schema {
        Some(s) => validate_package(s, &package),
        None => validate_package_structure(&package),
    };
    Ok(Checked {
        format: if native { "dualwrite.package/v1" } else { "msdyn_mapping" },
        maps: package.maps.iter().map(|m| m.name.clone()).collect(),
        diagnostics,
    })
}

#[component]
pub fn PackageImport(on_imported: Callback<()>) -> impl IntoView {
    let schema = Fetched::new(api::schema);
    let text = RwSignal::new(String::new());
    // A chosen file the server reads (a solution), with its name.
    let file: RwSignal<Option<(String, Upload)>> = RwSignal::new(None);
    let report: RwSignal<Option<Result<ImportReport, ApiError>>> = RwSignal::new(None);
    let checked = Memo::new(move |_| {
        let t = text.get();
        if t.trim().is_empty() {
            return None;
        }
        let schema = schema.get().and_then(Result::ok).and_then(|v| Schema::from_value(&v).ok());
        Some(check(&t, schema.as_ref()))
    });
    let upload = move || match file.get_untracked() {
        Some((_, upload)) => Some(upload),
        None => serde_json::from_str(&text.get_untracked()).ok().map(Upload::Json),
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        spawn_local(async move {
            let Some((name, bytes)) = super::chosen_file(input).await else { return };
            report.set(None);
            match Upload::of_file(bytes) {
                Upload::Json(value) => {
                    file.set(None);
                    text.set(serde_json::to_string_pretty(&value).unwrap_or_default());
                }
                solution => {
                    text.set(String::new());
                    file.set(Some((name, solution)));
                }
            }
        });
    };
    let send = move |preview: bool| {
        let Some(upload) = upload() else { return };
        spawn_local(async move {
            let result = api::import(&upload, preview).await;
            let imported = !preview && result.is_ok();
            report.set(Some(result));
            if imported {
                on_imported.run(());
            }
        });
    };
    let ready = move || file.with(Option::is_some) || matches!(checked.get(), Some(Ok(_)));

    view! {
        <section class="panel">
            <h2>"Import maps"</h2>
            <p class="muted">"A dualwrite package, dual-write's msdyn_mapping JSON, a solution's customizations.xml, a solution zip or a zip of solution zips. A map named like a stored one replaces it (stop it first); any other is created, not running."</p>
            <input type="file" accept=".json,.xml,.zip,application/json,application/xml,application/zip" aria-label="package file" data-testid="import-file" on:change=on_file />
            <label for="import-text">"or paste JSON"</label>
            <textarea id="import-text" rows="8" spellcheck="false" data-testid="import-text" prop:value=text
                on:input=move |ev| { file.set(None); report.set(None); text.set(event_target_value(&ev)); }></textarea>
            {live(move || file.get().map(|(name, _)| view! { <p data-testid="import-chosen">{format!("{name}: read by the server — preview it to see its maps")}</p> }))}
            {live(move || checked.get().map(|c| match c {
                Err(e) => view! { <p class="error" data-testid="import-problem">{e}</p> }.into_any(),
                Ok(c) => view! {
                    <p data-testid="import-preview">{format!("{}: {} map{} — {}", c.format, c.maps.len(), if c.maps.len() == 1 { "" } else { "s" }, c.maps.join(", "))}</p>
                    <DiagnosticList diagnostics=Signal::stored(c.diagnostics) on_pick=Callback::new(|_: String| ()) />
                }.into_any(),
            }))}
            <Show when=ready>
                <button type="button" data-testid="import-preview-button" on:click=move |_| send(true)>"Preview"</button>
                {if session::may(Permission::Design) {
                    view! { <button type="button" class="primary" data-testid="import-button" on:click=move |_| send(false)>"Import"</button> }.into_any()
                } else {
                    view! { <p class="muted" data-testid="import-not-allowed">"Importing is for admins and makers."</p> }.into_any()
                }}
            </Show>
            {live(move || report.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(report) => view! { <ImportReportList report /> }.into_any(),
            }))}
        </section>
    }
}

/// Per map, what an import did or would do.
#[component]
fn ImportReportList(report: ImportReport) -> impl IntoView {
    let testid = if report.preview { "import-would" } else { "import-result" };
    view! {
        <ul class="notice ok" data-testid=testid>
            {report.items.into_iter().map(|item| view! { <ImportedItem item /> }).collect_view()}
        </ul>
    }
}

#[component]
fn ImportedItem(item: ImportedMap) -> impl IntoView {
    let action = match item.action {
        ImportAction::Created => "created",
        ImportAction::Replaced => "replaces the stored map",
    };
    let problems = item.diagnostics.len();
    let name = match &item.id {
        Some(id) => view! { <a href=Route::Map { id: id.clone(), tab: MapTab::Mapping }.path()>{item.map.name.clone()}</a> }.into_any(),
        None => view! { <strong>{item.map.name.clone()}</strong> }.into_any(),
    };
    view! {
        <li data-testid="import-item" data-action=action>
            {name}
            {format!(" {} — version {}, {problems} problem{}", action, item.map.version, if problems == 1 { "" } else { "s" })}
            <ul class="changes">
                {item.changes.into_iter().map(|c| view! {
                    <li data-testid="import-change"><code>{c.path}</code>": "{c.before.to_string()}" → "{c.after.to_string()}</li>
                }).collect_view()}
            </ul>
        </li>
    }
}
