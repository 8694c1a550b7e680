use std::collections::BTreeSet;

use dualwrite_core::access::Permission;
use dualwrite_core::lifecycle::{MapStatus, ResumeMode};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::{self, ApiError};
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::components::resume_mode::ResumeModeSelect;
use crate::components::status::StatusBadge;
use crate::pages::run::RunFlow;
use crate::route::{MapTab, Route};
use crate::session;

/// The table maps: status, version, queued changes; run, pause, resume and stop one or many.
#[component]
pub fn MapsPage() -> impl IntoView {
    let maps = LocalResource::new(api::maps);
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(|q| q.get("search").unwrap_or_default()));
    let selected: RwSignal<BTreeSet<String>> = RwSignal::new(BTreeSet::new());
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);
    let include_related = RwSignal::new(false);
    let resume_mode = RwSignal::new(ResumeMode::CatchUp);
    let busy = RwSignal::new(false);
    let run = RunFlow::new();
    let navigate = use_navigate();
    // Selecting maps is for acting on them: running, pausing, resuming, stopping are for designers.
    let designer = Memo::new(move |_| session::may(Permission::Design));

    // While a map moves on by itself (initial sync, catch-up) or queues changes, keep the list current.
    crate::poll::every(std::time::Duration::from_secs(2), move || {
        let moving = maps.get_untracked().and_then(Result::ok).is_some_and(|items| {
            items.iter().any(|m| {
                matches!(m.resource.status, MapStatus::Initializing | MapStatus::Paused | MapStatus::Resuming)
            })
        });
        if moving {
            maps.refetch();
        }
    });

    let finished = Callback::new(move |result: Result<String, ApiError>| {
        outcome.set(Some(Outcome::of(result, |text| text)));
        maps.refetch();
    });

    // A bulk action: the same call for every selected map, in list order; stops at the first failure.
    let bulk = move |action: &'static str| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        if action == "run" {
            run.start(ids);
            return;
        }
        let mode = resume_mode.get_untracked();
        let related = include_related.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let mut result =
                Ok(format!("{action}: {} map{}", ids.len(), if ids.len() == 1 { "" } else { "s" }));
            for id in &ids {
                let r = match action {
                    "pause" => api::pause(id, related).await.map(drop),
                    "resume" => api::resume(id, mode).await.map(drop),
                    _ => api::stop(id).await.map(drop),
                };
                if let Err(e) = r {
                    result = Err(e);
                    break;
                }
            }
            busy.set(false);
            finished.run(result);
        });
    };

    let set_search = move |text: String| {
        navigate(
            &Route::Maps.with_query(&[("search", text)]),
            NavigateOptions { replace: true, ..Default::default() },
        );
    };

    let list = move || {
        maps.get().map(|result| match result {
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            Ok(items) => {
                let needle = search.get().to_lowercase();
                let items: Vec<_> = items
                    .into_iter()
                    .filter(|m| {
                        needle.is_empty()
                            || [&m.resource.map.name, &m.resource.map.finops, &m.resource.map.dataverse]
                                .iter()
                                .any(|t| t.to_lowercase().contains(&needle))
                    })
                    .collect();
                if items.is_empty() {
                    return view! { <p class="muted">"No table maps match. Import a package or create a map."</p> }.into_any();
                }
                let all_ids: Vec<String> = items.iter().map(|m| m.resource.id.clone()).collect();
                let all_ids2 = all_ids.clone();
                let designer = designer.get();
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
                .into_any()
            }
        })
    };

    // Which bulk actions the selection allows: each needs every selected map in a status that allows it.
    let allowed = move |ok: fn(MapStatus) -> bool| {
        let statuses: Vec<MapStatus> = maps
            .get()
            .and_then(Result::ok)
            .map(|items| {
                selected.with(|s| {
                    items.iter().filter(|m| s.contains(&m.resource.id)).map(|m| m.resource.status).collect()
                })
            })
            .unwrap_or_default();
        !busy.get() && !statuses.is_empty() && statuses.into_iter().all(ok)
    };

    view! {
        <section class="page">
            <div class="page-head">
                <h1 data-testid="maps-title">"Table maps"</h1>
                <div class="row">
                    <Show when=move || designer.get()>
                        <a class="button" data-testid="new-map" href=Route::Map { id: "new".into(), tab: MapTab::Mapping }.path()>"+ New map"</a>
                    </Show>
                    <a class="button" href=Route::Import.path()>"Import / export"</a>
                    <button type="button" on:click=move |_| maps.refetch()>"Refresh"</button>
                </div>
            </div>
            <div class="toolbar" role="toolbar" aria-label="actions on the selected maps">
                <input type="search" placeholder="Search maps" aria-label="search maps" prop:value=search
                    on:change=move |ev| set_search(event_target_value(&ev)) />
                <Show when=move || designer.get()>
                    <span class="muted">{move || format!("{} selected", selected.with(BTreeSet::len))}</span>
                    <button type="button" data-testid="bulk-run" disabled=move || !allowed(|s| s == MapStatus::NotRunning)
                        on:click=move |_| bulk("run")>"Run…"</button>
                    <button type="button" data-testid="bulk-pause" disabled=move || !allowed(|s| s == MapStatus::Running)
                        on:click=move |_| bulk("pause")>"Pause"</button>
                    <label class="check"><input type="checkbox" prop:checked=include_related
                        on:change=move |ev| include_related.set(event_target_checked(&ev)) />"with related"</label>
                    <ResumeModeSelect mode=resume_mode />
                    <button type="button" data-testid="bulk-resume" disabled=move || !allowed(|s| s == MapStatus::Paused)
                        on:click=move |_| bulk("resume")>"Resume"</button>
                    <button type="button" data-testid="bulk-stop"
                        disabled=move || !allowed(|s| matches!(s, MapStatus::Running | MapStatus::Paused))
                        on:click=move |_| bulk("stop")>"Stop"</button>
                </Show>
            </div>
            <OutcomeNotice outcome=outcome />
            {move || maps.get().is_none().then(|| view! { <p class="muted">"Loading the maps…"</p> })}
            {list}
            {run.view(finished)}
        </section>
    }
}
