//! The list of table maps, with a checkbox per map for the roles that act on them.

use std::collections::BTreeSet;

use dualwrite_core::api::MapListItem;
use leptos::prelude::*;

use crate::components::status::StatusBadge;
use crate::route::{MapTab, Route};

#[component]
pub fn MapsTable(
    items: Vec<MapListItem>,
    /// Whether the reader may act on maps, and so select them.
    designer: bool,
    /// The selected maps, by id.
    selected: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let all_ids: Vec<String> = items.iter().map(|m| m.resource.id.clone()).collect();
    let all_ids2 = all_ids.clone();
    view! {
        <div class="grid-scroll">
        <table class="maps" data-testid="maps-table">
            <thead>
                <tr>
                    {designer.then(|| view! {
                        <th>
                            <input type="checkbox" aria-label="select all maps"
                                prop:checked=move || selected.with(|s| all_ids.iter().all(|id| s.contains(id)))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|s| for id in &all_ids2 { if on { s.insert(id.clone()); } else { s.remove(id); } });
                                } />
                        </th>
                    })}
                    <th>"Name"</th>
                    <th class="tables-col">"Finance and operations ↔ Dataverse"</th>
                    <th>"Version"</th>
                    <th>"Status"</th>
                    <th class="num">"Queued"</th>
                </tr>
            </thead>
            <tbody>
                {items
                    .into_iter()
                    .map(|m| {
                        let id = m.resource.id.clone();
                        let id_check = id.clone();
                        let id_toggle = id.clone();
                        let status = m.resource.status;
                        let href = Route::Map { id: id.clone(), tab: MapTab::Mapping }.path();
                        let queued = m.queued.to_string();
                        view! {
                            <tr data-testid="map-row" data-map-id=id.clone() data-name=m.resource.map.name.clone()>
                                {designer.then(|| view! {
                                    <td>
                                        <input type="checkbox" data-testid="map-select"
                                            aria-label=format!("select {}", m.resource.map.name)
                                            prop:checked=move || selected.with(|s| s.contains(&id_check))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected.update(|s| { if on { s.insert(id_toggle.clone()); } else { s.remove(&id_toggle); } });
                                            } />
                                    </td>
                                })}
                                <td><a href=href data-testid="map-link">{m.resource.map.name.clone()}</a></td>
                                <td class="muted tables-col">{format!("{} ↔ {}", m.resource.map.finops, m.resource.map.dataverse)}</td>
                                <td>{m.resource.map.version.clone()}</td>
                                <td><StatusBadge status=Signal::stored(status) /></td>
                                <td class="num" data-testid="map-queued">{queued}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        </div>
    }
}
