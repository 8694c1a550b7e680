use leptos::prelude::*;
use leptos::task::spawn_local;

use dualwrite_core::access::Permission;

use crate::api;
use crate::components::live;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::fetched::Fetched;
use crate::session;

/// The integration keys of the Dataverse tables the maps use: refresh from alternate keys, or set by hand.
#[component]
pub fn IntegrationKeysPage() -> impl IntoView {
    let keys = Fetched::new(api::integration_keys);
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);
    let editing: RwSignal<Option<(String, String)>> = RwSignal::new(None);
    let refresh = move |_| {
        spawn_local(async move {
            outcome.set(Some(Outcome::of(api::refresh_integration_keys().await, |r| {
                if r.problems.is_empty() {
                    format!("Refreshed {} keys; keys set by hand were kept.", r.items.len())
                } else {
                    format!("Refreshed, with problems: {}", r.problems.join("; "))
                }
            })));
            keys.refetch();
        });
    };
    let save = move |_| {
        let Some((table, text)) = editing.get_untracked() else { return };
        let fields: Vec<String> =
            text.split(',').map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).collect();
        spawn_local(async move {
            let result = api::put_integration_key(&table, fields).await;
            if result.is_ok() {
                editing.set(None);
            }
            outcome.set(Some(Outcome::of(result, |_| format!("The key of {table} is now set by hand."))));
            keys.refetch();
        });
    };
    // Keys are part of the design: only the roles that design change them.
    let designer = session::may(Permission::Design);
    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Integration keys"</h1>
                <Show when=move || designer>
                    <button type="button" data-testid="refresh-keys" on:click=refresh>"Refresh from alternate keys"</button>
                </Show>
            </div>
            <p class="muted">"One key per Dataverse table: how a row finds its twin. Refresh generates each key from the table's
                alternate keys (the first, when there are several); a key set by hand survives refresh. Lookups appear expanded
                (msdyn_company.cdm_companycode)."</p>
            <OutcomeNotice outcome=outcome />
            {live(move || keys.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(items) => view! {
                    <div class="grid-scroll">
                    <table class="keys" data-testid="keys-table">
                        <thead><tr><th>"Table"</th><th>"Key fields"</th><th>"Origin"</th><th>"Other alternate keys"</th><th></th></tr></thead>
                        <tbody>
                            {items.into_iter().map(|k| {
                                let table = k.table.clone();
                                let table2 = k.table.clone();
                                let fields_text = k.fields.join(", ");
                                let is_editing = move || editing.with(|e| e.as_ref().is_some_and(|(t, _)| *t == table));
                                let is_editing2 = is_editing.clone();
                                view! {
                                    <tr data-testid="key-row" data-table=k.table.clone()>
                                        <td><code>{k.table.clone()}</code></td>
                                        <td>
                                            <Show when=is_editing fallback=move || view! { <code>{fields_text.clone()}</code> }>
                                                <input type="text" aria-label="key fields, comma-separated" data-testid="key-input"
                                                    prop:value=move || editing.with(|e| e.as_ref().map(|(_, t)| t.clone()).unwrap_or_default())
                                                    on:input=move |ev| editing.update(|e| if let Some((_, t)) = e { *t = event_target_value(&ev); }) />
                                            </Show>
                                        </td>
                                        <td>{format!("{:?}", k.origin).to_lowercase()}</td>
                                        <td>{k.other_alternate_keys.join(", ")}</td>
                                        <td class="actions">
                                            <Show when=move || designer>
                                            <Show when=is_editing2.clone() fallback={
                                                let (t, f) = (table2.clone(), k.fields.join(", "));
                                                move || { let (t, f) = (t.clone(), f.clone()); view! {
                                                    <button type="button" on:click=move |_| editing.set(Some((t.clone(), f.clone())))>"Edit"</button>
                                                } }
                                            }>
                                                <button type="button" class="primary" data-testid="key-save" on:click=save>"Save"</button>
                                                <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                                            </Show>
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any(),
            }))}
        </section>
    }
}
