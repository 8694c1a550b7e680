//! The changes catch-up could not write, to pick and retry.

use std::collections::BTreeSet;

use dualwrite_core::api::CatchUpError;
use leptos::prelude::*;

#[component]
pub fn CatchUpErrors(
    items: Vec<CatchUpError>,
    total: u64,
    /// Whether the reader may retry.
    designer: bool,
    /// The errors picked, by id.
    chosen: RwSignal<BTreeSet<String>>,
    /// Retry these errors, or all of them (`None`).
    #[prop(into)]
    on_retry: Callback<Option<Vec<i64>>>,
) -> impl IntoView {
    let ids: Vec<i64> = items.iter().map(|e| e.id).collect();
    view! {
        {designer.then(|| view! {
            <div class="toolbar">
                <button type="button" disabled=move || chosen.with(BTreeSet::is_empty) on:click=move |_| {
                    let picked: Vec<i64> = ids.iter().filter(|i| chosen.with(|c| c.contains(&i.to_string()))).copied().collect();
                    on_retry.run(Some(picked));
                }>"Retry selected"</button>
                <button type="button" on:click=move |_| on_retry.run(None)>{format!("Retry all ({total})")}</button>
            </div>
        })}
        <div class="grid-scroll">
        <table class="errors" data-testid="catch-up-errors">
            <thead><tr><th></th><th>"When"</th><th>"Table"</th><th>"Op"</th><th>"Key"</th><th>"Code"</th><th>"Message"</th></tr></thead>
            <tbody>
                {items.into_iter().map(|e| {
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
    }
}
