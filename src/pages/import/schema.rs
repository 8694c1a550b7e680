//! Merging an environment's OData `$metadata` into the schema: the tables asked for (by name, entity
//! set or label) and what their lookups reach. The preview lists each table as added, changed or
//! unchanged, with what the document lacks; merging writes it.

use dualwrite_core::access::Permission;
use dualwrite_core::api::SchemaImport;
use dualwrite_core::schema::Side;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::components::live;
use crate::components::notice::ErrorNotice;
use crate::session;

#[component]
pub fn SchemaImportPanel() -> impl IntoView {
    let side = RwSignal::new(Side::Dataverse);
    let xml = RwSignal::new(String::new());
    let tables = RwSignal::new(String::new());
    let answer: RwSignal<Option<Result<SchemaImport, ApiError>>> = RwSignal::new(None);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        spawn_local(async move {
            if let Some((_, bytes)) = super::chosen_file(input).await {
                answer.set(None);
                xml.set(String::from_utf8_lossy(&bytes).into_owned());
            }
        });
    };
    let send = move |preview: bool| {
        let (s, document, wanted) = (side.get_untracked(), xml.get_untracked(), tables.get_untracked());
        spawn_local(async move { answer.set(Some(api::import_schema(s, document, &wanted, preview).await)) });
    };
    view! {
        <section class="panel">
            <h2>"Import a schema from $metadata"</h2>
            <p class="muted">"Save an environment's OData $metadata (Dataverse: /api/data/v9.2/$metadata; finance and operations: /data/$metadata) and merge the tables your maps use into the schema. What $metadata cannot say (option values, required flags, keys set by hand) is kept."</p>
            <label>"Environment "
                <select data-testid="schema-import-side" on:change=move |ev| side.set(if event_target_value(&ev) == "finops" { Side::Finops } else { Side::Dataverse })>
                    <option value="dataverse">"Dataverse"</option>
                    <option value="finops">"finance and operations"</option>
                </select>
            </label>
            <input type="file" accept=".xml,.edmx,application/xml" aria-label="$metadata file" data-testid="schema-import-file" on:change=on_file />
            <label for="schema-import-xml">"or paste it"</label>
            <textarea id="schema-import-xml" rows="6" spellcheck="false" data-testid="schema-import-xml" prop:value=xml
                on:input=move |ev| { answer.set(None); xml.set(event_target_value(&ev)); }></textarea>
            <label>"Tables (comma-separated; empty for all) "
                <input type="text" data-testid="schema-import-tables" prop:value=tables on:input=move |ev| tables.set(event_target_value(&ev)) />
            </label>
            <Show when=move || !xml.with(|x| x.trim().is_empty())>
                <button type="button" data-testid="schema-import-preview" on:click=move |_| send(true)>"Preview"</button>
                {session::may(Permission::Design).then(|| view! {
                    <button type="button" class="primary" data-testid="schema-import-merge" on:click=move |_| send(false)>"Merge into the schema"</button>
                })}
            </Show>
            {live(move || answer.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(import) => view! { <SchemaImportReport import /> }.into_any(),
            }))}
        </section>
    }
}

#[component]
fn SchemaImportReport(import: SchemaImport) -> impl IntoView {
    let done = if import.preview { "would change" } else { "merged" };
    view! {
        <div class="notice ok" data-testid="schema-import-result" data-preview=import.preview.to_string()>
            <p>{format!("{} entity types read; {done}:", import.entity_types)}</p>
            <ul>
                {import.tables.into_iter().map(|t| {
                    let mut said = vec![t.outcome.clone()];
                    if !t.columns_added.is_empty() { said.push(format!("columns added: {}", t.columns_added.join(", "))); }
                    if !t.columns_changed.is_empty() { said.push(format!("{} column types changed", t.columns_changed.len())); }
                    if !t.changed.is_empty() { said.push(format!("changed: {}", t.changed.join(", "))); }
                    view! { <li data-testid="schema-import-table" data-outcome=t.outcome.clone()><strong>{t.table}</strong>" — "{said.join("; ")}</li> }
                }).collect_view()}
            </ul>
            {(!import.notes.is_empty()).then(|| view! {
                <ul class="muted" data-testid="schema-import-notes">{import.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}
