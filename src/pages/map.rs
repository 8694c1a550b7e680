//! The map editor: one map, its tabs, its draft. The draft lives in the page and in the URL fragment,
//! so the share link opens the same edits; validation runs here, through core, on every edit.

mod initial_sync;
mod preflight;
mod queue;

use dualwrite_core::access::Permission;
use dualwrite_core::api::{MapDoc, MapResource};
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::schema::Side;
use dualwrite_core::validation::Diagnostic;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;
use serde_json::Value;

use crate::api::{self, ApiError};
use crate::catalog::Catalog;
use crate::components::diagnostics::{field_index, DiagnosticList, DiagnosticSummary};
use crate::components::field_grid::{FieldEdit, FieldGrid};
use crate::components::filters::FilterEditor;
use crate::components::key_coverage::KeyCoverage;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::components::share::ShareLink;
use crate::components::status::StatusBadge;
use crate::components::transforms::TransformPane;
use crate::coverage::coverage;
use crate::draft;
use crate::pages::run::RunFlow;
use crate::route::{with_query, MapTab, Route};
use crate::session;

/// `/maps/{id}/{tab}`: one editor per map id (switching tabs keeps it, and its draft).
#[component]
pub fn MapPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let tab = Memo::new(move |_| params.with(|p| p.get("tab").map(|t| MapTab::from_slug(&t))));
    move || {
        let id = id.get();
        view! { <MapEditor id=id tab=tab /> }
    }
}

/// A map not saved yet.
fn blank() -> MapDoc {
    MapDoc {
        name: "New table map".into(),
        version: "1.0.0.0".into(),
        publisher: String::new(),
        description: String::new(),
        finops: String::new(),
        dataverse: String::new(),
        fields: Vec::new(),
        finops_filter: None,
        dataverse_filter: None,
    }
}

#[component]
fn MapEditor(id: String, tab: Memo<Option<Option<MapTab>>>) -> impl IntoView {
    let is_new = id == "new";
    let id = StoredValue::new(id);
    let location = use_location();
    let query = use_query_map();
    let navigate = use_navigate();

    // What the page loads: the map, and what it is validated against.
    let saved = LocalResource::new(move || async move {
        if is_new {
            Ok(None)
        } else {
            api::map(&id.get_value()).await.map(Some)
        }
    });
    let schema = LocalResource::new(api::schema);
    let keys = LocalResource::new(api::integration_keys);
    let maps = LocalResource::new(api::maps);
    let catalog = Memo::new(move |_| {
        let schema = schema.get().and_then(Result::ok);
        let keys = keys.get().and_then(Result::ok).unwrap_or_default();
        let maps: Vec<MapResource> =
            maps.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|m| m.resource).collect();
        Catalog::new(schema.as_ref(), &keys, &maps)
    });
    let catalog_ready =
        Memo::new(move |_| schema.get().is_some() && keys.get().is_some() && maps.get().is_some());

    // The draft: from the link's fragment when it carries one.
    let (initial, fragment_error) = match draft::decode(&location.hash.get_untracked()) {
        Some(Ok(doc)) => (Some(doc), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let draft: RwSignal<Option<MapDoc>> =
        RwSignal::new(if is_new { initial.or_else(|| Some(blank())) } else { initial });
    let saved_map = Memo::new(move |_| saved.get().and_then(Result::ok).flatten());
    let current = Memo::new(move |_| draft.get().or_else(|| saved_map.get().map(|m| m.map)));
    let status =
        Memo::new(move |_| saved_map.with(|m| m.as_ref().map_or(MapStatus::NotRunning, |m| m.status)));
    // Changing a map, and its lifecycle, is for the roles that design; everyone else reads it.
    let designer = Memo::new(move |_| session::may(Permission::Design));
    let editable = Memo::new(move |_| designer.get() && status.get().is_editable());
    // While the map moves on by itself (initial sync, catch-up), keep its status current.
    crate::poll::every(std::time::Duration::from_millis(1500), move || {
        if matches!(status.get_untracked(), MapStatus::Initializing | MapStatus::Resuming) {
            saved.refetch();
        }
    });
    let dirty = Memo::new(move |_| match draft.get() {
        None => false,
        Some(d) => saved_map.with(|m| m.as_ref().is_none_or(|m| m.map != d)),
    });
    let diagnostics = Memo::new(move |_| {
        current
            .with(|doc| doc.as_ref().map(|doc| catalog.with(|c| c.diagnose(Some(&id.get_value()), doc))))
            .unwrap_or_default()
    });
    let server_diagnostics: RwSignal<Option<Vec<Diagnostic>>> = RwSignal::new(None);
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);

    // The fragment that carries the draft, and the URL kept in step with it.
    let fragment = Memo::new(move |_| {
        if dirty.get() {
            draft.with(|d| d.as_ref().map(|d| format!("#{}", draft::encode(d)))).unwrap_or_default()
        } else {
            String::new()
        }
    });
    Effect::new(move |_| {
        let fragment = fragment.get();
        let Some(window) = web_sys::window() else { return };
        let location = window.location();
        if location.hash().unwrap_or_default() == fragment {
            return;
        }
        let url = format!(
            "{}{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default(),
            fragment
        );
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });

    // Selection, from the query string: `field` is the mapping's number as the grid shows it (1-based).
    let selected = Memo::new(move |_| {
        query.with(|q| q.get("field").and_then(|f| f.parse::<usize>().ok()).and_then(|n| n.checked_sub(1)))
    });
    let tab_now = Memo::new(move |_| tab.get().flatten().unwrap_or(MapTab::Mapping));
    let href = move |tab: MapTab, field: Option<usize>| {
        let path = Route::Map { id: id.get_value(), tab }.path();
        format!(
            "{}{}",
            with_query(path, &[("field", field.map(|f| (f + 1).to_string()).unwrap_or_default())]),
            fragment.get()
        )
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

    // Edits: the first one turns the saved map into a draft.
    let edit = move |f: Box<dyn FnOnce(&mut MapDoc)>| {
        let mut doc = draft.get_untracked().or_else(|| saved_map.get_untracked().map(|m| m.map));
        if let Some(doc) = doc.as_mut() {
            f(doc);
        }
        draft.set(doc);
    };
    let on_field_edit = {
        let go = go.clone();
        Callback::new(move |e: FieldEdit| {
            let mut doc = draft.get_untracked().or_else(|| saved_map.get_untracked().map(|m| m.map));
            let select = doc.as_mut().and_then(|d| e.apply(&mut d.fields));
            draft.set(doc);
            if select != selected.get_untracked() {
                go(MapTab::Mapping, select);
            }
        })
    };
    let on_pick = {
        let go = go.clone();
        Callback::new(move |path: String| match field_index(&path) {
            Some(i) => go(MapTab::Mapping, Some(i)),
            None if path.ends_with("_filter") => go(MapTab::Filters, None),
            None if path == "fields" || path == "dataverse" => go(MapTab::Keys, None),
            None => go(MapTab::Mapping, None),
        })
    };
    let on_select = {
        let go = go.clone();
        Callback::new(move |i: usize| {
            if selected.get_untracked() != Some(i) {
                go(MapTab::Mapping, Some(i));
            }
        })
    };

    // Actions.
    let reload = move || {
        saved.refetch();
        maps.refetch();
    };
    let save = {
        let navigate = navigate.clone();
        Callback::new(move |()| {
            let Some(doc) = draft.get_untracked() else { return };
            let navigate = navigate.clone();
            spawn_local(async move {
                let result = if is_new {
                    api::create_map(&doc).await
                } else {
                    api::update_map(&id.get_value(), &doc).await
                };
                match result {
                    Ok(saved_map) => {
                        let n = saved_map.diagnostics.len();
                        outcome.set(Some(Outcome::Done(format!(
                            "Saved version {}. The server's validation found {}.",
                            saved_map.resource.map.version,
                            if n == 0 {
                                "no problems".to_owned()
                            } else {
                                format!("{n} problem{}", if n == 1 { "" } else { "s" })
                            }
                        ))));
                        server_diagnostics.set(Some(saved_map.diagnostics));
                        draft.set(None);
                        if is_new {
                            navigate(
                                &Route::Map { id: saved_map.resource.id, tab: MapTab::Mapping }.path(),
                                Default::default(),
                            );
                        } else {
                            reload();
                        }
                    }
                    Err(e) => {
                        if !e.diagnostics.is_empty() {
                            server_diagnostics.set(Some(e.diagnostics.clone()));
                        }
                        outcome.set(Some(Outcome::Failed(e)));
                    }
                }
            });
        })
    };
    let discard = move |_| {
        draft.set(if is_new { Some(blank()) } else { None });
        outcome.set(Some(Outcome::Done("Draft discarded: this is the saved map.".into())));
    };
    let act = move |action: &'static str| {
        spawn_local(async move {
            let id = id.get_value();
            let result = match action {
                "stop" => api::stop(&id).await.map(drop),
                "pause" => api::pause(&id, false).await.map(drop),
                "skip" => api::skip_to_live(&id).await.map(drop),
                _ => api::resume(&id, dualwrite_core::lifecycle::ResumeMode::CatchUp).await.map(drop),
            };
            outcome.set(Some(Outcome::of(result, |_| format!("{action}: done"))));
            reload();
        });
    };
    let delete = {
        let navigate = navigate.clone();
        Callback::new(move |()| {
            let confirmed = web_sys::window()
                .and_then(|w| w.confirm_with_message("Delete this table map? This cannot be undone.").ok())
                .unwrap_or(false);
            if !confirmed {
                return;
            }
            let navigate = navigate.clone();
            spawn_local(async move {
                match api::delete_map(&id.get_value()).await {
                    Ok(()) => navigate(&Route::Maps.path(), Default::default()),
                    Err(e) => outcome.set(Some(Outcome::Failed(e))),
                }
            });
        })
    };
    let run = RunFlow::new();
    let run_done = Callback::new(move |result: Result<String, ApiError>| {
        outcome.set(Some(Outcome::of(result, |text| text)));
        reload();
    });

    // Derived views of the current document.
    let fields =
        Signal::derive(move || current.with(|d| d.as_ref().map(|d| d.fields.clone()).unwrap_or_default()));
    let text =
        move |f: fn(&MapDoc) -> String| move || current.with(|d| d.as_ref().map(f).unwrap_or_default());
    let choices = move |side: Side| {
        Signal::derive(move || {
            let table = current.with(|d| {
                d.as_ref()
                    .map(|d| if side == Side::Finops { d.finops.clone() } else { d.dataverse.clone() })
                    .unwrap_or_default()
            });
            catalog.with(|c| c.field_choices(side, &table))
        })
    };
    let selected_field = Signal::derive(move || {
        selected.get().and_then(|i| fields.with(|f| f.get(i).cloned().map(|f| (i, f))))
    });
    let key_coverage = Signal::derive(move || {
        current
            .with(|d| d.as_ref().map(|d| catalog.with(|c| coverage(c, d))))
            .unwrap_or_else(|| Err("loading".into()))
    });
    let error_count = Memo::new(move |_| diagnostics.with(|d| d.iter().filter(|d| d.is_error()).count()));

    let header_input = move |label: &'static str,
                             testid: &'static str,
                             list: &'static str,
                             get: fn(&MapDoc) -> String,
                             set: fn(&mut MapDoc, String)| {
        view! {
            <label class="meta-field">
                <span>{label}</span>
                <input type="text" data-testid=testid list=list prop:value=text(get) disabled=move || !editable.get()
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        edit(Box::new(move |d| set(d, v)));
                    } />
            </label>
        }
    };

    let body = move || {
        let grid_editable = Signal::derive(move || editable.get());
        match tab_now.get() {
            MapTab::Mapping => view! {
                <div class="mapping-layout">
                    <div class="mapping-main">
                        <FieldGrid fields=fields diagnostics=diagnostics selected=selected editable=grid_editable
                            finops_choices=choices(Side::Finops) dataverse_choices=choices(Side::Dataverse)
                            on_select=on_select on_edit=on_field_edit />
                    </div>
                    <TransformPane field=selected_field diagnostics=diagnostics editable=grid_editable
                        on_set=move |(i, list): (usize, Vec<Value>)| edit(Box::new(move |d| if let Some(f) = d.fields.get_mut(i) { f.transforms = list; })) />
                </div>
                <section class="panel" data-testid="diagnostics">
                    <h2>"Problems " <DiagnosticSummary diagnostics=diagnostics /></h2>
                    <DiagnosticList diagnostics=diagnostics on_pick=on_pick />
                </section>
            }
            .into_any(),
            MapTab::Filters => view! {
                <div class="filters">
                    <FilterEditor label="Finance and operations filter (query range)" path="finops_filter"
                        hint="== != < <= > >=, && || !, like \"A*\", Enum::Value, dates dd\\mm\\yyyy, parentheses. Example: ((PartyType == \"Organization\"))"
                        value=Signal::derive(text(|d| d.finops_filter.clone().unwrap_or_default()))
                        diagnostics=diagnostics editable=grid_editable
                        on_change=move |v: String| edit(Box::new(move |d| d.finops_filter = (!v.trim().is_empty()).then_some(v))) />
                    <FilterEditor label="Dataverse filter (OData $filter)" path="dataverse_filter"
                        hint="eq ne gt ge lt le, and or not, parentheses, 'text', numbers, true/false, null; no nested lookups, no contains. Example: customertypecode eq 3"
                        value=Signal::derive(text(|d| d.dataverse_filter.clone().unwrap_or_default()))
                        diagnostics=diagnostics editable=grid_editable
                        on_change=move |v: String| edit(Box::new(move |d| d.dataverse_filter = (!v.trim().is_empty()).then_some(v))) />
                </div>
            }
            .into_any(),
            MapTab::Keys => view! {
                <KeyCoverage coverage=key_coverage fields=fields on_pick=Callback::new(move |i| on_select.run(i)) />
                <p class="muted">"Keys are set per Dataverse table on the "
                    <a href=Route::IntegrationKeys.path()>"integration keys"</a> " page."</p>
            }
            .into_any(),
            MapTab::Validation => view! {
                <section class="panel" data-testid="diagnostics">
                    <h2>"In the studio " <DiagnosticSummary diagnostics=diagnostics /></h2>
                    <p class="muted">"Checked on every edit, by the same code the server runs."</p>
                    <DiagnosticList diagnostics=diagnostics on_pick=on_pick />
                </section>
                {move || server_diagnostics.get().map(|d| view! {
                    <section class="panel" data-testid="server-diagnostics">
                        <h2>"From the server, at the last save"</h2>
                        <DiagnosticList diagnostics=Signal::stored(d) on_pick=on_pick />
                    </section>
                })}
            }
            .into_any(),
            MapTab::InitialSync => view! { <initial_sync::InitialSyncTab id=id.get_value() status=status /> }.into_any(),
            MapTab::Queue => view! { <queue::QueueTab id=id.get_value() status=status on_change=Callback::new(move |()| reload()) /> }.into_any(),
            MapTab::Preflight => view! { <preflight::PreflightTab id=id.get_value() /> }.into_any(),
        }
    };

    let ready = Memo::new(move |_| current.with(Option::is_some) && catalog_ready.get());
    let load_error = move || saved.get().and_then(Result::err);
    // Marks the moment the editor can be used, for measurements of start-up time.
    Effect::new(move |_| {
        if ready.get() {
            if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                let _ = p.mark("map-editor-ready");
            }
        }
    });

    view! {
        <section class="page map-page" on:keydown=move |ev| {
            // Ctrl+S / ⌘S saves the draft, as in any editor.
            if (ev.ctrl_key() || ev.meta_key()) && ev.key() == "s" {
                ev.prevent_default();
                if dirty.get_untracked() && editable.get_untracked() {
                    save.run(());
                }
            }
        }>
            <nav class="crumbs"><a href=Route::Maps.path()>"Table maps"</a>" / "</nav>
            {fragment_error.map(|e| view! { <p class="notice error">"The link's unsaved edits could not be opened: " {e}</p> })}
            {move || load_error().map(|e| view! { <ErrorNotice error=e /> })}
            <Show when=move || ready.get() fallback=move || view! { <p class="muted" data-testid="loading">"Loading the map…"</p> }>
                <div class="page-head">
                    <h1 data-testid="map-name">{text(|d| d.name.clone())}</h1>
                    {if is_new {
                        view! { <span class="badge status-not_running">"Not saved yet"</span> }.into_any()
                    } else {
                        view! { <StatusBadge status=status /> }.into_any()
                    }}
                    <Show when=move || dirty.get()>
                        <span class="badge draft" data-testid="draft-badge" title="Edits not saved yet; they travel in the link">"Unsaved draft"</span>
                    </Show>
                </div>
                <datalist id="finops-tables">
                    {move || catalog.with(|c| c.tables(Side::Finops)).into_iter().map(|t| view! { <option value=t></option> }).collect_view()}
                </datalist>
                <datalist id="dataverse-tables">
                    {move || catalog.with(|c| c.tables(Side::Dataverse)).into_iter().map(|t| view! { <option value=t></option> }).collect_view()}
                </datalist>
                <div class="meta">
                    {header_input("Name", "map-name-input", "", |d| d.name.clone(), |d, v| d.name = v)}
                    {header_input("Version", "map-version", "", |d| d.version.clone(), |d, v| d.version = v)}
                    {header_input("Publisher", "map-publisher", "", |d| d.publisher.clone(), |d, v| d.publisher = v)}
                    {header_input("Finance and operations entity", "map-finops", "finops-tables", |d| d.finops.clone(), |d, v| d.finops = v)}
                    {header_input("Dataverse table", "map-dataverse", "dataverse-tables", |d| d.dataverse.clone(), |d, v| d.dataverse = v)}
                </div>
                <div class="toolbar" role="toolbar" aria-label="map actions">
                    <Show when=move || designer.get()>
                        <button type="button" class="primary" data-testid="save" title="Save (Ctrl+S)" disabled=move || !dirty.get() || !editable.get() on:click=move |_| save.run(())>
                            {move || if error_count.get() > 0 { "Save as draft" } else { "Save" }}
                        </button>
                    </Show>
                    <button type="button" data-testid="discard" disabled=move || !dirty.get() on:click=discard>"Discard"</button>
                    <ShareLink url=share_url />
                    <span class="spacer"></span>
                    {move || designer.get().then(|| {
                        let s = status.get();
                        let persisted = !is_new;
                        view! {
                            <Show when=move || persisted && s == MapStatus::NotRunning>
                                <button type="button" data-testid="run" disabled=move || dirty.get()
                                    title="Save the draft before running"
                                    on:click=move |_| run.start(vec![id.get_value()])>"Run…"</button>
                                <button type="button" class="danger" data-testid="delete" on:click=move |_| delete.run(())>"Delete"</button>
                            </Show>
                            <Show when=move || s == MapStatus::Running>
                                <button type="button" data-testid="pause" on:click=move |_| act("pause")>"Pause"</button>
                            </Show>
                            <Show when=move || s == MapStatus::Paused>
                                <button type="button" data-testid="resume" on:click=move |_| act("resume")>"Resume"</button>
                            </Show>
                            <Show when=move || s == MapStatus::Resuming>
                                <button type="button" data-testid="skip-to-live" on:click=move |_| act("skip")>"Skip to live"</button>
                            </Show>
                            <Show when=move || matches!(s, MapStatus::Running | MapStatus::Paused)>
                                <button type="button" data-testid="stop" on:click=move |_| act("stop")>"Stop"</button>
                            </Show>
                        }
                    })}
                </div>
                {move || match (designer.get(), editable.get()) {
                    (_, true) => None,
                    (false, _) => Some(view! {
                        <p class="notice" data-testid="not-editable" data-reason="role">"You are signed in as "
                            {session::current().map(|s| s.role.as_str())}
                            ": you can read this map and share links to it, not change or run it."</p>
                    }.into_any()),
                    (true, false) => Some(view! {
                        <p class="notice" data-testid="not-editable" data-reason="status">"This map is "
                            {status.get().as_str().replace('_', " ")} ": stop it to edit its definition."</p>
                    }.into_any()),
                }}
                <OutcomeNotice outcome=outcome />
                <nav class="tabs" role="tablist" aria-label="map views">
                    {MapTab::ALL
                        .into_iter()
                        .filter(|t| !is_new || t.edits_definition())
                        .map(|t| view! {
                            <a role="tab" href=move || href(t, selected.get()) data-testid=format!("tab-{}", t.slug())
                                aria-selected=move || (tab_now.get() == t).to_string() class:active=move || tab_now.get() == t>
                                {t.label()}
                                {(t == MapTab::Validation).then(|| view! {
                                    <span class="count" class:bad=move || { error_count.get() > 0 }>{move || error_count.get()}</span>
                                })}
                            </a>
                        })
                        .collect_view()}
                </nav>
                <div class="tab-body">{body}</div>
            </Show>
            {run.view(run_done)}
        </section>
    }
}
