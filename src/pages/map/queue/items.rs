//! One page of the changes queued for a map, with the pager.

use dualwrite_core::api::QueueItem;
use leptos::prelude::*;
use serde_json::Value;

/// A row as `key=value, …`, short enough for a table cell.
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

#[component]
pub fn QueueItems(
    items: Vec<QueueItem>,
    /// Whether a page may follow this one.
    more: bool,
    #[prop(into)] first_page: Signal<bool>,
    /// The page to show, as the sequence number after which it starts (0 for the first).
    #[prop(into)]
    on_page: Callback<i64>,
) -> impl IntoView {
    let last = items.last().map(|i| i.seq);
    view! {
        {items.is_empty().then(|| view! { <p class="muted" data-testid="queue-empty">"Nothing is queued."</p> })}
        <div class="grid-scroll">
        <table class="queue-items">
            <thead><tr><th>"#"</th><th>"When"</th><th>"Side"</th><th>"Table"</th><th>"Op"</th><th>"Key"</th><th>"Row"</th></tr></thead>
            <tbody>
                {items.into_iter().map(|q| view! {
                    <tr data-testid="queue-item"><td>{q.seq}</td><td>{q.at}</td><td>{q.side.to_string()}</td><td>{q.table}</td><td>{q.op.to_string()}</td>
                        <td><code>{q.key}</code></td><td class="clip"><code>{q.row.map(|r| compact(&Value::Object(r))).unwrap_or_default()}</code></td></tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
        <div class="pager">
            <button type="button" disabled=move || first_page.get() on:click=move |_| on_page.run(0)>"First"</button>
            <button type="button" disabled=!more on:click=move |_| if let Some(l) = last { on_page.run(l) }>"Next →"</button>
        </div>
    }
}
