//! Packages in and out: import a native package or dual-write's `msdyn_mapping` JSON (checked in the
//! page first, against the server's schema), and export maps in either shape as a file.

use dualwrite_core::access::Permission;
use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;
use dualwrite_core::validation::{validate_package, validate_package_structure, Diagnostic};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError, Saved};
use crate::components::diagnostics::DiagnosticList;
use crate::components::notice::ErrorNotice;
use crate::route::{MapTab, Route};
use crate::session;

/// What the page made of a document before importing it.
#[derive(Debug, Clone, PartialEq)]
struct Preview {
    document: Value,
    format: &'static str,
    maps: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

fn preview(text: &str, schema: Option<&Schema>) -> Result<Preview, String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let native = document.get("format").is_some();
    let package =
        if native { Package::from_value(&document) } else { Package::from_ms_mapping(text, schema) }
            .map_err(|e| format!("not a package: {e}"))?;
    let diagnostics = match schema {
        Some(s) => validate_package(s, &package),
        None => validate_package_structure(&package),
    };
    Ok(Preview {
        document,
        format: if native { "dualwrite.package/v1" } else { "msdyn_mapping" },
        maps: package.maps.iter().map(|m| m.name.clone()).collect(),
        diagnostics,
    })
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let schema = LocalResource::new(api::schema);
    let maps = LocalResource::new(api::maps);
    let text = RwSignal::new(String::new());
    let imported: RwSignal<Option<Result<Vec<Saved>, ApiError>>> = RwSignal::new(None);
    let parsed = Memo::new(move |_| {
        let t = text.get();
        if t.trim().is_empty() {
            return None;
        }
        let schema = schema.get().and_then(Result::ok).and_then(|v| Schema::from_value(&v).ok());
        Some(preview(&t, schema.as_ref()))
    });
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        spawn_local(async move {
            if let Ok(value) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                text.set(value.as_string().unwrap_or_default());
            }
        });
    };
    let import = move |_| {
        let Some(Ok(p)) = parsed.get_untracked() else { return };
        spawn_local(async move {
            imported.set(Some(api::import(&p.document).await));
            maps.refetch();
        });
    };

    // Export.
    let chosen: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let format = RwSignal::new("native".to_owned());
    let exported: RwSignal<Option<Result<String, ApiError>>> = RwSignal::new(None);
    let export = move |_| {
        let (ids, f) = (chosen.get_untracked(), format.get_untracked());
        spawn_local(async move {
            let result =
                api::export(&ids, &f).await.map(|v| serde_json::to_string_pretty(&v).unwrap_or_default());
            if let Ok(json) = &result {
                let name = if f == "native" { "dualwrite-package.json" } else { "msdyn_mapping.json" };
                crate::file::download(name, "application/json", json);
            }
            exported.set(Some(result));
        });
    };

    view! {
        <section class="page">
            <h1>"Import and export"</h1>
            <div class="two-col">
                <section class="panel">
                    <h2>"Import a package"</h2>
                    <p class="muted">"A dualwrite package (dualwrite.package/v1) or dual-write's msdyn_mapping JSON. It is checked here first; maps are imported as new, not running."</p>
                    <input type="file" accept=".json,application/json" aria-label="package file" data-testid="import-file" on:change=on_file />
                    <label for="import-text">"or paste it"</label>
                    <textarea id="import-text" rows="8" spellcheck="false" data-testid="import-text" prop:value=text
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    {move || parsed.get().map(|p| match p {
                        Err(e) => view! { <p class="error" data-testid="import-problem">{e}</p> }.into_any(),
                        Ok(p) => view! {
                            <p data-testid="import-preview">{format!("{}: {} map{} — {}", p.format, p.maps.len(), if p.maps.len() == 1 { "" } else { "s" }, p.maps.join(", "))}</p>
                            <DiagnosticList diagnostics=Signal::stored(p.diagnostics) on_pick=Callback::new(|_: String| ()) />
                            {if session::may(Permission::Design) {
                                view! { <button type="button" class="primary" data-testid="import-button" on:click=import>"Import"</button> }.into_any()
                            } else {
                                view! { <p class="muted" data-testid="import-not-allowed">"Checked. Importing it is for admins and makers."</p> }.into_any()
                            }}
                        }.into_any(),
                    })}
                    {move || imported.get().map(|r| match r {
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        Ok(items) => view! {
                            <ul class="notice ok" data-testid="import-result">
                                {items.into_iter().map(|s| view! {
                                    <li><a href=Route::Map { id: s.resource.id.clone(), tab: MapTab::Mapping }.path()>{s.resource.map.name.clone()}</a>
                                        {format!(" — {} problem{}", s.diagnostics.len(), if s.diagnostics.len() == 1 { "" } else { "s" })}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    })}
                </section>
                <section class="panel">
                    <h2>"Export maps"</h2>
                    {move || maps.get().map(|r| match r {
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        Ok(items) => items.into_iter().map(|m| {
                            let id = m.resource.id.clone();
                            let id2 = id.clone();
                            view! {
                                <label class="check block">
                                    <input type="checkbox" prop:checked=move || chosen.with(|c| c.contains(&id))
                                        on:change=move |ev| { let on = event_target_checked(&ev); let id = id2.clone(); chosen.update(|c| { c.retain(|x| *x != id); if on { c.push(id); } }); } />
                                    {m.resource.map.name.clone()}
                                </label>
                            }
                        }).collect_view().into_any(),
                    })}
                    <p class="muted">"None ticked exports every map."</p>
                    <label>"Format "
                        <select prop:value=format on:change=move |ev| format.set(event_target_value(&ev))>
                            <option value="native">"dualwrite package"</option>
                            <option value="msdyn_mapping">"msdyn_mapping (dual-write legs)"</option>
                        </select>
                    </label>
                    <button type="button" class="primary" data-testid="export-button" on:click=export>"Download"</button>
                    {move || exported.get().map(|r| match r {
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        Ok(json) => view! { <textarea readonly rows="10" data-testid="export-text" aria-label="exported package" prop:value=json></textarea> }.into_any(),
                    })}
                </section>
            </div>
        </section>
    }
}
