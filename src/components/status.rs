use crate::components::live;
use dualwrite_core::lifecycle::{transition, Action, MapStatus};
use leptos::prelude::*;

/// A map's status, as words.
pub fn label(status: MapStatus) -> &'static str {
    match status {
        MapStatus::NotRunning => "Not running",
        MapStatus::Initializing => "Initializing",
        MapStatus::Running => "Running",
        MapStatus::Paused => "Paused",
        MapStatus::Resuming => "Resuming",
    }
}

/// Whether a map in `status` offers `action`: core's lifecycle decides, so a button shows exactly
/// when the server would take it.
pub fn allows(status: MapStatus, action: Action) -> bool {
    transition(status, action).is_ok()
}

/// A map's status as a coloured badge.
#[component]
pub fn StatusBadge(#[prop(into)] status: Signal<MapStatus>) -> impl IntoView {
    view! {
        <span class=move || format!("badge status-{}", status.get().as_str()) data-testid="map-status"
            data-status=move || status.get().as_str()>
            {live(move || label(status.get()))}
        </span>
    }
}
