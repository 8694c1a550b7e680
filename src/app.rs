//! The shell: header, navigation and the routes.

use dualwrite_core::schema::Side;
use leptos::prelude::*;
use leptos_router::components::{Redirect, Route as RouteView, Router, Routes, A};
use leptos_router::hooks::use_params_map;
use leptos_router::path;

use crate::pages::{
    alerts::AlertsPage, home::HomePage, import::ImportPage, integration_keys::IntegrationKeysPage,
    map::MapPage, maps::MapsPage, not_found::NotFound, table::TablePage,
};
use crate::route::{MapTab, Route};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="top">
                <A href=Route::Home.path() attr:class="brand">"dualwrite"</A>
                <nav aria-label="main">
                    <A href=Route::Maps.path()>"Table maps"</A>
                    <A href=Route::IntegrationKeys.path()>"Integration keys"</A>
                    <A href=Route::Tables { side: Side::Finops }.path()>"Data"</A>
                    <A href=Route::Alerts.path()>"Alerts"</A>
                    <A href=Route::Import.path()>"Import / export"</A>
                </nav>
            </header>
            <main id="main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <RouteView path=path!("/") view=HomePage />
                    <RouteView path=path!("/maps") view=MapsPage />
                    <RouteView path=path!("/maps/:id") view=MapRedirect />
                    <RouteView path=path!("/maps/:id/:tab") view=MapPage />
                    <RouteView path=path!("/integration-keys") view=IntegrationKeysPage />
                    <RouteView path=path!("/envs/:side/tables") view=TablePage />
                    <RouteView path=path!("/envs/:side/tables/:table") view=TablePage />
                    <RouteView path=path!("/alerts") view=AlertsPage />
                    <RouteView path=path!("/import") view=ImportPage />
                </Routes>
            </main>
        </Router>
    }
}

/// `/maps/{id}` opens the map's first tab.
#[component]
fn MapRedirect() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    view! { <Redirect path=Route::Map { id, tab: MapTab::Mapping }.path() /> }
}
