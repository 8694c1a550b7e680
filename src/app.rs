//! The shell: header, navigation, the routes, and the sign-in panel in their place while nobody is
//! signed in.

use dualwrite_core::access::Permission;
use dualwrite_core::schema::Side;
use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Redirect, Route as RouteView, Router, A};
use leptos_router::hooks::{use_location, use_params_map};
use leptos_router::path;

use crate::components::live;
use crate::pages::{
    alerts::AlertsPage,
    home::HomePage,
    import::ImportPage,
    integration_keys::IntegrationKeysPage,
    load::LoadPage,
    map::MapPage,
    maps::MapsPage,
    not_found::NotFound,
    sign_in::{SignInPage, SignInPanel},
    table::TablePage,
    tokens::TokensPage,
};
use crate::route::{MapTab, Route};
use crate::session::{self, Phase};

#[component]
pub fn App() -> impl IntoView {
    session::start();
    view! {
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="top">
                <A href=Route::Home.path() attr:class="brand">"dualwrite"</A>
                <Show when=move || session::phase() == Phase::SignedIn>
                    <nav aria-label="main">
                        <A href=Route::Maps.path()>"Table maps"</A>
                        <A href=Route::IntegrationKeys.path()>"Integration keys"</A>
                        <A href=Route::Tables { side: Side::Finops }.path()>"Data"</A>
                        <A href=Route::Alerts.path()>"Alerts"</A>
                        <A href=Route::Import.path()>"Import / export"</A>
                        <Show when=move || session::may(Permission::ManageTokens)>
                            <A href=Route::Tokens.path() attr:data-testid="nav-tokens">"Tokens"</A>
                        </Show>
                    </nav>
                </Show>
                <SessionBadge />
            </header>
            <main id="main">
                <Shell />
            </main>
        </Router>
    }
}

/// Who is signed in, and the way out.
#[component]
fn SessionBadge() -> impl IntoView {
    live(move || {
        session::current().map(|s| {
            view! {
                <div class="who">
                    <span data-testid="session-user" data-role=s.role.as_str()>
                        <span class="who-name">{s.name}</span>
                        " "
                        <span class=format!("badge role role-{}", s.role.as_str()) data-testid="session-role">{s.role.as_str()}</span>
                    </span>
                    <button type="button" data-testid="sign-out" on:click=move |_| session::sign_out()>"Sign out"</button>
                </div>
            }
        })
    })
}

/// The sign-in page at `/sign-in`; elsewhere the routes once signed in, the sign-in panel until then.
#[component]
fn Shell() -> impl IntoView {
    let location = use_location();
    let on_sign_in = Memo::new(move |_| location.pathname.get() == Route::SignIn.path());
    let phase = Memo::new(move |_| session::phase());
    // The sign-in page stays put while it signs in (it then opens the next view itself).
    live(move || {
        if on_sign_in.get() {
            return view! { <SignInPage /> }.into_any();
        }
        match phase.get() {
            Phase::SignedIn => view! { <AppRoutes /> }.into_any(),
            Phase::SignedOut => view! { <SignInPanel /> }.into_any(),
            Phase::Checking => checking().into_any(),
        }
    })
}

fn checking() -> impl IntoView {
    view! { <p class="muted" role="status" data-testid="session-checking">"Checking your sign-in…"</p> }
}

/// The routes are one flat list, so `FlatRoutes` holds them (smaller than the nested router). It keeps
/// a route's own URL only while the path stays, so pages read the query from `use_location()`, which
/// follows every navigation, never from `use_query_map()`.
#[component]
fn AppRoutes() -> impl IntoView {
    view! {
        <FlatRoutes fallback=|| view! { <NotFound /> }>
            <RouteView path=path!("/") view=HomePage />
            <RouteView path=path!("/maps") view=MapsPage />
            <RouteView path=path!("/maps/:id") view=MapRedirect />
            <RouteView path=path!("/maps/:id/:tab") view=MapPage />
            <RouteView path=path!("/integration-keys") view=IntegrationKeysPage />
            <RouteView path=path!("/envs/:side/tables") view=TablePage />
            <RouteView path=path!("/envs/:side/tables/:table") view=TablePage />
            <RouteView path=path!("/envs/:side/load") view=LoadPage />
            <RouteView path=path!("/alerts") view=AlertsPage />
            <RouteView path=path!("/import") view=ImportPage />
            <RouteView path=path!("/tokens") view=TokensPage />
        </FlatRoutes>
    }
}

/// `/maps/{id}` opens the map's first tab.
#[component]
fn MapRedirect() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    view! { <Redirect path=Route::Map { id, tab: MapTab::Mapping }.path() /> }
}
