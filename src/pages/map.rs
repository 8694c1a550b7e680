//! The map editor: one map, its tabs, its draft. The draft lives in the page and in the URL fragment,
//! so the share link opens the same edits; validation runs here, through core, on every edit.
//! `state` holds the map, the draft and the actions; the other modules are the editor's parts.

mod filters;
mod header;
mod initial_sync;
mod keys;
mod mapping;
mod preflight;
mod queue;
mod state;
mod tabs;
mod toolbar;
mod validation;

use dualwrite_core::schema::Side;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use crate::api::ApiError;
use crate::components::diagnostics::field_index;
use crate::components::field_grid::FieldEdit;
use crate::components::live;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::pages::run::RunFlow;
use crate::route::{with_query, MapTab, Route};
use state::EditorState;

/// `/maps/{id}/{tab}`: one editor per map id (switching tabs keeps it, and its draft).
#[component]
pub fn MapPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let tab = Memo::new(move |_| params.with(|p| p.get("tab").map(|t| MapTab::from_slug(&t))));
    live(move || {
        let id = id.get();
        view! { <MapEditor id=id tab=tab /> }
    })
}

#[component]
fn MapEditor(id: String, tab: Memo<Option<Option<MapTab>>>) -> impl IntoView {
    let location = use_location();
    let query = use_location().query;
    let navigate = use_navigate();
    let (map, fragment_error) = EditorState::new(id, &location.hash.get_untracked());
    let (id, is_new, fragment) = (map.id, map.is_new, map.fragment);
    crate::poll::every(std::time::Duration::from_millis(1500), move || map.refresh_while_moving());
    state::keep_in_url(fragment);

    // Selection, from the query string: `field` is the mapping's number as the grid shows it (1-based).
    let selected = Memo::new(move |_| {
        query.with(|q| q.get("field").and_then(|f| f.parse::<usize>().ok()).and_then(|n| n.checked_sub(1)))
    });
    let tab_now = Memo::new(move |_| tab.get().flatten().unwrap_or(MapTab::Mapping));
    let href = move |tab: MapTab, field: Option<usize>| {
        let path = Route::Map { id: id.get_value(), tab }.path();
        let field = field.map(|f| (f + 1).to_string()).unwrap_or_default();
        format!("{}{}", with_query(path, &[("field", field)]), fragment.get())
    };
    let go = {
        let navigate = navigate.clone();
        move |tab: MapTab, field: Option<usize>| {
            navigate(
                &href(tab, field),
                NavigateOptions { replace: true, scroll: false, ..Default::default() },
            );
        }
    };
    let share_url = Signal::derive(move || {
        let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
        let search = location.search.get();
        let search = if search.is_empty() || search.starts_with('?') { search } else { format!("?{search}") };
        format!("{origin}{}{search}{}", location.pathname.get(), fragment.get())
    });

    let on_field_edit = Callback::new({
        let go = go.clone();
        move |e: FieldEdit| {
            let select = map.edit(|d| e.apply(&mut d.fields)).flatten();
            if select != selected.get_untracked() {
                go(MapTab::Mapping, select);
            }
        }
    });
    let on_pick = Callback::new({
        let go = go.clone();
        move |path: String| match field_index(&path) {
            Some(i) => go(MapTab::Mapping, Some(i)),
            None if path.ends_with("_filter") => go(MapTab::Filters, None),
            None if path == "fields" || path == "dataverse" => go(MapTab::Keys, None),
            None => go(MapTab::Mapping, None),
        }
    });
    let on_select = Callback::new(move |i: usize| {
        if selected.get_untracked() != Some(i) {
            go(MapTab::Mapping, Some(i));
        }
    });
    let save = Callback::new({
        let navigate = navigate.clone();
        move |()| {
            let navigate = navigate.clone();
            map.save(move |path| navigate(&path, Default::default()));
        }
    });
    let delete = Callback::new(move |()| {
        let navigate = navigate.clone();
        map.delete(move || navigate(&Route::Maps.path(), Default::default()));
    });
    let run = RunFlow::new();
    let run_done = Callback::new(move |result: Result<String, ApiError>| {
        map.outcome.set(Some(Outcome::of(result, |text| text)));
        map.reload();
    });

    let editable = Signal::derive(move || map.editable.get());
    let body = live(move || {
        match tab_now.get() {
        MapTab::Mapping => view! {
            <mapping::MappingTab fields=map.fields() diagnostics=map.diagnostics selected=selected editable=editable
                finops_choices=map.choices(Side::Finops) dataverse_choices=map.choices(Side::Dataverse)
                on_select=on_select on_edit=on_field_edit on_pick=on_pick
                on_transforms=move |(i, list): (usize, Vec<serde_json::Value>)| { map.edit(|d| if let Some(f) = d.fields.get_mut(i) { f.transforms = list; }); } />
        }.into_any(),
        MapTab::Filters => view! {
            <filters::FiltersTab editable=editable diagnostics=map.diagnostics
                finops_filter=map.text(|d| d.finops_filter.clone().unwrap_or_default())
                dataverse_filter=map.text(|d| d.dataverse_filter.clone().unwrap_or_default())
                on_change=move |(side, v): (Side, String)| {
                    let v = (!v.trim().is_empty()).then_some(v);
                    map.edit(|d| *if side == Side::Finops { &mut d.finops_filter } else { &mut d.dataverse_filter } = v);
                } />
        }.into_any(),
        MapTab::Keys => view! { <keys::KeysTab coverage=map.key_coverage() fields=map.fields() on_pick=on_select /> }.into_any(),
        MapTab::Validation => view! {
            <validation::ValidationTab diagnostics=map.diagnostics server_diagnostics=map.server_diagnostics on_pick=on_pick />
        }.into_any(),
        MapTab::InitialSync => view! { <initial_sync::InitialSyncTab id=id.get_value() status=map.status /> }.into_any(),
        MapTab::Queue => view! { <queue::QueueTab id=id.get_value() status=map.status on_change=Callback::new(move |()| map.reload()) /> }.into_any(),
        MapTab::Preflight => view! { <preflight::PreflightTab id=id.get_value() /> }.into_any(),
    }
    });

    let ready = Memo::new(move |_| map.current.with(Option::is_some) && map.catalog_ready.get());
    state::mark_when_ready(ready);
    view! {
        <section class="page map-page" on:keydown=move |ev| {
            // Ctrl+S / ⌘S saves the draft, as in any editor.
            if (ev.ctrl_key() || ev.meta_key()) && ev.key() == "s" {
                ev.prevent_default();
                if map.dirty.get_untracked() && map.editable.get_untracked() {
                    save.run(());
                }
            }
        }>
            <nav class="crumbs"><a href=Route::Maps.path()>"Table maps"</a>" / "</nav>
            {fragment_error.map(|e| view! { <p class="notice error">"The link's unsaved edits could not be opened: " {e}</p> })}
            {live(move || map.load_error().map(|e| view! { <ErrorNotice error=e /> }))}
            <Show when=move || ready.get() fallback=move || view! { <p class="muted" data-testid="loading">"Loading the map…"</p> }>
                <header::MapHeader name=map.text(|d| d.name.clone()) is_new=is_new status=map.status dirty=map.dirty />
                <header::MetaFields doc=map.current editable=editable
                    finops_tables=Signal::derive(move || map.catalog.with(|c| c.tables(Side::Finops)))
                    dataverse_tables=Signal::derive(move || map.catalog.with(|c| c.tables(Side::Dataverse)))
                    on_input=move |(m, v): (header::Meta, String)| { map.edit(|d| m.set(d, v)); } />
                <toolbar::MapToolbar is_new=is_new status=map.status designer=map.designer editable=editable
                    dirty=map.dirty error_count=map.error_count share_url=share_url
                    on_save=save on_discard=move |()| map.discard() on_delete=delete
                    on_run=move |()| run.start(vec![id.get_value()]) on_act=move |a| map.act(a) />
                <toolbar::ReadOnlyNotice status=map.status designer=map.designer editable=editable />
                <OutcomeNotice outcome=map.outcome />
                <tabs::MapTabs is_new=is_new current=tab_now error_count=map.error_count
                    href=move |t| href(t, selected.get()) />
                <div class="tab-body">{body.clone()}</div>
            </Show>
            {run.view(run_done)}
        </section>
    }
}
