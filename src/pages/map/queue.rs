//! The queue tab: pause and resume, the queued changes (filter by key), catch-up progress, and the
//! catch-up errors with retry.

mod controls;
mod errors;
mod items;

use std::collections::BTreeSet;
use std::time::Duration;

use dualwrite_core::access::Permission;
use dualwrite_core::lifecycle::{Action, MapStatus, ResumeMode};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::api;
use crate::components::live;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::components::progress::ProgressBar;
use crate::fetched::Fetched;
use crate::route::{MapTab, Route};
use crate::session;

const PAGE: u32 = 50;

#[component]
pub fn QueueTab(
    id: String,
    #[prop(into)] status: Signal<MapStatus>,
    on_change: Callback<()>,
) -> impl IntoView {
    let id = StoredValue::new(id);
    let query = use_location().query;
    let navigate = use_navigate();
    let key = Memo::new(move |_| query.with(|q| q.get("key").unwrap_or_default()));
    let after =
        Memo::new(move |_| query.with(|q| q.get("after").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0)));
    let queue = Fetched::new(move || {
        let (key, after) = (key.get(), after.get());
        async move { api::queue(&id.get_value(), &key, after, PAGE).await }
    });
    let errors = Fetched::new(move || async move { api::catch_up_errors(&id.get_value()).await });
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);
    let chosen: RwSignal<BTreeSet<String>> = RwSignal::new(BTreeSet::new());
    let mode = RwSignal::new(ResumeMode::CatchUp);
    // The queue's length when the resume started: the catch-up's total.
    let catch_up_total: RwSignal<Option<u64>> = RwSignal::new(None);
    let remaining = Memo::new(move |_| queue.get().and_then(Result::ok).map(|q| q.total));

    crate::poll::every(Duration::from_millis(1000), move || {
        let s = status.get_untracked();
        let catching_up = catch_up_total.get_untracked().is_some() && remaining.get_untracked() != Some(0);
        if matches!(s, MapStatus::Paused | MapStatus::Resuming) || catching_up {
            queue.refetch();
            on_change.run(());
        }
    });

    // Pausing, resuming and retrying change the map's lifecycle: only roles that design may.
    let designer = session::may(Permission::Design);
    let refresh = move || {
        queue.refetch();
        errors.refetch();
        on_change.run(());
    };
    let act = move |action: Option<Action>| {
        if matches!(action, Some(Action::Resume { .. })) {
            catch_up_total.set(Some(remaining.get_untracked().unwrap_or(0)));
        }
        spawn_local(async move {
            let id = id.get_value();
            outcome.set(Some(match action {
                Some(action) => Outcome::of_action(api::act(&id, action).await, action),
                None => Outcome::of(api::pause(&id, true).await, |_| "pause related: done".into()),
            }));
            refresh();
        });
    };
    let retry = move |ids: Option<Vec<i64>>| {
        spawn_local(async move {
            let result = api::retry_catch_up_errors(&id.get_value(), ids).await;
            outcome.set(Some(Outcome::of(result, |_| "Retry started.".into())));
            chosen.set(BTreeSet::new());
            errors.refetch();
        });
    };
    let go = move |key: String, after: i64| {
        let path = Route::Map { id: id.get_value(), tab: MapTab::Queue }.with_query(&[
            ("key", key),
            ("after", if after > 0 { after.to_string() } else { String::new() }),
        ]);
        navigate(&path, NavigateOptions { replace: true, scroll: false, ..Default::default() });
    };
    let on_page = Callback::new({
        let go = go.clone();
        move |after: i64| go(key.get_untracked(), after)
    });

    view! {
        <div class="queue" data-testid="queue">
            <controls::QueueControls status=status designer=designer mode=mode
                on_act=move |a| act(Some(a)) on_pause_related=move |()| act(None) on_refresh=move |()| refresh() />
            <OutcomeNotice outcome=outcome />
            {live(move || catch_up_total.get().map(|total| view! {
                <div class="catch-up">
                    <h3>"Catch-up"</h3>
                    <ProgressBar
                        done=Signal::derive(move || match remaining.get() {
                            Some(0) => total.max(1),
                            Some(left) => total.saturating_sub(left),
                            None => 0,
                        })
                        total=Signal::stored(total.max(1))
                        label="catch-up" />
                </div>
            }))}
            <h3>"Queued changes " <span class="count" data-testid="queue-total">{live(move || remaining.get().map(|n| n.to_string()).unwrap_or_default())}</span></h3>
            <input type="search" placeholder="Filter by integration key" aria-label="filter by key" prop:value=key
                on:change=move |ev| go(event_target_value(&ev), 0) />
            {live(move || queue.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(page) => {
                    let more = page.items.len() as u32 >= PAGE;
                    view! { <items::QueueItems items=page.items more=more first_page=Signal::derive(move || after.get() == 0) on_page=on_page /> }.into_any()
                }
            }))}
            <h3>"Catch-up errors"</h3>
            {live(move || errors.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(page) if page.items.is_empty() => view! { <p class="muted">"No catch-up errors."</p> }.into_any(),
                Ok(page) => view! {
                    <errors::CatchUpErrors items=page.items total=page.total designer=designer chosen=chosen
                        on_retry=move |ids| retry(ids) />
                }.into_any(),
            }))}
        </div>
    }
}
