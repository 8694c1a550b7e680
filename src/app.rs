//! The shell: header, navigation and the routes.

use leptos::prelude::*;
use leptos_router::components::{Route as RouteView, Router, Routes, A};
use leptos_router::path;

use crate::pages::{home::HomePage, maps::MapsPage, not_found::NotFound};
use crate::route::Route;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="top">
                <A href=Route::Home.path() attr:class="brand">"dualwrite"</A>
                <nav>
                    <A href=Route::Maps.path()>"Table maps"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=|| view! { <NotFound /> }>
                    <RouteView path=path!("/") view=HomePage />
                    <RouteView path=path!("/maps") view=MapsPage />
                </Routes>
            </main>
        </Router>
    }
}
