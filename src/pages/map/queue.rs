use std::collections::BTreeSet;
use std::time::Duration;

use dualwrite_core::access::Permission;
use dualwrite_core::lifecycle::{MapStatus, ResumeMode};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use serde_json::Value;

use crate::api;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::components::progress::ProgressBar;
use crate::components::resume_mode::ResumeModeSelect;
use crate::route::{MapTab, Route};
use crate::session;

const PAGE: u32 = 50;

fn compact(v: &Value) -> String {
    match v {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The queue tab: pause and resume, the queued changes (filter by key), catch-up progress, and the
/// catch-up errors with retry.
#[component]
pub fn QueueTab(
    id: String,
    #[prop(into)] status: Signal<MapStatus>,
    on_change: Callback<()>,
) -> impl IntoView {
    let id = StoredValue::new(id);
    let query = use_query_map();
    let navigate = use_navigate();
    let key = Memo::new(move |_| query.with(|q| q.get("key").unwrap_or_default()));
    let after =
        Memo::new(move |_| query.with(|q| q.get("after").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0)));
    let queue = LocalResource::new(move || {
        let (key, after) = (key.get(), after.get());
        async move { api::queue(&id.get_value(), &key, after, PAGE).await }
    });
    let errors = LocalResource::new(move || async move { api::catch_up_errors(&id.get_value()).await });
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
    let act = move |action: &'static str| {
        if action == "resume" {
            catch_up_total.set(Some(remaining.get_untracked().unwrap_or(0)));
        }
        spawn_local(async move {
            let id = id.get_value();
            let result = match action {
                "pause" => api::pause(&id, false).await.map(drop),
                "pause_related" => api::pause(&id, true).await.map(drop),
                "skip" => api::skip_to_live(&id).await.map(drop),
                _ => api::resume(&id, mode.get_untracked()).await.map(drop),
            };
            outcome.set(Some(Outcome::of(result, |_| format!("{}: done", action.replace('_', " ")))));
            queue.refetch();
            errors.refetch();
            on_change.run(());
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
    let go2 = go.clone();
    let go3 = go.clone();

    view! {
        <div class="queue" data-testid="queue">
            <div class="toolbar">
                <Show when=move || designer && status.get() == MapStatus::Running>
                    <button type="button" data-testid="queue-pause" on:click=move |_| act("pause")>"Pause"</button>
                    <button type="button" on:click=move |_| act("pause_related")>"Pause with related maps"</button>
                </Show>
                <Show when=move || designer && status.get() == MapStatus::Paused>
                    <ResumeModeSelect mode=mode />
                    <button type="button" class="primary" data-testid="queue-resume" on:click=move |_| act("resume")>"Resume"</button>
                </Show>
                <Show when=move || designer && status.get() == MapStatus::Resuming>
                    <button type="button" on:click=move |_| act("skip")>"Skip to live (keep the rest as errors)"</button>
                </Show>
                <button type="button" data-testid="queue-refresh" on:click=move |_| { queue.refetch(); errors.refetch(); on_change.run(()); }>"Refresh"</button>
            </div>
            <OutcomeNotice outcome=outcome />
            {move || catch_up_total.get().map(|total| view! {
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
            })}
            <h3>"Queued changes " <span class="count" data-testid="queue-total">{move || remaining.get().map(|n| n.to_string()).unwrap_or_default()}</span></h3>
            <input type="search" placeholder="Filter by integration key" aria-label="filter by key" prop:value=key
                on:change=move |ev| go(event_target_value(&ev), 0) />
            {move || queue.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(page) => {
                    let last = page.items.last().map(|i| i.seq);
                    let more = page.items.len() as u32 >= PAGE;
                    let go_next = go2.clone();
                    let go_first = go3.clone();
                    view! {
                        {page.items.is_empty().then(|| view! { <p class="muted" data-testid="queue-empty">"Nothing is queued."</p> })}
                        <div class="grid-scroll">
                        <table class="queue-items">
                            <thead><tr><th>"#"</th><th>"When"</th><th>"Side"</th><th>"Table"</th><th>"Op"</th><th>"Key"</th><th>"Row"</th></tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|q| view! {
                                    <tr data-testid="queue-item"><td>{q.seq}</td><td>{q.at}</td><td>{q.side.to_string()}</td><td>{q.table}</td><td>{q.op.to_string()}</td>
                                        <td><code>{q.key}</code></td><td class="clip"><code>{q.row.map(|r| compact(&Value::Object(r))).unwrap_or_default()}</code></td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                        <div class="pager">
                            <button type="button" disabled=move || after.get() == 0 on:click=move |_| go_first(key.get_untracked(), 0)>"First"</button>
                            <button type="button" disabled=!more on:click=move |_| if let Some(l) = last { go_next(key.get_untracked(), l) }>"Next →"</button>
                        </div>
                    }.into_any()
                }
            })}
            <h3>"Catch-up errors"</h3>
            {move || errors.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(page) if page.items.is_empty() => view! { <p class="muted">"No catch-up errors."</p> }.into_any(),
                Ok(page) => {
                    let ids: Vec<i64> = page.items.iter().map(|e| e.id).collect();
                    let total = page.total;
                    view! {
                        {designer.then(|| view! {
                            <div class="toolbar">
                                <button type="button" disabled=move || chosen.with(BTreeSet::is_empty) on:click=move |_| {
                                    let picked: Vec<i64> = ids.iter().filter(|i| chosen.with(|c| c.contains(&i.to_string()))).copied().collect();
                                    retry(Some(picked));
                                }>"Retry selected"</button>
                                <button type="button" on:click=move |_| retry(None)>{format!("Retry all ({total})")}</button>
                            </div>
                        })}
                        <div class="grid-scroll">
                        <table class="errors" data-testid="catch-up-errors">
                            <thead><tr><th></th><th>"When"</th><th>"Table"</th><th>"Op"</th><th>"Key"</th><th>"Code"</th><th>"Message"</th></tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|e| {
                                    let token = e.id.to_string();
                                    let token2 = token.clone();
                                    view! {
                                        <tr>
                                            <td><input type="checkbox" aria-label="select error" prop:checked=move || chosen.with(|c| c.contains(&token))
                                                on:change=move |ev| { let on = event_target_checked(&ev); let t = token2.clone(); chosen.update(|c| { if on { c.insert(t); } else { c.remove(&t); } }); } /></td>
                                            <td>{e.change.at}</td><td>{format!("{} {}", e.change.side, e.change.table)}</td><td>{e.change.op.to_string()}</td>
                                            <td><code>{e.change.key}</code></td><td><code>{e.code}</code></td><td>{e.message}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any()
                }
            })}
        </div>
    }
}
