use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, ApiError};
use crate::components::notice::ErrorNotice;

/// The preflight tab: what an initial sync would do, against the real rows, without writing.
#[component]
pub fn PreflightTab(id: String) -> impl IntoView {
    let id = StoredValue::new(id);
    let result: RwSignal<Option<Result<Value, ApiError>>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let start = move |_| {
        busy.set(true);
        spawn_local(async move {
            result.set(Some(api::preflight(&id.get_value()).await));
            busy.set(false);
        });
    };
    view! {
        <div class="preflight" data-testid="preflight">
            <p class="muted">"Checks the real rows before an initial sync: null or duplicate keys, unmatched lookups, conflicts. Nothing is written."</p>
            <button type="button" class="primary" disabled=move || busy.get() on:click=start>
                {move || if busy.get() { "Checking…" } else { "Run preflight" }}
            </button>
            {move || result.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(v) => {
                    let bars = counts(&v, "");
                    let max = bars.iter().map(|(_, n)| *n).fold(1.0_f64, f64::max);
                    view! {
                        <div class="chart" role="img" aria-label="preflight counts">
                            {bars.into_iter().map(|(label, n)| view! {
                                <div class="bar-row">
                                    <span class="bar-label">{label}</span>
                                    <span class="bar" style:width=format!("{:.1}%", n * 100.0 / max)></span>
                                    <span class="bar-value">{n}</span>
                                </div>
                            }).collect_view()}
                        </div>
                        <details><summary>"The whole answer"</summary><pre>{serde_json::to_string_pretty(&v).unwrap_or_default()}</pre></details>
                    }.into_any()
                }
            })}
        </div>
    }
}

/// Every number in the answer, with its path, for the chart.
fn counts(v: &Value, prefix: &str) -> Vec<(String, f64)> {
    match v {
        Value::Number(n) => vec![(prefix.to_owned(), n.as_f64().unwrap_or_default())],
        Value::Object(o) => o
            .iter()
            .flat_map(|(k, v)| {
                counts(v, &if prefix.is_empty() { k.clone() } else { format!("{prefix} · {k}") })
            })
            .collect(),
        _ => Vec::new(),
    }
}
