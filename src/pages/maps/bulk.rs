//! The actions on the selected maps: run, pause (with related maps or not), resume (in a mode) and
//! stop, each allowed when core's lifecycle allows it from every selected map's status.

use dualwrite_core::lifecycle::{Action, MapStatus, ResumeMode};
use leptos::prelude::*;

use crate::components::live;
use crate::components::resume_mode::ResumeModeSelect;
use crate::components::status::allows;

#[component]
pub fn BulkActions(
    /// The statuses of the selected maps.
    #[prop(into)]
    statuses: Signal<Vec<MapStatus>>,
    /// How many maps are selected.
    #[prop(into)]
    count: Signal<usize>,
    /// Whether an action is under way (every button waits for it).
    #[prop(into)]
    busy: Signal<bool>,
    include_related: RwSignal<bool>,
    resume_mode: RwSignal<ResumeMode>,
    #[prop(into)] on_act: Callback<Action>,
) -> impl IntoView {
    let allowed = move |action: Action| {
        statuses.with(|s| !busy.get() && !s.is_empty() && s.iter().all(|s| allows(*s, action)))
    };
    let button = move |testid: &'static str, label: &'static str, action: fn(ResumeMode) -> Action| {
        view! {
            <button type="button" data-testid=testid disabled=move || !allowed(action(ResumeMode::CatchUp))
                on:click=move |_| on_act.run(action(resume_mode.get_untracked()))>{label}</button>
        }
    };
    view! {
        <span class="muted">{live(move || format!("{} selected", count.get()))}</span>
        {button("bulk-run", "Run…", |_| Action::Run { initial_sync: true })}
        {button("bulk-pause", "Pause", |_| Action::Pause)}
        <label class="check"><input type="checkbox" prop:checked=include_related
            on:change=move |ev| include_related.set(event_target_checked(&ev)) />"with related"</label>
        <ResumeModeSelect mode=resume_mode />
        {button("bulk-resume", "Resume", |mode| Action::Resume { mode })}
        {button("bulk-stop", "Stop", |_| Action::Stop)}
    }
}
