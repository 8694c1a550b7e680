//! Exporting maps as a file: a dualwrite package or dual-write's `msdyn_mapping` legs.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::live;
use crate::components::notice::ErrorNotice;
use crate::fetched::Fetched;

#[component]
pub fn PackageExport(
    /// Notified when maps were imported, so the list of maps to choose from is read again.
    refresh: Trigger,
) -> impl IntoView {
    let maps = Fetched::new(move || {
        refresh.track();
        api::maps()
    });
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
        <section class="panel">
            <h2>"Export maps"</h2>
            {live(move || maps.get().map(|r| match r {
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
            }))}
            <p class="muted">"None ticked exports every map."</p>
            <label>"Format "
                <select prop:value=format on:change=move |ev| format.set(event_target_value(&ev))>
                    <option value="native">"dualwrite package"</option>
                    <option value="msdyn_mapping">"msdyn_mapping (dual-write legs)"</option>
                </select>
            </label>
            <button type="button" class="primary" data-testid="export-button" on:click=export>"Download"</button>
            {live(move || exported.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(json) => view! { <textarea readonly rows="10" data-testid="export-text" aria-label="exported package" prop:value=json></textarea> }.into_any(),
            }))}
        </section>
    }
}
