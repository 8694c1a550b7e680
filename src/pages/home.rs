use leptos::prelude::*;

use crate::api;

/// The landing page: what this studio is connected to.
#[component]
pub fn HomePage() -> impl IntoView {
    let health = LocalResource::new(api::health);
    view! {
        <section class="page">
            <h1>"dualwrite studio"</h1>
            <p>"Keep finance and operations and Dataverse in step, row by row."</p>
            <Suspense fallback=|| view! { <p class="muted">"Connecting to the server…"</p> }>
                {move || health.get().map(|result| match result {
                    Ok(h) => view! {
                        <p>"Server " <strong data-testid="server-version">{h.version}</strong> " is " {h.status}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="error" data-testid="server-error">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
