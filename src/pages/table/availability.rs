//! The switch that marks an environment available or not.

use dualwrite_core::access::Permission;
use dualwrite_core::schema::Side;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::live;
use crate::components::notice::ErrorNotice;
use crate::fetched::Fetched;
use crate::session;

/// Whether the environment takes writes; marking it unavailable simulates maintenance (writes that would
/// touch it fail, or queue for paused maps).
#[component]
pub fn AvailabilitySwitch(side: Side) -> impl IntoView {
    let state = Fetched::new(move || api::availability(side));
    let error: RwSignal<Option<ApiError>> = RwSignal::new(None);
    let toggle = move |_| {
        let Some(Ok(now)) = state.get_untracked() else { return };
        spawn_local(async move {
            match api::set_availability(side, !now.available).await {
                Ok(_) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
            state.refetch();
        });
    };
    view! {
        {live(move || state.get().and_then(Result::ok).map(|a| if session::may(Permission::Design) {
            view! {
                <button type="button" class:warn=!a.available on:click=toggle
                    title="An unavailable environment refuses the writes that would touch it">
                    {if a.available { "Available · mark unavailable" } else { "Unavailable · mark available" }}
                </button>
            }.into_any()
        } else {
            view! { <span class="badge" class:status-paused=!a.available data-testid="availability">
                {if a.available { "available" } else { "unavailable" }}</span> }.into_any()
        }))}
        {live(move || error.get().map(|e| view! { <ErrorNotice error=e /> }))}
    }
}
