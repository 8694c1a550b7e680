//! The table maps: status, version, queued changes; run, pause, resume and stop one or many.

mod bulk;
mod table;

use std::collections::BTreeSet;

use dualwrite_core::access::Permission;
use dualwrite_core::lifecycle::{Action, MapStatus, ResumeMode};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::api::{self, ApiError};
use crate::components::live;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::fetched::Fetched;
use crate::pages::run::RunFlow;
use crate::route::{MapTab, Route};
use crate::session;

#[component]
pub fn MapsPage() -> impl IntoView {
    let maps = Fetched::new(api::maps);
    let query = use_location().query;
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
    let bulk = move |action: Action| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        if let Action::Run { .. } = action {
            run.start(ids);
            return;
        }
        let related = include_related.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let (name, n) = (action.name(), ids.len());
            let mut result = Ok(format!("{name}: {n} map{}", if n == 1 { "" } else { "s" }));
            for id in &ids {
                let r = match action {
                    Action::Pause => api::pause(id, related).await.map(drop),
                    other => api::act(id, other).await,
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
                view! { <table::MapsTable items=items designer=designer.get() selected=selected /> }.into_any()
            }
        })
    };

    // The statuses of the selected maps, for which bulk actions they allow.
    let statuses = Signal::derive(move || {
        maps.get()
            .and_then(Result::ok)
            .map(|items| {
                selected.with(|s| {
                    items.iter().filter(|m| s.contains(&m.resource.id)).map(|m| m.resource.status).collect()
                })
            })
            .unwrap_or_default()
    });

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
                    <bulk::BulkActions statuses=statuses count=Signal::derive(move || selected.with(BTreeSet::len))
                        busy=busy include_related=include_related resume_mode=resume_mode on_act=bulk />
                </Show>
            </div>
            <OutcomeNotice outcome=outcome />
            {live(move || maps.get().is_none().then(|| view! { <p class="muted">"Loading the maps…"</p> }))}
            {list}
            {run.view(finished)}
        </section>
    }
}
