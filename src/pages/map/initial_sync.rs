use std::time::Duration;

use dualwrite_core::access::Permission;
use dualwrite_core::lifecycle::MapStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use dualwrite_core::api::{Counts, InitialSyncState};

use crate::api;
use crate::components::live;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::components::progress::ProgressBar;
use crate::fetched::Fetched;
use crate::route::{MapTab, Route};
use crate::session;

const PAGE: u32 = 25;

/// The initial-sync tab: progress, counts per side and company, and every failed row (paged, searchable).
#[component]
pub fn InitialSyncTab(id: String, #[prop(into)] status: Signal<MapStatus>) -> impl IntoView {
    let id = StoredValue::new(id);
    let query = use_location().query;
    let navigate = use_navigate();
    let search = Memo::new(move |_| query.with(|q| q.get("search").unwrap_or_default()));
    let page = Memo::new(move |_| {
        query.with(|q| q.get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1).max(1))
    });
    let sync = Fetched::new(move || {
        let (search, page) = (search.get(), page.get());
        async move { api::initial_sync(&id.get_value(), u64::from((page - 1) * PAGE), PAGE, &search).await }
    });
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);
    let running = Memo::new(move |_| {
        status.get() == MapStatus::Initializing
            || sync.get().and_then(Result::ok).is_some_and(|s| s.status() == "running")
    });
    crate::poll::every(Duration::from_millis(1000), move || {
        if running.get_untracked() {
            sync.refetch();
        }
    });
    let go = move |search: String, page: u32| {
        let path = Route::Map { id: id.get_value(), tab: MapTab::InitialSync }.with_query(&[
            ("search", search),
            ("page", if page > 1 { page.to_string() } else { String::new() }),
        ]);
        navigate(&path, NavigateOptions { replace: true, scroll: false, ..Default::default() });
    };
    let go2 = go.clone();
    let act = move |rerun: Option<bool>| {
        spawn_local(async move {
            let result = match rerun {
                Some(retry) => api::rerun_initial_sync(&id.get_value(), retry).await.map(drop),
                None => api::skip_initial_sync(&id.get_value()).await.map(drop),
            };
            outcome.set(Some(Outcome::of(result, |_| {
                match rerun {
                    Some(true) => "Rerun started, failed rows included.",
                    Some(false) => "Rerun started, without the failed rows.",
                    None => "Initial sync skipped: the map goes live.",
                }
                .into()
            })));
            sync.refetch();
        });
    };
    let counts_row = |label: String, c: Counts| {
        view! {
            <tr>
                <th scope="row">{label}</th>
                <td class="num">{c.finops.created}</td><td class="num">{c.finops.updated}</td><td class="num">{c.finops.failed}</td>
                <td class="num">{c.dataverse.created}</td><td class="num">{c.dataverse.updated}</td><td class="num">{c.dataverse.failed}</td>
            </tr>
        }
    };
    view! {
        <div class="initial-sync" data-testid="initial-sync">
            <div class="toolbar">
                <Show when=move || session::may(Permission::Design)>
                    <button type="button" on:click=move |_| act(Some(true)) data-testid="rerun">"Rerun (retry failed rows)"</button>
                    <button type="button" on:click=move |_| act(Some(false))>"Rerun without errors"</button>
                    <button type="button" on:click=move |_| act(None)>"Skip to live sync"</button>
                </Show>
                <button type="button" on:click=move |_| sync.refetch()>"Refresh"</button>
            </div>
            <OutcomeNotice outcome=outcome />
            {live(move || sync.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(InitialSyncState::None(_)) => view! {
                    <p class="muted" data-testid="initial-sync-none">"No initial sync has run for this map. Run it with initial sync on to copy the rows that exist on either side."</p>
                }.into_any(),
                Ok(InitialSyncState::Latest(s)) => {
                    let total_errors = s.errors.total;
                    let pages = total_errors.div_ceil(u64::from(PAGE)).max(1) as u32;
                    let go_prev = go2.clone();
                    let go_next = go2.clone();
                    let go_search = go2.clone();
                    view! {
                        <p>
                            "Status: " <strong data-testid="initial-sync-status">{s.state.status.clone()}</strong>
                            {format!(" · master for conflicts: {}", s.state.master)}
                        </p>
                        <ProgressBar done=Signal::stored(s.progress.done) total=Signal::stored(s.progress.total) label="initial sync" />
                        <div class="grid-scroll">
                        <table class="counts">
                            <thead>
                                <tr><th></th><th colspan="3">"Finance and operations"</th><th colspan="3">"Dataverse"</th></tr>
                                <tr><th></th><th class="num">"created"</th><th class="num">"updated"</th><th class="num">"failed"</th><th class="num">"created"</th><th class="num">"updated"</th><th class="num">"failed"</th></tr>
                            </thead>
                            <tbody>
                                {counts_row("All companies".into(), s.state.counts)}
                                {s.state.by_company.iter().map(|(company, c)| counts_row(company.clone(), *c)).collect_view()}
                            </tbody>
                        </table>
                        </div>
                        <h3>"Failed rows " <span class="count" data-testid="initial-sync-error-total">{total_errors}</span></h3>
                        <input type="search" placeholder="Search by key, company, code or message" aria-label="search failed rows"
                            prop:value=search on:change=move |ev| go_search(event_target_value(&ev), 1) />
                        <div class="grid-scroll">
                        <table class="errors" data-testid="initial-sync-errors">
                            <thead><tr><th>"Side"</th><th>"Key"</th><th>"Company"</th><th>"Code"</th><th>"Message"</th></tr></thead>
                            <tbody>
                                {s.errors.items.into_iter().map(|e| view! {
                                    <tr data-testid="initial-sync-error"><td>{e.side.to_string()}</td><td><code>{e.key}</code></td><td>{e.company.unwrap_or_default()}</td><td><code>{e.code}</code></td><td>{e.message}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                        <div class="pager">
                            <button type="button" disabled=move || { page.get() <= 1 } on:click=move |_| go_prev(search.get_untracked(), page.get_untracked() - 1)>"← Previous"</button>
                            <span>{live(move || format!("page {} of {pages}", page.get()))}</span>
                            <button type="button" disabled=move || { page.get() >= pages } on:click=move |_| go_next(search.get_untracked(), page.get_untracked() + 1)>"Next →"</button>
                        </div>
                    }.into_any()
                }
            }))}
        </div>
    }
}
