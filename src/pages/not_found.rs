use leptos::prelude::*;

use crate::route::Route;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Nothing here"</h1>
            <p>"This address names no view of the studio. " <a href=Route::Maps.path()>"Go to the table maps"</a></p>
        </section>
    }
}
