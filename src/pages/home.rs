use leptos::prelude::*;

use crate::api;
use crate::components::live;
use crate::fetched::Fetched;
use crate::route::Route;

/// The landing page: what this studio is connected to, and where to go.
#[component]
pub fn HomePage() -> impl IntoView {
    let health = Fetched::new(api::health);
    view! {
        <section class="page">
            <h1>"dualwrite studio"</h1>
            <p>"Keep finance and operations and Dataverse in step, row by row."</p>
            {live(move || health.get().map(|result| match result {
                Ok(h) => view! {
                    <p>"Server " <strong data-testid="server-version">{h.version}</strong> " is " {h.status}</p>
                }.into_any(),
                Err(e) => view! { <p class="error" data-testid="server-error">{e.to_string()}</p> }.into_any(),
            }))}
            <ul class="cards">
                <li><a href=Route::Maps.path()>"Table maps"</a><span class="muted">"edit, validate, run, pause and resume"</span></li>
                <li><a href=Route::IntegrationKeys.path()>"Integration keys"</a><span class="muted">"how rows find their twins"</span></li>
                <li><a href=Route::Tables { side: dualwrite_core::schema::Side::Finops }.path()>"Data"</a><span class="muted">"browse and write rows, see the twin writes"</span></li>
                <li><a href=Route::Alerts.path()>"Alerts"</a><span class="muted">"act on a map when errors pile up"</span></li>
                <li><a href=Route::Import.path()>"Import and export"</a><span class="muted">"packages and msdyn_mapping"</span></li>
            </ul>
        </section>
    }
}
