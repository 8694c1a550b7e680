//! The editor's toolbar: save, discard and share the draft, and the lifecycle actions the map's status
//! allows, as core's lifecycle says.

use dualwrite_core::lifecycle::{Action, MapStatus, ResumeMode};
use leptos::prelude::*;

use crate::components::live;
use crate::components::share::ShareLink;
use crate::components::status::allows;
use crate::session;

/// The lifecycle buttons a map's page offers, in the order it shows them: each appears when core's
/// `transition` allows its action from the map's status.
const LIFECYCLE: [(Action, &str, &str); 4] = [
    (Action::Pause, "pause", "Pause"),
    (Action::Resume { mode: ResumeMode::CatchUp }, "resume", "Resume"),
    (Action::SkipToLive, "skip-to-live", "Skip to live"),
    (Action::Stop, "stop", "Stop"),
];

#[component]
pub fn MapToolbar(
    is_new: bool,
    #[prop(into)] status: Signal<MapStatus>,
    #[prop(into)] designer: Signal<bool>,
    #[prop(into)] editable: Signal<bool>,
    #[prop(into)] dirty: Signal<bool>,
    #[prop(into)] error_count: Signal<usize>,
    #[prop(into)] share_url: Signal<String>,
    #[prop(into)] on_save: Callback<()>,
    #[prop(into)] on_discard: Callback<()>,
    #[prop(into)] on_run: Callback<()>,
    #[prop(into)] on_delete: Callback<()>,
    #[prop(into)] on_act: Callback<Action>,
) -> impl IntoView {
    let lifecycle = move || {
        designer.get().then(|| {
            let s = status.get();
            // Running or deleting needs a map the server knows.
            let saved = !is_new;
            view! {
                {(saved && allows(s, Action::Run { initial_sync: true })).then(|| view! {
                    <button type="button" data-testid="run" disabled=move || dirty.get()
                        title="Save the draft before running"
                        on:click=move |_| on_run.run(())>"Run…"</button>
                })}
                {(saved && allows(s, Action::Delete)).then(|| view! {
                    <button type="button" class="danger" data-testid="delete" on:click=move |_| on_delete.run(())>"Delete"</button>
                })}
                {LIFECYCLE
                    .into_iter()
                    .filter(|(action, ..)| allows(s, *action))
                    .map(|(action, testid, label)| view! {
                        <button type="button" data-testid=testid on:click=move |_| on_act.run(action)>{label}</button>
                    })
                    .collect_view()}
            }
        })
    };
    view! {
        <div class="toolbar" role="toolbar" aria-label="map actions">
            <Show when=move || designer.get()>
                <button type="button" class="primary" data-testid="save" title="Save (Ctrl+S)" disabled=move || !dirty.get() || !editable.get() on:click=move |_| on_save.run(())>
                    {live(move || if error_count.get() > 0 { "Save as draft" } else { "Save" })}
                </button>
            </Show>
            <button type="button" data-testid="discard" disabled=move || !dirty.get() on:click=move |_| on_discard.run(())>"Discard"</button>
            <ShareLink url=share_url />
            <span class="spacer"></span>
            {lifecycle}
        </div>
    }
}

/// Why the map cannot be changed here: the reader's role, or the map's status.
#[component]
pub fn ReadOnlyNotice(
    #[prop(into)] status: Signal<MapStatus>,
    #[prop(into)] designer: Signal<bool>,
    #[prop(into)] editable: Signal<bool>,
) -> impl IntoView {
    live(move || match (designer.get(), editable.get()) {
        (_, true) => None,
        (false, _) => Some(
            view! {
                <p class="notice" data-testid="not-editable" data-reason="role">"You are signed in as "
                    {session::current().map(|s| s.role.as_str())}
                    ": you can read this map and share links to it, not change or run it."</p>
            }
            .into_any(),
        ),
        (true, false) => Some(
            view! {
                <p class="notice" data-testid="not-editable" data-reason="status">"This map is "
                    {status.get().as_str().replace('_', " ")} ": stop it to edit its definition."</p>
            }
            .into_any(),
        ),
    })
}
