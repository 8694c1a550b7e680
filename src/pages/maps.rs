use leptos::prelude::*;

/// The table maps list.
#[component]
pub fn MapsPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1 data-testid="maps-title">"Table maps"</h1>
        </section>
    }
}
