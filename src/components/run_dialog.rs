use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Side;
use leptos::prelude::*;

use super::notice::ErrorNotice;
use super::status::StatusBadge;
use crate::api::ApiError;
use crate::components::live;

/// One map in the Run dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: String,
    pub name: String,
    pub status: MapStatus,
    /// Ticked to run; a map already running is left as it is.
    pub include: bool,
    pub initial_sync: bool,
    pub master: Side,
}

/// The Run dialog: the chosen maps and the maps they depend on, upstream first, reorderable, each with
/// initial sync and the master for conflicts.
#[component]
pub fn RunDialog(
    rows: RwSignal<Vec<RunRow>>,
    #[prop(into)] loading: Signal<bool>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] notes: Signal<Vec<String>>,
    /// Why the last attempt to run failed, shown in the dialog (the page behind it is covered).
    #[prop(into)]
    error: Signal<Option<ApiError>>,
    #[prop(into)] on_run: Callback<()>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let count = Memo::new(move |_| rows.with(Vec::len));
    let update = move |i: usize, f: fn(&mut RunRow, bool), v: bool| {
        rows.update(|r| {
            if let Some(row) = r.get_mut(i) {
                f(row, v)
            }
        })
    };
    let shift = move |i: usize, by: isize| {
        rows.update(|r| {
            if let Some(j) = i.checked_add_signed(by).filter(|j| *j < r.len()) {
                r.swap(i, j);
            }
        })
    };
    let row = move |i: usize| {
        let get = move || rows.with(|r| r.get(i).cloned());
        let status = Signal::derive(move || get().map_or(MapStatus::NotRunning, |r| r.status));
        view! {
            <tr data-testid="run-row" data-map-id=move || get().map(|r| r.id).unwrap_or_default()>
                <td class="num">{i + 1}</td>
                <td>
                    <label class="check">
                        <input type="checkbox" data-testid="run-include" prop:checked=move || get().is_some_and(|r| r.include)
                            on:change=move |ev| update(i, |r, v| r.include = v, event_target_checked(&ev)) />
                        {live(move || get().map(|r| r.name).unwrap_or_default())}
                    </label>
                </td>
                <td><StatusBadge status=status /></td>
                <td>
                    <input type="checkbox" data-testid="run-initial-sync" aria-label="initial sync"
                        prop:checked=move || get().is_some_and(|r| r.initial_sync)
                        disabled=move || !get().is_some_and(|r| r.include)
                        on:change=move |ev| update(i, |r, v| r.initial_sync = v, event_target_checked(&ev)) />
                </td>
                <td>
                    <select aria-label="master for initial sync" data-testid="run-master"
                        disabled=move || !get().is_some_and(|r| r.include && r.initial_sync)
                        prop:value=move || get().map_or("dataverse", |r| r.master.as_str())
                        on:change=move |ev| update(i, |r, v| r.master = if v { Side::Finops } else { Side::Dataverse }, event_target_value(&ev) == "finops")>
                        <option value="dataverse">"Dataverse wins"</option>
                        <option value="finops">"finops wins"</option>
                    </select>
                </td>
                <td class="actions">
                    <button type="button" aria-label="run earlier" title="run earlier" disabled=move || i == 0
                        on:click=move |_| shift(i, -1)>"↑"</button>
                    <button type="button" aria-label="run later" title="run later" disabled=move || { i + 1 >= count.get() }
                        on:click=move |_| shift(i, 1)>"↓"</button>
                </td>
            </tr>
        }
    };
    // Keyboard users land in the dialog, not behind it.
    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            let _ = el.focus();
        }
    });
    view! {
        <div class="dialog-backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="run-title" data-testid="run-dialog"
                tabindex="-1" node_ref=dialog
                on:keydown=move |ev| if ev.key() == "Escape" { on_cancel.run(()) }>
                <h2 id="run-title">"Run table maps"</h2>
                <p class="muted">"Related maps run first, upstream first. Untick a map to leave it as it is; the
                    master only decides conflicts during initial sync, not the direction data moves."</p>
                {live(move || loading.get().then(|| view! { <p class="muted">"Finding related maps…"</p> }))}
                <div class="grid-scroll">
                    <table class="run-table">
                        <thead><tr><th>"#"</th><th>"Map"</th><th>"Status"</th><th>"Initial sync"</th><th>"Master"</th><th>"Order"</th></tr></thead>
                        <tbody>{live(move || (0..count.get()).map(row).collect_view())}</tbody>
                    </table>
                </div>
                <ul class="notes">{live(move || notes.get().into_iter().map(|n| view! { <li class="warn">{n}</li> }).collect_view())}</ul>
                {live(move || error.get().map(|e| view! { <ErrorNotice error=e /> }))}
                <div class="row end">
                    <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                    <button type="button" class="primary" data-testid="run-confirm"
                        disabled=move || busy.get() || loading.get() || rows.with(|r| !r.iter().any(|r| r.include))
                        on:click=move |_| on_run.run(())>
                        {live(move || if busy.get() { "Running…" } else { "Run" })}
                    </button>
                </div>
            </div>
        </div>
    }
}
