//! The queue tab's lifecycle buttons: pause, resume (with its mode) or skip to live, as core's
//! lifecycle allows from the map's status, and a refresh.

use dualwrite_core::lifecycle::{Action, MapStatus, ResumeMode};
use leptos::prelude::*;

use crate::components::resume_mode::ResumeModeSelect;
use crate::components::status::allows;

#[component]
pub fn QueueControls(
    #[prop(into)] status: Signal<MapStatus>,
    /// Whether the reader may change the map's lifecycle.
    designer: bool,
    /// How a resume replays the queue.
    mode: RwSignal<ResumeMode>,
    #[prop(into)] on_act: Callback<Action>,
    /// Pause this map and the maps related to it.
    #[prop(into)]
    on_pause_related: Callback<()>,
    #[prop(into)] on_refresh: Callback<()>,
) -> impl IntoView {
    let offers = move |action: Action| designer && allows(status.get(), action);
    let resume = move || Action::Resume { mode: mode.get_untracked() };
    view! {
        <div class="toolbar">
            <Show when=move || offers(Action::Pause)>
                <button type="button" data-testid="queue-pause" on:click=move |_| on_act.run(Action::Pause)>"Pause"</button>
                <button type="button" on:click=move |_| on_pause_related.run(())>"Pause with related maps"</button>
            </Show>
            <Show when=move || offers(Action::Resume { mode: ResumeMode::CatchUp })>
                <ResumeModeSelect mode=mode />
                <button type="button" class="primary" data-testid="queue-resume" on:click=move |_| on_act.run(resume())>"Resume"</button>
            </Show>
            <Show when=move || offers(Action::SkipToLive)>
                <button type="button" on:click=move |_| on_act.run(Action::SkipToLive)>"Skip to live (keep the rest as errors)"</button>
            </Show>
            <button type="button" data-testid="queue-refresh" on:click=move |_| on_refresh.run(())>"Refresh"</button>
        </div>
    }
}
